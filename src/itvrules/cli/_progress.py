"""A one-line progress display for long runs, on a terminal only.

Feeds stream, so the total is unknown until the end: the line shows rows read,
the rate and the elapsed time, with a spinner so a stalled run is visible. It
draws at most ``1 / interval`` times a second and only once a run has lasted
``delay`` seconds, so short runs and piped stderr (logs, CI) stay clean.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

_SPINNER = "|/-\\"
_CLEAR = "\x1b[K"  # erase to the end of the line


class ProgressLine:
    """Call it with the number of rows read so far; ``close()`` erases the line."""

    def __init__(self, stream: TextIO, *, label: str = "rows", interval: float = 0.1,
                 delay: float = 0.5, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._label = label
        self._interval = interval
        self._clock = clock
        self._start = clock()
        self._next = self._start + delay
        self._frame = 0
        self.draws = 0

    def __call__(self, rows: int) -> None:
        now = self._clock()
        if now < self._next:
            return
        self._next = now + self._interval
        elapsed = now - self._start
        rate = rows / elapsed if elapsed > 0 else 0.0
        minutes, seconds = divmod(int(elapsed), 60)
        spin = _SPINNER[self._frame % len(_SPINNER)]
        self._frame += 1
        self._stream.write(f"\r{spin} {rows:,} {self._label}  {rate:,.0f}/s  "
                           f"{minutes}:{seconds:02d}{_CLEAR}")
        self._stream.flush()
        self.draws += 1

    def close(self) -> None:
        """Erase the line so the summary that follows starts clean."""
        if self.draws:
            self._stream.write(f"\r{_CLEAR}")
            self._stream.flush()


def progress_for(stream: TextIO, *, enabled: bool = True, label: str = "rows") -> ProgressLine | None:
    """A progress line on ``stream`` when it is a terminal; ``None`` (no cost at all) otherwise."""
    if not enabled:
        return None
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real file
        tty = False
    return ProgressLine(stream, label=label) if tty else None
