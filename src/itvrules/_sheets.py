"""Workbooks a person can read and print: fitted columns, a filter, a frozen header, one page wide.

Shared by the XLSX export writer and the weekly extract through
``itvrules.formats``. Column widths are measured on every cell written, as the
rows stream past (one number a column: memory stays flat however long the
sheet), and set when the sheet is finished; xlsxwriter writes the ``<cols>``
element at close, so this works in ``constant_memory`` mode too. A width is
the display width of the widest cell as Excel shows it (East Asian wide
characters count 2, a date 10, money with two decimals), plus room for the
filter button on the header, capped at ``MAX_COLUMN_WIDTH`` so one long
remark cannot push the rest off the page (a writer wraps the text of a cell
wider than the cap, so it shows whole on a taller row).

A workbook's creation time is its only varying metadata: it is fixed
(``SOURCE_DATE_EPOCH`` when set, else a day of the data), so a re-run writes
the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import wcwidth

from ._errors import InputError

#: No column is wider than this many characters: a longer cell wraps onto more lines rather
#: than pushing the other columns off the printed page.
MAX_COLUMN_WIDTH = 60
#: Blank space around a cell's text, in characters.
PADDING = 2
#: Room the autofilter's drop-down button takes in a header cell, in characters.
FILTER_BUTTON = 3
#: What a date cell shows (``yyyy-mm-dd``).
DATE_WIDTH = 10
#: Numbers and dates stand this many characters off the right edge (an indent), clear of the
#: next column's text.
NUMBER_INDENT = 1
#: The creation time of a workbook whose data holds no day and no SOURCE_DATE_EPOCH is set:
#: the time xlsxwriter gives the files inside every workbook.
NO_DAY = datetime(1980, 1, 1)
#: A4, the paper of a Chinese office (xlsxwriter's paper code 9).
A4 = 9


def display_width(text: str) -> int:
    """How many character cells ``text`` takes on screen: East Asian wide and full-width count 2.

    The Unicode tables are wcwidth's, kept up to date with each Unicode release, rather than a
    hand-kept list of ranges.
    """
    return int(wcwidth.width(text))


def shown_width(value: Any) -> int:
    """The display width of a cell as the writers format it (dates ``yyyy-mm-dd``, money ``0.00``,
    numbers and dates indented by ``NUMBER_INDENT``)."""
    if value is None:
        return 0
    if isinstance(value, str):
        return display_width(value)
    if isinstance(value, bool):
        return 5  # TRUE / FALSE
    if isinstance(value, datetime):
        return display_width(str(value))
    if isinstance(value, date):
        return DATE_WIDTH + NUMBER_INDENT
    if isinstance(value, Decimal):
        return len(f"{value:.2f}") + NUMBER_INDENT
    if isinstance(value, int):
        return len(str(value)) + NUMBER_INDENT
    return display_width(str(value))


class ColumnWidths:
    """The widest cell of each column of one sheet, measured as rows are written."""

    def __init__(self, headers: Sequence[str], *, cap: int = MAX_COLUMN_WIDTH) -> None:
        self.cap = cap
        self._widest = [display_width(h) + FILTER_BUTTON for h in headers]
        # the last cell of each column and its width: exports repeat a column's values (codes,
        # rules, amounts) row after row, so most cells are measured by an identity test
        self._last: list[Any] = [None] * len(headers)
        self._last_width = [0] * len(headers)

    def see(self, column: int, value: Any) -> int:
        """Measure one cell of ``column``; its display width (over the cap: wrap its text)."""
        if value is self._last[column]:
            return self._last_width[column]
        width = shown_width(value)
        self._last[column], self._last_width[column] = value, width
        if width > self._widest[column]:
            self._widest[column] = width
        return width

    def see_row(self, values: Sequence[Any]) -> None:
        """Measure one row of cells in column order."""
        for column, value in enumerate(values):
            self.see(column, value)

    def widths(self) -> list[int]:
        """Each column's width in characters: its widest cell plus padding, at most the cap."""
        return [min(self.cap, widest + PADDING) for widest in self._widest]


def lay_out_sheet(sheet: Any, widths: Sequence[int], *, header_row: int, last_row: int) -> None:
    """Set the widths, a filter on the header, the header frozen and printed on every page,
    and print it landscape on A4, one page wide (as many pages tall as it takes).

    ``sheet`` is an xlsxwriter worksheet; ``last_row`` its last row (0-based),
    the header's when there are no data rows. Call it once the rows are written.
    """
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)
    if widths:
        sheet.autofilter(header_row, 0, max(last_row, header_row), len(widths) - 1)
    sheet.freeze_panes(header_row + 1, 0)
    sheet.repeat_rows(0, header_row)
    sheet.set_landscape()
    sheet.set_paper(A4)
    sheet.fit_to_pages(1, 0)


def workbook_created(latest: date | None = None) -> datetime:
    """The creation time to write into a workbook, the same on every run over the same data.

    ``SOURCE_DATE_EPOCH`` (seconds since 1970, the reproducible-builds
    convention) when set; else midnight of ``latest`` (the billing month's last
    day, the week's Sunday: a day of the data); else 1980-01-01.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), tz=UTC).replace(tzinfo=None)
        except (ValueError, OverflowError, OSError):
            raise InputError("SOURCE_DATE_EPOCH", epoch, "the environment variable must be whole "
                             "seconds since 1970-01-01 00:00 UTC") from None
    if latest is not None:
        return datetime.combine(latest, time())
    return NO_DAY
