"""`make bench`: every benchmark, printed as a table of figures and ratios."""

from __future__ import annotations

import importlib
import sys

from rich.console import Console
from rich.table import Table

SUITES = ["ingest", "latency", "export", "elicitation", "pickups", "quality"]


def show(name: str, figures: dict) -> None:
    table = Table(title=name, box=None, show_header=False)
    for k, v in figures.items():
        table.add_row(k, f"{v:,.2f}" if isinstance(v, float) else str(v))
    Console().print(table)


def main(argv: list[str]) -> None:
    for name in argv or SUITES:
        module = importlib.import_module(f"bench.{name}")
        show(name, module.run())


if __name__ == "__main__":
    main(sys.argv[1:])
