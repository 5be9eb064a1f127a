"""The `advref` command line: one subcommand per module in advref.cli.

Results go to stdout (a table, or JSON with --json); progress goes to stderr.
Bad arguments and data errors exit with status 2 and a one-line message.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("data", "train", "gradcheck", "attacks", "reproduce", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="advref",
        description="Adversarial examples in pure NumPy: a reference implementation of "
                    "Goodfellow, Shlens & Szegedy (ICLR 2015).")
    from advref import __version__

    parser.add_argument("--version", action="version", version=f"advref {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"advref.cli.{name}").register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (ValueError, TypeError, OSError) as err:
        print(f"advref {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        print(f"advref {args.command}: {err or 'interrupted'}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
