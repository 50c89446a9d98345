"""How much the command line says: ``-v``/``-vv`` shows the library's log, ``-q`` only problems.

The library logs through ``logging.getLogger("itvrules")`` and leaves the
output to whoever runs it; the command line is that someone. It sends the log
to stderr (warnings by default, INFO with ``-v``, DEBUG with ``-vv``) and, with
``-q``, drops the summary lines too: only warnings and errors reach stderr,
while every output file is still written.
"""

from __future__ import annotations

import argparse
import logging
import sys

#: The logger every itvrules module logs under (adapters use children of it).
LOGGER_NAME = "itvrules"
_LEVELS = (logging.WARNING, logging.INFO, logging.DEBUG)


class _Quiet:
    """Whether the summary lines are dropped, for ``note`` to ask."""

    on = False


QUIET = _Quiet()


class _Lines(logging.Formatter):
    """``itvrules: info: ...``, like the command's own ``itvrules: warning:`` lines."""

    def format(self, record: logging.LogRecord) -> str:
        return f"itvrules: {record.levelname.lower()}: {record.getMessage()}"
_handler: logging.Handler | None = None


def add_verbosity_options(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    """``-v``/``--verbose`` (repeatable) and ``-q``/``--quiet``; after a command they keep the
    top-level value unless given (argparse.SUPPRESS)."""
    verbose_default: object = 0 if top_level else argparse.SUPPRESS
    quiet_default: object = False if top_level else argparse.SUPPRESS
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="count", default=verbose_default,
                       help="say more on stderr: -v what each step does (INFO), -vv details (DEBUG)")
    group.add_argument("-q", "--quiet", action="store_true", default=quiet_default,
                       help="only warnings and errors on stderr (no summary lines); outputs are "
                            "still written")


def configure(args: argparse.Namespace) -> None:
    """Send the itvrules log to the current stderr at the level ``-v``/``-q`` ask for."""
    global _handler
    verbose = int(getattr(args, "verbose", 0) or 0)
    QUIET.on = bool(getattr(args, "quiet", False))
    logger = logging.getLogger(LOGGER_NAME)
    if _handler is not None:
        logger.removeHandler(_handler)
    _handler = logging.StreamHandler(sys.stderr)
    _handler.setFormatter(_Lines())
    logger.addHandler(_handler)
    logger.setLevel(logging.WARNING if QUIET.on else _LEVELS[min(verbose, len(_LEVELS) - 1)])
