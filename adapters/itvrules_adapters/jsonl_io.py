"""JSON Lines in and out: one object per line, for systems that speak JSON.

Blank lines are yielded as empty records, which the pipeline skips and
counts; a line that is not a JSON object becomes a reject for that line,
never a stopped run. JSONL has no header row, so every object
is checked for required fields on its own. Exports are UTF-8 (RFC 8259) with
money as exact decimal strings (``"35.00"``) and dates in ISO form.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from typing import IO, Any

from itvrules import InputError, RawRow, hookimpl
from itvrules.hookspecs import TextColumnsSink

from . import _cells
from ._encoding import codec_name, detect_encoding, seekable
from ._json_lines import (
    KEPT,
    TooLong,
    big_cell,
    bounded_lines,
    depth_problem,
    loads,
    long_number,
    surrogate_problem,
    too_long,
)

#: Key under which the text of a line that is not a JSON object goes to the rejects.
LINE_KEY = "(line)"
#: What a line held instead of an object, in JSON's words (never a Python type name).
_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "true or false", type(None): "null"}


class JsonlReader:
    """Reads one JSON object per line.

    Declares ``TextRowsReader`` (``text_rows``): feeds hold text cells nearly
    always, so the ``auto`` backend groups its rows into columns.
    """

    name = "jsonl"
    extensions = (".jsonl", ".ndjson")
    #: Capability (``itvrules.hookspecs.TextRowsReader``): its rows' cells are nearly always text.
    text_rows = True

    def read(self, stream: IO[bytes], source: str, *, encoding: str | None = None) -> Iterator[RawRow]:
        with seekable(stream) as data:
            codec = detect_encoding(data, source, encoding=encoding)
            text = io.TextIOWrapper(data, encoding=codec)
            try:
                yield from read_lines(bounded_lines(text), source)
            finally:
                with suppress(ValueError):  # the stream closed under a run that stopped: nothing to keep
                    text.detach()


def read_lines(lines: Iterable[str | TooLong], source: str) -> Iterator[RawRow]:
    """The records of decoded JSONL ``lines``; ``row`` is the line number.

    A line over a limit (its length, its nesting, an integer too long, a cell too big) is a
    reject of that line, like a line that is not JSON.
    """
    anything = False
    for number, line in enumerate(lines, 1):
        if isinstance(line, TooLong):
            anything = True
            yield RawRow(source, number, {LINE_KEY: line.head + "…"}, None, too_long(line))
            continue
        if not line.strip():
            yield RawRow(source, number, {})  # a blank row: skipped and counted, not dropped
            continue
        anything = True
        text = line.rstrip("\r\n")
        problem = depth_problem(line)
        if problem is not None:
            yield RawRow(source, number, {LINE_KEY: text}, None, problem)
            continue
        try:
            value = loads(line)
        except json.JSONDecodeError as exc:
            yield RawRow(source, number, {LINE_KEY: text}, None, InputError(
                "(json)", None, f"not JSON: {exc.msg} at column {exc.colno}"))
            continue
        except RecursionError:  # a jsonl_depth raised past what the parser can nest
            yield RawRow(source, number, {LINE_KEY: text}, None,
                         InputError("(json)", None, "nested too deep to be read"))
            continue
        except ValueError as exc:  # an integer too long for Python to read
            yield RawRow(source, number, {LINE_KEY: text}, None, long_number(line, exc))
            continue
        if not isinstance(value, dict):
            yield RawRow(source, number, {LINE_KEY: line.rstrip("\r\n")}, None, InputError(
                "(json)", None, f"expected a JSON object, not {_JSON_KINDS.get(type(value), 'a value')}"))
            continue
        problem = big_cell(value, line) or surrogate_problem(value, line)
        if problem is not None:
            yield RawRow(source, number, {LINE_KEY: text if len(text) <= KEPT else text[:KEPT] + "…"},
                         None, problem)
            continue
        yield RawRow(source, number, value)
    if not anything:
        raise InputError("(file)", None, "the file has no JSON lines (it is empty)", source=source)


class JsonlWriter:
    """Writes one JSON object per line, keys in column order.

    Declares ``TextColumnsWriter``: ``open_text_columns`` writes the same bytes
    a batch of rows at a time (``_lines``).
    """

    name = "jsonl"
    extensions = (".jsonl", ".ndjson")

    def open(self, stream: IO[bytes], columns: Sequence[str], *, kind: str,
             encoding: str | None = None) -> JsonlSink:
        if encoding is not None and codec_name(encoding) != "utf-8":
            raise InputError("encoding", encoding, "JSON is always written in UTF-8")
        return JsonlSink(stream, columns)

    def open_text_columns(self, stream: IO[bytes], columns: Sequence[str], *, kind: str,
                          encoding: str | None = None) -> TextColumnsSink:
        """The export ``open`` starts, taking many rendered rows at a time."""
        from ._lines import JsonlLines

        if encoding is not None and codec_name(encoding) != "utf-8":
            raise InputError("encoding", encoding, "JSON is always written in UTF-8")
        return JsonlLines(stream, columns)


class JsonlSink:
    """One open JSON Lines export."""

    def __init__(self, stream: IO[bytes], columns: Sequence[str]) -> None:
        self._columns = tuple(columns)
        self._text = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")

    def write(self, row: Mapping[str, Any]) -> None:
        value = _cells.json_value
        record = {c: value(row.get(c)) for c in self._columns}
        self._text.write(json.dumps(record, ensure_ascii=False))
        self._text.write("\n")

    def close(self) -> None:
        self._text.flush()
        self._text.detach()


@hookimpl
def itvrules_feed_readers() -> Sequence[JsonlReader]:
    return [JsonlReader()]


@hookimpl
def itvrules_export_writers() -> Sequence[JsonlWriter]:
    return [JsonlWriter()]
