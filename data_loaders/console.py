"""STDERR: the default `log` of every function that reports progress.

A default of `log=sys.stderr` is bound once, when the module is imported, so
later redirections (contextlib.redirect_stderr, pytest's capsys, a notebook
that swaps sys.stderr) would never see the lines. STDERR looks sys.stderr up
at each write instead. Pass log=None for silence, or any file-like object.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TextIO


class _CurrentStderr:
    """A file-like object that writes to whatever sys.stderr is at the time."""

    def write(self, text):
        return sys.stderr.write(text)

    def flush(self):
        sys.stderr.flush()

    def __repr__(self):
        return "STDERR (the current sys.stderr)"


STDERR = _CurrentStderr()


class Prefixed:
    """A file-like object that writes each line to `stream` behind `prefix`, so the
    lines of processes that share one stderr say whose they are."""

    def __init__(self, stream: TextIO, prefix: str) -> None:
        self.stream, self.prefix, self.pending = stream, prefix, ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self.stream.write(f"{self.prefix}{line}\n")
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

