"""JSON Lines read within the limits: lines cut in bounded pieces, nesting and numbers checked.

A line over ``jsonl_line_bytes`` is read past in pieces (never held whole) and
rejects its row; a record nested deeper than ``jsonl_depth`` is refused by a
scan of its brackets before the parser, which would recurse, sees it; an
integer too long for Python to read rejects its row naming its field; a text
cell over ``field_bytes`` rejects its row like a CSV cell does.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from itvrules import InputError, LimitExceeded

from ._limits import FIELD_BYTES, JSONL_DEPTH, JSONL_LINE_BYTES

#: Characters read at a time from a line.
PIECE = 1 << 16
#: Characters of an over-long line kept for the rejects file.
KEPT = 200
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class TooLong:
    """A line over ``jsonl_line_bytes``: its first characters and its size, the rest not kept."""

    def __init__(self, head: str, size: int) -> None:
        self.head = head
        self.size = size


def bounded_lines(text: TextIO) -> Iterator[str | TooLong]:
    """The lines of ``text``; a line over the limit is a ``TooLong``, read past in pieces."""
    allowed = JSONL_LINE_BYTES.value()
    while True:
        piece = text.readline(PIECE)
        if not piece:
            return
        pieces, size = [piece], _bytes(piece)
        while not piece.endswith("\n") and size <= allowed:
            piece = text.readline(PIECE)
            if not piece:
                break
            pieces.append(piece)
            size += _bytes(piece)
        if size <= allowed:
            yield pieces[0] if len(pieces) == 1 else "".join(pieces)
            continue
        head = "".join(pieces)[:KEPT]
        del pieces
        while piece and not piece.endswith("\n"):
            piece = text.readline(PIECE)
            size += _bytes(piece)
        yield TooLong(head, size)


def _bytes(text: str) -> int:
    """The size of ``text`` in UTF-8 (ASCII text, the usual line, is counted without encoding)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def limit_words(exc: LimitExceeded) -> str:
    """A breach's words without the place (the reject names file and row itself)."""
    return str(exc)[len(exc.where) + 2:]


def too_long(line: TooLong) -> InputError:
    """The reject of a line over ``jsonl_line_bytes``."""
    try:
        JSONL_LINE_BYTES.check(line.size, "line")
    except LimitExceeded as exc:
        return InputError("(line)", None, limit_words(exc))
    raise AssertionError("a TooLong line is over the limit")  # pragma: no cover


def depth_problem(line: str) -> InputError | None:
    """A reject when the record nests deeper than ``jsonl_depth``, found without recursion."""
    allowed = JSONL_DEPTH.value()
    if line.count("{") + line.count("[") <= allowed:
        return None  # cannot nest deeper than its brackets
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_STRING.sub("", line)):
        depth += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, depth)
    try:
        JSONL_DEPTH.check(deepest, "record")
    except LimitExceeded as exc:
        return InputError("(json)", None, limit_words(exc))
    return None


class _LongNumber(ValueError):
    """An integer with more digits than Python reads (``sys.get_int_max_str_digits``)."""


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _LongNumber(text) from None


def loads(line: str) -> Any:
    """``json.loads`` whose too-long integers raise ``_LongNumber``, not a bare ValueError."""
    return json.loads(line, parse_int=_integer)


def long_number(line: str, exc: ValueError) -> InputError:
    """The reject of a record holding an integer too long to read, naming its field if it can."""
    digits = len(str(exc.args[0]).lstrip("-")) if exc.args else 0
    most = sys.get_int_max_str_digits()
    found = re.search(r'"((?:[^"\\]|\\.)*)"\s*:\s*-?[0-9]{' + str(max(most, 1)) + ",}", line)
    field = json.loads(f'"{found.group(1)}"') if found else "(json)"
    return InputError(field, None, f"a number of {digits:,} digits is too long to read (at most "
                      f"{most:,}); write such an id as text, in quotes")


def big_cell(record: Mapping[str, Any], line: str) -> InputError | None:
    """A reject when a text cell of ``record`` is over ``field_bytes`` (like a CSV cell)."""
    allowed = FIELD_BYTES.value()
    if len(line) <= allowed // 4:
        return None
    for key, value in record.items():
        if isinstance(value, str) and _bytes(value) > allowed:
            return InputError(str(key), None, f"a cell is over the limit {FIELD_BYTES.name} (more "
                              f"than {allowed:,} {FIELD_BYTES.unit}); raise it with "
                              f"{FIELD_BYTES.env}=N if the input is genuine")
    return None


def surrogate_problem(record: Mapping[str, Any], line: str) -> InputError | None:
    """A reject when a text of ``record`` holds a lone surrogate (``"\\ud800"``): JSON lets the
    escape through, but it is no character, and no file can be written with it."""
    if "\\u" not in line and "\\U" not in line:
        return None
    for key, value in record.items():
        stack: list[Any] = [key, value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return InputError(str(key).encode("utf-8", "replace").decode("utf-8"), None,
                                      "a lone surrogate escape (such as \\ud800) is no character")
            elif isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return None
