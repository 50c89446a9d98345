"""SIGTERM and SIGHUP stop a command the way Ctrl-C does.

Python's default for those signals ends the process on the spot, leaving a
half-written part file behind and no word on stderr. While a command runs,
they raise ``Stopped`` instead (a ``KeyboardInterrupt``, so every
clean-up that serves Ctrl-C serves them): part files are removed, ledger
transactions roll back, and ``main`` prints one line and exits 128 + the
signal's number, as a shell reports a process the signal ended. Only the
command line installs these handlers, and only while it runs; a signal the
caller ignores (``nohup`` ignores SIGHUP) stays ignored.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: The signals that stop a command, where the platform has them.
STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
                     if s is not None)


class Stopped(KeyboardInterrupt):
    """A command was asked to stop by ``signum`` (SIGTERM, SIGHUP)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def status(self) -> int:
        """The exit status a shell shows for a process this signal ended: 128 + its number."""
        return 128 + self.signum


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise ``Stopped``; then the old handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (a program calling main() from a thread)
        return
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        if stopping:
            return  # a second signal while cleaning up: let the clean-up finish
        stopping = True
        raise Stopped(signum)

    previous = {}
    for signum in STOP_SIGNALS:
        handler = signal.getsignal(signum)
        if handler is signal.SIG_IGN:
            continue  # ignored by whoever started us (nohup): keep it so
        previous[signum] = signal.signal(signum, stop)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
