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

import tempfile
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
from ._limits import FIELD_BYTES
from ._workbook_limits import CFB_MAGIC, check_workbook

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
            check_workbook(data, source)
            try:
                workbook = CalamineWorkbook.from_filelike(data)
            except CalamineError as exc:
                data.seek(start)
                if data.read(len(CFB_MAGIC)) == CFB_MAGIC:
                    raise InputError("(file)", None, "a legacy .xls or an encrypted workbook that "
                                     "cannot be read: open it in Excel and save it as .xlsx, without "
                                     "a password", source=source) from None
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
        # Every row is counted: a blank one is skipped, any other rejected with the reason.
        problem = (f"no header row with known column names (宽带账号, 受理日期, ...) in the first "
                   f"{HEADER_SEARCH_ROWS} rows; the sheet was not read")
        for number, cells in (*top, *rows):
            if _blank(cells):
                yield RawRow(source, number, {})
            else:
                yield RawRow(source, number, _unnamed(cells), None,
                             InputError("(columns)", None, problem))
        return
    at, header = found
    allowed = FIELD_BYTES.value()
    for number, cells in (*top[at + 1:], *rows):
        values = dict(zip(header, cells, strict=False))
        big = _oversized(values, allowed)
        if big is None:
            yield RawRow(source, number, values, header)
        else:
            kept = {name: cell for name, cell in values.items() if name != big}
            yield RawRow(source, number, kept, header, InputError(
                big, None, f"a cell is over the limit {FIELD_BYTES.name} (more than {allowed:,} "
                f"{FIELD_BYTES.unit}); raise it with {FIELD_BYTES.env}=N if the input is genuine"))


def _oversized(values: Mapping[str, Any], allowed: int) -> str | None:
    """The column of the first text cell over ``allowed`` bytes in UTF-8, or None."""
    floor = allowed // 4
    for name, cell in values.items():
        if isinstance(cell, str) and len(cell) > floor \
                and len(cell.encode("utf-8", "surrogatepass")) > allowed:
            return name
    return None


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
        # xlsxwriter's own temporary files (the rows, in constant_memory mode) go to a folder of
        # this sink's, removed when it closes or fails, or when a stopped run drops the sink.
        self._scratch = tempfile.TemporaryDirectory(prefix="itvrules-xlsx-")
        self._stream = _Output(stream)
        self._book = xlsxwriter.Workbook(self._stream, {
            "tmpdir": self._scratch.name,
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
        try:
            self._book.close()
        except Exception as exc:  # xlsxwriter wraps the disk's OSError (FileCreateError)
            self._stream.failed = True  # the half-built zip must not write again when collected
            cause = exc if isinstance(exc, OSError) else exc.__context__
            if not isinstance(cause, OSError):
                raise
            raise OSError(cause.errno, cause.strerror) from None  # names no file: the output's
        finally:
            self._scratch.cleanup()


class _Output:
    """The caller's stream as xlsxwriter's zip writes it; once a write failed (a full disk) or
    the stream is closed, later writes are dropped, so a half-built zip collected later stays
    silent instead of raising into the interpreter."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._at = 0
        self.failed = False

    def _dead(self) -> bool:
        return self.failed or self._stream.closed

    def write(self, data: bytes) -> int:
        if self._dead():
            return len(data)
        try:
            written = self._stream.write(data)
        except OSError:
            self.failed = True
            raise
        self._at += written
        return written

    def tell(self) -> int:
        if not self._dead():
            self._at = self._stream.tell()
        return self._at

    def seek(self, offset: int, whence: int = 0) -> int:
        if not self._dead():
            self._at = self._stream.seek(offset, whence)
        return self._at

    def seekable(self) -> bool:
        return not self._dead() and self._stream.seekable()

    def flush(self) -> None:
        if not self._dead():
            self._stream.flush()


@hookimpl
def itvrules_feed_readers() -> Sequence[XlsxReader]:
    return [XlsxReader()]


@hookimpl
def itvrules_export_writers() -> Sequence[XlsxWriter]:
    return [XlsxWriter()]
