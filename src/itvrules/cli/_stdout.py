"""Standard output closed before the command started (``itvrules ... >&-``).

Python then has no ``sys.stdout`` at all, and a command that writes to it
would fail deep inside with an AttributeError. Here a stand-in takes its
place whose first write raises ``StdoutClosed``: a command that writes
only to files runs as usual, one that needs standard output stops with one
line (status 1) before it writes a row, and its part files are removed.
"""

from __future__ import annotations

import errno
import io
import sys
from typing import Any

from .._errors import ItvRulesError


class StdoutClosed(ItvRulesError, OSError):
    """Standard output is closed, and the command has something to write to it.

    An ``OSError`` (EBADF) too, as writing to a closed descriptor is, so code that
    tolerates a failed write (argparse's ``--help``) tolerates this one.
    """

    def __init__(self) -> None:
        super().__init__(errno.EBADF, "standard output is closed, so nothing can be written to "
                         "it: give a file with -o FILE, or send the output to /dev/null (> /dev/null)")

    def __str__(self) -> str:
        return str(self.strerror)


class _ClosedBytes(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        raise StdoutClosed()


class _ClosedText(io.TextIOBase):
    """Where ``sys.stdout`` points when the process started without one."""

    def __init__(self) -> None:
        self.buffer = _ClosedBytes()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not text:
            return 0
        raise StdoutClosed()

    def isatty(self) -> bool:
        return False


def stand_in_for_closed_stdout() -> None:
    """Put the stand-in in place when the process has no standard output."""
    if sys.stdout is None:
        sys.stdout = _ClosedText()
