"""The Monday extract as files people open: CSV for Excel and an XLSX workbook.

CSV is one file: a ``清单`` column says which list a row is on, so the
extract travels as one attachment and a filter in Excel splits it. The
workbook has one sheet per list under a title row naming the week and the
recipients, laid out for a person as the exports are (columns fitted to their
cells, a filter on the header, the title and header frozen and printed on
every page, landscape one page wide) and dated by the week's Sunday (or
``SOURCE_DATE_EPOCH``), so a re-run writes the same bytes. Text from the
public (channel names, phones) never becomes a formula: CSV cells are guarded
with a leading ``'``, XLSX cells are written as strings with formula and URL
conversion off.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from .._errors import InputError
from .._extras import require
from .._sheets import ColumnWidths, lay_out_sheet, workbook_created
from ._weekly import ExtractRow, WeeklyExtract

#: Column key and Chinese header, in file order (the CRM feeds' headers where they have one).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("account_id", "宽带账号"),
    ("channel", "受理渠道"),
    ("contact_phone", "联系电话"),
    ("product", "产品类型"),
    ("accepted_on", "受理日期"),
    ("completed_on", "竣工日期"),
    ("trial_end", "体验到期日"),
    ("install_due", "应装日期"),
    ("install_overdue", "安装超期"),
)
NEW_TRIALS = "新增体验用户"
NOT_INSTALLED = "已受理未安装"
LIST_HEADER = "清单"
WEEK_HEADER = "周次"
PRODUCT_LABELS = {"brand": "品牌", "annual": "包年", "single_monthly": "单宽月租"}
CSV_ENCODINGS = ("utf-8-sig", "gb18030", "utf-8")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cells(row: ExtractRow) -> list[Any]:
    """The row's values in COLUMNS order: text, dates, or 是/否 for the flag."""
    values: list[Any] = []
    for key, _header in COLUMNS:
        value = getattr(row, key)
        if key == "product":
            value = PRODUCT_LABELS.get(value, value)
        elif key == "install_overdue":
            value = "是" if value else "否"
        values.append(value)
    return values


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def title(extract: WeeklyExtract) -> str:
    """The line that heads each sheet: what week, and for whom."""
    return (f"ITV 体验用户周报 {extract.week}({extract.monday.isoformat()} 至 "
            f"{extract.sunday.isoformat()})  报送:{'、'.join(extract.recipients)}")


def write_weekly_csv(extract: WeeklyExtract, path: str | os.PathLike[str], *,
                     encoding: str = "utf-8-sig") -> None:
    """Both lists in one CSV: UTF-8 with BOM (Excel opens it), GB18030 on request."""
    if encoding not in CSV_ENCODINGS:
        raise InputError("encoding", encoding, f"expected one of: {', '.join(CSV_ENCODINGS)}")
    with open(path, "w", encoding=encoding, newline="") as handle:
        out = csv.writer(handle)
        out.writerow([LIST_HEADER, WEEK_HEADER, *(header for _key, header in COLUMNS)])
        for name, rows in ((NEW_TRIALS, extract.new_trials), (NOT_INSTALLED, extract.not_installed)):
            for row in rows:
                out.writerow([name, extract.week, *(_csv_text(v) for v in _cells(row))])


def write_weekly_xlsx(extract: WeeklyExtract, path: str | os.PathLike[str]) -> None:
    """A workbook with one sheet per list, each under a title row naming the week and recipients."""
    created = workbook_created(extract.sunday)
    require("writing the weekly workbook", "xlsxwriter")
    import xlsxwriter  # type: ignore[import-untyped]

    book = xlsxwriter.Workbook(os.fspath(path), {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    })
    try:
        formats = {
            "title": book.add_format({"bold": True, "font_size": 12}),
            "header": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
            "date": book.add_format({"num_format": "yyyy-mm-dd", "align": "right", "indent": 1}),
        }
        for name, rows in ((NEW_TRIALS, extract.new_trials), (NOT_INSTALLED, extract.not_installed)):
            _sheet(book, formats, f"{title(extract)}  {name} 共 {len(rows)} 户", name, rows)
        book.set_properties({"created": created})
    finally:
        book.close()


def _sheet(book: Any, formats: dict[str, Any], heading: str, name: str,
           rows: Sequence[ExtractRow]) -> None:
    sheet = book.add_worksheet(name)
    sheet.merge_range(0, 0, 0, len(COLUMNS) - 1, heading, formats["title"])
    headers = [header for _key, header in COLUMNS]
    widths = ColumnWidths(headers)
    for col, header in enumerate(headers):
        sheet.write_string(1, col, header, formats["header"])
    for r, row in enumerate(rows, start=2):
        cells = _cells(row)
        widths.see_row(cells)
        for col, value in enumerate(cells):
            if value is None:
                continue
            if isinstance(value, date):
                sheet.write_datetime(r, col, datetime.combine(value, time()), formats["date"])
            else:
                sheet.write_string(r, col, str(value))
    lay_out_sheet(sheet, widths.widths(), header_row=1, last_row=len(rows) + 1)
