"""Excel in (python-calamine) and out (xlsxwriter).

The channels' form "ITV 体验用户登记表" has title rows above its header, blank
rows, "合计"/"小计" total rows and one sheet per week or channel. The reader
finds each sheet's header by its column names in the first rows. Blank rows
and total rows below the header are yielded like any row: the pipeline skips
and counts them (one rule for every format). Cells are kept as Excel typed
them (dates, numbers): the core decides what a number in an id column means.
Sheets are read one at a time and their rows iterated.

The writer uses xlsxwriter in ``constant_memory`` mode (rows go to disk as
they come) with ``strings_to_formulas`` and ``strings_to_urls`` off: text from
the public is never turned into a formula or a link. Each sheet is laid out
for a person (``itvrules.formats.lay_out_sheet``): columns as wide as their
widest cell, measured on every row as it streams past (one number a column in
memory; xlsxwriter writes the widths at close, so they can be set last), a
filter on the header, the header frozen and printed on every page, landscape
one page wide. The creation time is fixed (``workbook_created``: a bill's
billing month, else the latest day in the data), so a re-run writes the same
bytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from types import ModuleType
from typing import IO, TYPE_CHECKING, Any

from itvrules import InputError, MissingExtra, RawRow, hookimpl
from itvrules.formats import (
    MAX_COLUMN_WIDTH,
    ColumnWidths,
    field_of,
    lay_out_sheet,
    month_end,
    workbook_created,
)

from ._encoding import seekable

if TYPE_CHECKING:
    from python_calamine import CalamineSheet

#: The header row is looked for among a sheet's first rows (title rows above it).
HEADER_SEARCH_ROWS = 10
#: At least this many cells of the header row must be known column names.
MIN_KNOWN_HEADERS = 2
#: Excel's last row; a longer export continues on a new sheet.
MAX_ROWS = 1_048_576
#: Characters of wrapped text a line of a column at the widest holds, allowing for breaks at
#: spaces; and the height of one line of the default font (Calibri 11), in points.
WRAP_LINE = MAX_COLUMN_WIDTH - 8
LINE_HEIGHT = 15


def _calamine() -> ModuleType:
    """python-calamine, imported when a workbook is read: it comes with the excel extra."""
    try:
        import python_calamine
    except ImportError:
        raise MissingExtra("reading .xlsx", "excel") from None
    return python_calamine


def _xlsxwriter() -> ModuleType:
    """xlsxwriter, imported when a workbook is written: it comes with the excel extra."""
    try:
        import xlsxwriter  # type: ignore[import-untyped]  # no stubs published
    except ImportError:
        raise MissingExtra("writing .xlsx", "excel") from None
    module: ModuleType = xlsxwriter
    return module


class XlsxReader:
    """Reads every sheet of an Excel (or ODS) workbook."""

    name = "xlsx"
    extensions = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")

    def read(self, stream: IO[bytes], source: str, *, encoding: str | None = None) -> Iterator[RawRow]:
        calamine = _calamine()
        CalamineError, CalamineWorkbook = calamine.CalamineError, calamine.CalamineWorkbook
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
        xlsxwriter = _xlsxwriter()
        workbook_created()  # a bad SOURCE_DATE_EPOCH stops the run before any row
        self._book = xlsxwriter.Workbook(stream, {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        })
        self._bold = self._book.add_format({"bold": True})
        # Numbers and dates stand one space off the right edge: they never run into the next text.
        self._money = self._book.add_format({"num_format": "0.00", "align": "right", "indent": 1})
        self._whole = self._book.add_format({"num_format": "0", "align": "right", "indent": 1})
        self._date = self._book.add_format({"num_format": "yyyy-mm-dd", "align": "right", "indent": 1})
        # A boolean reads TRUE/FALSE in Excel whatever its format; the format makes LibreOffice
        # and WPS show the same instead of 1/0.
        self._flag = self._book.add_format({"num_format": '"TRUE";"TRUE";"FALSE"', "align": "center"})
        self._wrap = self._book.add_format({"text_wrap": True})
        self._sheets = 0
        self._row = MAX_ROWS
        self._sheet: Any = None
        self._widths = ColumnWidths(self._columns)
        self._latest: date | None = None
        self._month = self._columns.index("billing_month") if (
            kind == "bill" and "billing_month" in self._columns) else None
        self._last_month = ""

    def _next_sheet(self) -> None:
        self._finish_sheet()
        self._sheets += 1
        name = self._kind if self._sheets == 1 else f"{self._kind} ({self._sheets})"
        self._sheet = self._book.add_worksheet(name)
        self._sheet.freeze_panes(1, 0)
        for col, title in enumerate(self._columns):
            self._sheet.write_string(0, col, title, self._bold)
        self._widths = ColumnWidths(self._columns)
        self._row = 1

    def _finish_sheet(self) -> None:
        if self._sheet is not None:
            lay_out_sheet(self._sheet, self._widths.widths(), header_row=0, last_row=self._row - 1)

    def write(self, row: Mapping[str, Any]) -> None:
        if self._row >= MAX_ROWS:
            self._next_sheet()
        sheet, r, see = self._sheet, self._row, self._widths.see
        values = [row.get(name) for name in self._columns]
        widths = [see(col, value) if value is not None else 0 for col, value in enumerate(values)]
        lines = max((-(-w // WRAP_LINE) for w in widths if w > MAX_COLUMN_WIDTH), default=1)
        if lines > 1:  # text wider than the widest column wraps: the row is made tall enough
            sheet.set_row(r, LINE_HEIGHT * lines)
        for col, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(r, col, value, self._wrap if widths[col] > MAX_COLUMN_WIDTH else None)
                if col == self._month and value > self._last_month:
                    self._last_month = value  # "YYYY-MM" sorts as the months do
            elif isinstance(value, bool):
                sheet.write_boolean(r, col, value, self._flag)
            elif isinstance(value, Decimal):
                # Excel sums numbers, not text; amount_fen keeps the exact integer.
                sheet.write_number(r, col, float(value), self._money)
            elif isinstance(value, int):
                sheet.write_number(r, col, value, self._whole)
            elif isinstance(value, date) and not isinstance(value, datetime):
                sheet.write_datetime(r, col, datetime.combine(value, time()), self._date)
                if self._month is None:
                    self._saw(value)
            else:
                sheet.write_string(r, col, str(value))
        self._row += 1

    def _saw(self, day: date) -> None:
        """A day of the data: the latest one dates the workbook (a bill: its month's last day)."""
        if self._latest is None or day > self._latest:
            self._latest = day

    def close(self) -> None:
        if self._sheet is None:
            self._next_sheet()
        self._finish_sheet()
        if self._last_month:
            self._latest = month_end(self._last_month, "billing_month")
        self._book.set_properties({"created": workbook_created(self._latest)})
        self._book.close()


@hookimpl
def itvrules_feed_readers() -> Sequence[XlsxReader]:
    return [XlsxReader()]


@hookimpl
def itvrules_export_writers() -> Sequence[XlsxWriter]:
    return [XlsxWriter()]
