"""The `advref` command line: one module per command, wired up in parser.py."""

from .parser import main

__all__ = ["main"]
