"""How a CSV record becomes a row, shared by ``CsvReader.read`` and its bulk reading.

A cell over the ``field_bytes`` limit rejects its row, never the feed: the
records are read through ``records``, which turns the stdlib reader's
"field larger than field limit" into one rejected record and reads on from
the line after it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence

from itvrules import InputError, RawRow

from ._limits import FIELD_BYTES

#: Key under which a record too big to be read is named in the rejects (its cells are gone).
OVERSIZED_KEY = "(record)"
#: The stdlib reader builds cells up to this many times ``field_bytes`` (so a cell over the
#: limit is named by its column); a longer one it stops at, and its record is passed over whole.
READ_FACTOR = 64


def header_of(cells: Sequence[str], source: str, row: int) -> tuple[str, ...]:
    """The header row's names (a blank one named by its position); a name twice is an InputError."""
    names = tuple(cell.strip() or f"(column {i})" for i, cell in enumerate(cells, 1))
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError("(columns)", name, f"column {name!r} appears twice in the header "
                             f"(row {row})", source=source)
        seen.add(name)
    return names


def over_limit(allowed: int) -> str:
    """What a cell over ``field_bytes`` is, in the words the limits table gives every breach."""
    return (f"over the limit {FIELD_BYTES.name} (more than {allowed:,} {FIELD_BYTES.unit}); "
            f"raise it with {FIELD_BYTES.env}=N if the input is genuine")


def first_header(cells: list[str] | None, source: str, row: int) -> tuple[str, ...] | None:
    """The header when ``cells`` is the first record that is not blank, else None (read on)."""
    if cells is None:
        raise InputError("(columns)", None, f"a cell of the header (row {row}) is "
                         f"{over_limit(FIELD_BYTES.value())}", source=source)
    if any(cell.strip() for cell in cells):  # blank lines above the header are no rows
        return header_of(cells, source, row)
    return None


def too_big(field: str, allowed: int) -> InputError:
    """The reject of a row with a cell over ``field_bytes``: the same words on every path."""
    return InputError(field, None, f"a cell is {over_limit(allowed)}")


def oversized_cell(cells: Sequence[str], allowed: int) -> int | None:
    """The index of the first cell over ``allowed`` bytes in UTF-8, or None."""
    floor = allowed // 4  # a character is at most 4 bytes: shorter text cannot be over
    for index, cell in enumerate(cells):
        if len(cell) > floor and (len(cell) > allowed
                                  or len(cell.encode("utf-8", "surrogatepass")) > allowed):
            return index
    return None


def record(header: tuple[str, ...], cells: list[str] | None, source: str, row: int) -> RawRow:
    """The row of one record; a shifted or cut record, or one with a cell too big, is a row with
    ``error`` set. ``cells`` is None for a record too big to be read at all (see ``records``)."""
    width = len(header)
    allowed = FIELD_BYTES.value()
    if cells is None:
        return RawRow(source, row, {OVERSIZED_KEY: "(not read)"}, header, too_big(OVERSIZED_KEY, allowed))
    big = oversized_cell(cells, allowed)
    if big is not None:
        name = header[big] if big < width else f"(column {big + 1})"
        kept = {n: c for n, c in zip(header, cells, strict=False) if len(c) <= allowed // 4}
        return RawRow(source, row, kept, header, too_big(name, allowed))
    if not any(cell.strip() for cell in cells):
        # A blank record, however many separators it has: every cell empty, skipped downstream.
        return RawRow(source, row, dict.fromkeys(header, ""), header)
    if len(cells) == width:
        return RawRow(source, row, dict(zip(header, cells, strict=True)), header)
    if len(cells) > width and not any(cell.strip() for cell in cells[width:]):
        # Trailing empty cells (a formatted but empty column) carry nothing.
        return RawRow(source, row, dict(zip(header, cells[:width], strict=True)), header)
    values = dict(zip(header, cells, strict=False))
    for i, extra in enumerate(cells[width:], width + 1):
        values[f"(column {i})"] = extra
    error = InputError("(row)", len(cells), f"the row has {len(cells)} cells but the header has "
                       f"{width}: a shifted or cut row cannot be read safely")
    return RawRow(source, row, values, header, error)


class _Tracked:
    """The lines handed to the csv reader, with the quote count of the record being read."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.quotes = 0

    def __iter__(self) -> _Tracked:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.quotes += line.count('"')
        return line

    def skip_open_quote(self) -> None:
        """Read on to the line that closes a quoted field left open (an odd count of quotes)."""
        while self.quotes % 2:
            try:
                next(self)
            except StopIteration:
                return


def records(lines: Iterable[str], delimiter: str) -> Iterator[list[str] | None]:
    """The csv reader's records of ``lines``; None for a record with a field over the limit.

    The stdlib reader stops at a field longer than its limit, in the middle of a
    line; the rest of that line (and of a quoted field left open) is the same
    record, so it is passed over and reading goes on with the next record.
    """
    bound = FIELD_BYTES.value() * READ_FACTOR
    if csv.field_size_limit() < bound:
        csv.field_size_limit(bound)  # raised once, never lowered: the limit is checked cell by cell
    tracked = _Tracked(lines)
    reader = csv.reader(tracked, delimiter=delimiter)
    while True:
        tracked.quotes = 0
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field limit" not in str(exc):
                raise
            tracked.skip_open_quote()
            yield None
            continue
        yield cells
