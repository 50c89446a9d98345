"""The files and streams of a run: checks before it starts, where outputs go, and how.

Everything that can be found wrong without reading a row is checked first
(feeds that do not exist, an output that would overwrite a feed, both outputs
on stdout, an output in a folder that does not exist), so a run never stops
halfway for it. Outputs are written to a hidden part file beside the target
and renamed when the run succeeds (``_parts``): a stopped run leaves no
half-written export behind, and a killed one's part file is removed by the
next run on the same output.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO

from .._errors import InputError, UsageError
from .._paths import read_problem, unwritable
from ..hookspecs import ExportWriter
from ._parts import part_stream

#: "-" as a feed reads standard input, as an output writes standard output.
STDIN = "-"


def check_usage(feeds: Sequence[str], output: str, rejects: str | None) -> None:
    """Refuse runs that cannot work or would lose data, before anything is opened.

    Rejects of a run writing to stdout need a named file: printing them among the
    decisions would corrupt the output, and a file nobody asked for would surprise.
    """
    if not feeds:
        raise UsageError("no feed to read")
    if list(feeds).count(STDIN) > 1:
        raise UsageError("standard input (-) can be read only once")
    if output == STDIN and rejects is None:
        raise UsageError("the output goes to stdout (-), so name a file for the rejects "
                         "(--rejects FILE): rejected rows are data and must be kept")
    if rejects is not None and (rejects == output or (
            output != STDIN and rejects != STDIN and _same_file(output, rejects))):
        raise UsageError(f"the decisions and the rejects cannot both go to {output}")
    targets = [p for p in (output, rejects) if p is not None and p != STDIN]
    for feed in feeds:
        if feed != STDIN and any(_same_file(feed, t) for t in targets):
            raise UsageError(f"{feed} is both a feed and an output")
    for target in targets:
        check_target(target)


def check_target(path: str) -> None:
    """An output that cannot be written (its folder missing, a folder by its name) fails now,
    as an ``OSError`` naming ``path`` and what to do, before any row is read."""
    if path not in (STDIN, os.devnull):
        problem = unwritable(path)
        if problem is not None:
            raise problem


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def check_feed(feed: str) -> None:
    """A feed that is not there stops the run before any output is started."""
    if feed == STDIN:
        return
    problem = read_problem(feed)
    if problem is not None:
        raise InputError("(file)", None, problem, source=feed)


def default_rejects(output: str, writer: ExportWriter) -> str:
    """``bill.rejects.csv`` beside ``bill.xlsx`` (or ``bill.tmf.json``); Parquet's are Parquet.

    A Parquet export's rejects are ``bill.rejects.parquet``, the name the
    columnar Parquet path (``_parquet.bill_parquet``) gives them, so a run names
    its rejects alike whichever backend serves it.
    """
    if output == STDIN:
        return STDIN  # never used: check_usage asks for --rejects
    lowered = output.lower()
    matched = [e for e in writer.extensions if lowered.endswith(e.lower())]
    stem = output[: -len(max(matched, key=len))] if matched else os.path.splitext(output)[0]
    return f"{stem}.rejects.{'parquet' if writer.name == 'parquet' else 'csv'}"


def probe(writer: ExportWriter, columns: Sequence[str], kind: str, encoding: str | None) -> None:
    """Open and close ``writer`` on a scratch stream: a kind or encoding it refuses fails now."""
    with tempfile.TemporaryFile() as scratch:
        writer.open(scratch, columns, kind=kind, encoding=encoding).close()


@contextmanager
def open_source(feed: str, stdin: IO[bytes] | None) -> Iterator[IO[bytes]]:
    """The bytes of ``feed``; standard input for ``-`` (never closed here)."""
    if feed == STDIN:
        yield stdin if stdin is not None else sys.stdin.buffer
        return
    with open(feed, "rb") as stream:
        yield stream


@contextmanager
def open_target(path: str, stdout: IO[bytes]) -> Iterator[IO[bytes]]:
    """Where an export goes: stdout as it comes, or a part file renamed to ``path`` on success."""
    if path == STDIN:
        yield stdout
        stdout.flush()
        return
    with part_stream(path) as stream:
        yield stream
