"""The `advref` command line: one subcommand per module in advref.cli.

Results go to stdout (a table, or JSON with --json); progress goes to stderr.
Bad arguments and data errors exit with status 2 and a one-line message.
Each command runs with freed memory kept for reuse (advref._allocator): the
same numbers, without a page fault for every page of every large array.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading

from advref._allocator import retain_freed_memory
from advref._validation import MissingDependency

COMMANDS = ("data", "train", "gradcheck", "attacks", "show", "reproduce", "bench", "vectors")


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


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised as an exception so that every `finally` and atomic write
    cleans up (the default action would end the process on the spot)."""


def _terminate(signum, frame):
    raise Terminated("terminated (SIGTERM)")


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    retain_freed_memory()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args.run(args) or 0)
    except (ValueError, TypeError, OSError, MissingDependency) as err:
        print(f"advref {args.command}: error: {err}", file=sys.stderr)
        return 2
    except Terminated as err:
        print(f"advref {args.command}: {err}", file=sys.stderr)
        return 143
    except KeyboardInterrupt as err:
        print(f"advref {args.command}: {err or 'interrupted'}", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
