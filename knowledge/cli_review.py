"""`tacit` commands for review (registered by knowledge/cli.py)."""

import click

COMMANDS: list[click.Command] = []
