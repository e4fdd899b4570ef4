"""`python -m knowledge.cli`: the same as the `tacit` command."""

from knowledge.cli import main

main()
