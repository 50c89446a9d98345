"""A one-line progress display for long runs, on a terminal only, drawn by tqdm.

Feeds stream, so the total is unknown until the end: the line shows rows read,
the rate and the elapsed time. tqdm draws at most ``1 / interval`` times a
second and only once a run has lasted ``delay`` seconds, and erases the line at
the end, so short runs stay clean; piped stderr (logs, CI) gets no line at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm


class ProgressLine:
    """Call it with the number of rows read so far; ``close()`` erases the line."""

    def __init__(self, stream: TextIO, *, label: str = "rows", interval: float = 0.1,
                 delay: float = 0.5, clock: Callable[[], float] = time.monotonic) -> None:
        self._bar = tqdm(file=stream, unit="", unit_scale=True, mininterval=interval,
                         miniters=1, delay=delay, leave=False, dynamic_ncols=True,
                         bar_format="{n:,} " + label + "  {rate_noinv_fmt}  {elapsed}")
        self._bar._time = clock  # tqdm reads its clock from here; the tests give a fake one
        self._bar.start_t = self._bar.last_print_t = clock()

    def __call__(self, rows: int) -> None:
        self._bar.update(rows - self._bar.n)

    def close(self) -> None:
        """Erase the line so the summary that follows starts clean."""
        self._bar.close()


def progress_for(stream: TextIO, *, enabled: bool = True, label: str = "rows") -> ProgressLine | None:
    """A progress line on ``stream`` when it is a terminal; ``None`` (no cost at all) otherwise."""
    if not enabled:
        return None
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real file
        tty = False
    return ProgressLine(stream, label=label) if tty else None
