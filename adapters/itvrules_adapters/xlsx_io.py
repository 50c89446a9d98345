"""Excel in (python-calamine) and out (xlsxwriter), CONVENTIONS "Excel registration forms".

The channels' form "ITV 体验用户登记表" has title rows above its header, blank
rows, "合计"/"小计" total rows and one sheet per week or channel. The reader
finds each sheet's header by its column names in the first rows. Blank rows
and total rows below the header are yielded like any row: the pipeline skips
and counts them (one rule for every format). Cells are kept as Excel typed
them (dates, numbers): the core decides what a number in an id column means.
Sheets are read one at a time and their rows iterated.

The writer uses xlsxwriter in ``constant_memory`` mode (rows go to disk as
they come) with ``strings_to_formulas`` and ``strings_to_urls`` off: text from
the public is never turned into a formula or a link.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any

import xlsxwriter  # type: ignore[import-untyped]  # no stubs published
from python_calamine import CalamineError, CalamineSheet, CalamineWorkbook

from itvrules import InputError, RawRow, hookimpl
from itvrules.formats import field_of

from ._encoding import seekable

#: The header row is looked for among a sheet's first rows (title rows above it).
HEADER_SEARCH_ROWS = 10
#: At least this many cells of the header row must be known column names.
MIN_KNOWN_HEADERS = 2
#: Excel's last row; a longer export continues on a new sheet.
MAX_ROWS = 1_048_576


class XlsxReader:
    """Reads every sheet of an Excel (or ODS) workbook."""

    name = "xlsx"
    extensions = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")

    def read(self, stream: IO[bytes], source: str, *, encoding: str | None = None) -> Iterator[RawRow]:
        with seekable(stream) as data:
            start = data.tell()
            if not data.read(1):
                raise InputError("(file)", None, "the file is empty", source=source)
            data.seek(start)
            try:
                workbook = CalamineWorkbook.from_filelike(data)
            except CalamineError as exc:
                raise InputError("(file)", None, f"not a spreadsheet that can be read: {exc}",
                                 source=source) from None
            with workbook:
                for name in workbook.sheet_names:
                    try:
                        sheet = workbook.get_sheet_by_name(name)
                    except CalamineError as exc:
                        raise InputError("(file)", name, f"sheet {name!r} cannot be read: {exc}",
                                         source=source) from None
                    yield from sheet_rows(sheet, f"{source}#{name}")
                    del sheet


def sheet_rows(sheet: CalamineSheet, source: str) -> Iterator[RawRow]:
    """The records of one sheet; ``row`` is the row number Excel shows."""
    rows = enumerate(sheet.iter_rows(), 1)
    top: list[tuple[int, list[Any]]] = []
    for number, cells in rows:
        top.append((number, cells))
        if len(top) == HEADER_SEARCH_ROWS:
            break
    found = _find_header(top, source)
    if found is None:
        filled = [(n, c) for n, c in top if not _blank(c)]
        if filled or any(not _blank(c) for _, c in rows):
            number, cells = filled[0] if filled else (len(top) + 1, [])
            yield RawRow(source, number, _unnamed(cells), None, InputError(
                "(columns)", None, f"no header row with known column names (宽带账号, 受理日期, ...) "
                f"in the first {HEADER_SEARCH_ROWS} rows; the sheet was not read"))
        return
    at, header = found
    for number, cells in (*top[at + 1:], *rows):
        yield RawRow(source, number, dict(zip(header, cells, strict=False)), header)


def _find_header(top: list[tuple[int, list[Any]]], source: str) -> tuple[int, tuple[str, ...]] | None:
    best: tuple[int, int] | None = None  # (known names, index in top)
    for index, (_number, cells) in enumerate(top):
        known = sum(1 for c in cells if isinstance(c, str) and field_of(c) is not None)
        if known >= MIN_KNOWN_HEADERS and (best is None or known > best[0]):
            best = (known, index)
    if best is None:
        return None
    index = best[1]
    number, cells = top[index]
    names = tuple(_header_name(c, i) for i, c in enumerate(cells, 1))
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError("(columns)", name, f"column {name!r} appears twice in the header "
                             f"(row {number})", source=source)
        seen.add(name)
    return index, names


def _header_name(cell: Any, position: int) -> str:
    text = str(cell).strip() if cell is not None else ""
    return text or f"(column {position})"


def _blank(cells: Sequence[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _unnamed(cells: Sequence[Any]) -> dict[str, Any]:
    return {f"(column {i})": c for i, c in enumerate(cells, 1) if not _blank([c])}


class XlsxWriter:
    """Writes an Excel workbook, one sheet per 1,048,575 rows."""

    name = "xlsx"
    extensions = (".xlsx",)

    def open(self, stream: IO[bytes], columns: Sequence[str], *, kind: str,
             encoding: str | None = None) -> XlsxSink:
        if encoding is not None:
            raise InputError("encoding", encoding, "an Excel workbook has no text encoding to choose")
        return XlsxSink(stream, columns, kind)


class XlsxSink:
    """One open workbook; rows are flushed to disk as they are written."""

    def __init__(self, stream: IO[bytes], columns: Sequence[str], kind: str) -> None:
        self._columns = tuple(columns)
        self._kind = kind
        self._book = xlsxwriter.Workbook(stream, {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        })
        self._bold = self._book.add_format({"bold": True})
        self._money = self._book.add_format({"num_format": "0.00"})
        self._date = self._book.add_format({"num_format": "yyyy-mm-dd"})
        self._sheets = 0
        self._row = MAX_ROWS
        self._sheet: Any = None

    def _next_sheet(self) -> None:
        self._sheets += 1
        name = self._kind if self._sheets == 1 else f"{self._kind} ({self._sheets})"
        self._sheet = self._book.add_worksheet(name)
        self._sheet.freeze_panes(1, 0)
        for col, title in enumerate(self._columns):
            self._sheet.write_string(0, col, title, self._bold)
        self._row = 1

    def write(self, row: Mapping[str, Any]) -> None:
        if self._row >= MAX_ROWS:
            self._next_sheet()
        sheet, r = self._sheet, self._row
        for col, name in enumerate(self._columns):
            value = row.get(name)
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(r, col, value)
            elif isinstance(value, bool):
                sheet.write_boolean(r, col, value)
            elif isinstance(value, Decimal):
                # Excel sums numbers, not text; amount_fen keeps the exact integer.
                sheet.write_number(r, col, float(value), self._money)
            elif isinstance(value, int):
                sheet.write_number(r, col, value)
            elif isinstance(value, date) and not isinstance(value, datetime):
                sheet.write_datetime(r, col, datetime.combine(value, time()), self._date)
            else:
                sheet.write_string(r, col, str(value))
        self._row += 1

    def close(self) -> None:
        if self._sheet is None:
            self._next_sheet()
        self._book.close()


@hookimpl
def itvrules_feed_readers() -> Sequence[XlsxReader]:
    return [XlsxReader()]


@hookimpl
def itvrules_export_writers() -> Sequence[XlsxWriter]:
    return [XlsxWriter()]
