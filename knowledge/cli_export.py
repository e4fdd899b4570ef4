"""`tacit` commands for export (registered by knowledge/cli.py)."""

import click

COMMANDS: list[click.Command] = []
