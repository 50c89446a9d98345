"""XLSX a person can read and print, the same bytes on a re-run (issue 12 item 5).

Each workbook is read back with openpyxl: every column is at least as wide as
the display width of its widest cell (measured here on its own: East Asian
wide characters count 2, a date ``yyyy-mm-dd`` 10), ids, record ids and dates
whole; a filter on the header, the header frozen, landscape, one page wide.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from itvrules_adapters.xlsx_io import XlsxWriter
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from itvrules import InputError
from itvrules.formats import MAX_COLUMN_WIDTH, display_width
from itvrules.runs._pipeline import BILL_COLUMNS

RECORD_ID = "4f3c2b1a-9d8e-5f70-8a6b-0123456789ab"


def bill_row(n: int, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "record_id": RECORD_ID, "account_id": f"0793{n:07d}", "billing_month": "2025-06",
        "billing_cycle": "202506", "code": "default_paid", "gross": Decimal("35.00"),
        "waived": Decimal("0.00"), "amount": Decimal("35.00"), "amount_fen": 3500,
        "package": "quanneng", "follow_up": False, "rule": "fee.default_paid", "clause": "§四(二)2",
        "policy_id": "itv-trial", "policy_version": "2025.1", "policy_hash": "0123456789ab",
        "source": "宽带体验用户登记表-城关营业厅.csv", "source_row": n + 1,
    }
    row.update(extra)
    return row


def xlsx(rows: list[dict[str, Any]], columns: list[str], kind: str = "bill") -> bytes:
    stream = io.BytesIO()
    sink = XlsxWriter().open(stream, columns, kind=kind)
    for row in rows:
        sink.write(row)
    sink.close()
    return stream.getvalue()


def sheet_of(data: bytes, tmp_path: Path, name: str = "out.xlsx") -> Worksheet:
    path = tmp_path / name
    path.write_bytes(data)
    return openpyxl.load_workbook(path).worksheets[0]


def seen_width(value: Any) -> int:
    """The display width of a cell read back, measured independently of the library."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 10  # written as a date cell, shown yyyy-mm-dd
    if isinstance(value, bool):
        return 5
    if isinstance(value, float):
        return len(f"{value:.2f}")
    if isinstance(value, int):
        return len(str(value))
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(value))


def column_widths(sheet: Worksheet) -> dict[int, float]:
    """Each column's width; openpyxl keeps a run of equal widths under the run's first letter."""
    return {column: dim.width for dim in sheet.column_dimensions.values() if dim.min
            for column in range(dim.min, dim.max + 1)}


def assert_laid_out(sheet: Worksheet, *, header_row: int) -> None:
    """Widths fit every cell (wrapped text aside), the filter spans the table, the header is frozen,
    the sheet prints landscape on A4 one page wide."""
    last_col = get_column_letter(sheet.max_column)
    widths = column_widths(sheet)
    for column in range(1, sheet.max_column + 1):
        letter = get_column_letter(column)
        width = widths[column]
        cells = [sheet.cell(row, column) for row in range(header_row, sheet.max_row + 1)]
        for cell in cells:
            if cell.alignment.wrap_text:  # longer than any column may be: wrapped, not cut
                assert width >= MAX_COLUMN_WIDTH, (letter, cell.value)
                continue
            assert width >= seen_width(cell.value), (letter, cell.row, cell.value, width)
        assert width <= MAX_COLUMN_WIDTH + 1, letter
    assert sheet.auto_filter.ref == f"A{header_row}:{last_col}{sheet.max_row}"
    assert sheet.freeze_panes == f"A{header_row + 1}"
    setup = sheet.page_setup
    assert setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    # fitToWidth is absent when it is 1, the OOXML default; fitToHeight 0: as many pages as needed
    assert (setup.fitToWidth or 1) == 1 and setup.fitToHeight == 0
    assert setup.paperSize == 9  # A4
    assert sheet.print_title_rows == f"$1:${header_row}"  # the header printed on every page


def test_display_width_counts_east_asian_wide_characters_twice() -> None:
    assert display_width("8410950407") == 10
    assert display_width("宽带账号") == 8
    assert display_width("§四(二)2") == 8  # § (ambiguous) and the parentheses are narrow
    assert display_width("ｅ９－７９") == 10  # full-width forms
    assert display_width(RECORD_ID) == 36


def test_bill_workbook_fits_its_columns_filters_freezes_and_prints(tmp_path: Path) -> None:
    rows = [bill_row(n) for n in range(30)]
    rows[3]["account_id"] = "07930000000000000123"  # a long id is never clipped
    sheet = sheet_of(xlsx(rows, list(BILL_COLUMNS)), tmp_path)
    assert [c.value for c in sheet[1]] == list(BILL_COLUMNS)
    assert_laid_out(sheet, header_row=1)
    widths = {c.value: column_widths(sheet)[c.column] for c in sheet[1]}
    assert widths["record_id"] >= 36 and widths["account_id"] >= 20
    assert widths["source"] >= display_width("宽带体验用户登记表-城关营业厅.csv")
    assert sheet["K2"].value is False and sheet["K2"].number_format == '"TRUE";"TRUE";"FALSE"'


def test_dates_are_never_shown_as_hashes(tmp_path: Path) -> None:
    columns = ["order_id", "due", "a"]  # short headers: the dates decide the width
    rows = [{"order_id": RECORD_ID, "due": date(2025, 12, 31), "a": "x"}]
    sheet = sheet_of(xlsx(rows, columns, kind="workorders"), tmp_path)
    assert sheet["B2"].value == datetime(2025, 12, 31) and sheet["B2"].number_format == "yyyy-mm-dd"
    assert column_widths(sheet)[2] >= 10 + 1  # the date and its indent
    assert_laid_out(sheet, header_row=1)


def test_a_long_cell_caps_its_column_and_wraps_on_a_taller_row(tmp_path: Path) -> None:
    reason = "accepted outside the campaign window of the policy in force that day " * 3
    rows = [{"source": "feed.csv", "source_row": 2, "field": "accepted_on", "error": reason},
            {"source": "feed.csv", "source_row": 3, "field": "product", "error": "short"}]
    sheet = sheet_of(xlsx(rows, ["source", "source_row", "field", "error"], kind="rejects"), tmp_path)
    assert MAX_COLUMN_WIDTH <= column_widths(sheet)[4] <= MAX_COLUMN_WIDTH + 1
    assert sheet["D2"].alignment.wrap_text and sheet["D2"].value == reason
    assert sheet.row_dimensions[2].height >= 15 * 4  # 207 characters: four lines at least
    assert not sheet["D3"].alignment.wrap_text and sheet.row_dimensions[3].height is None
    assert_laid_out(sheet, header_row=1)


def test_every_sheet_of_a_long_export_is_laid_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import itvrules_adapters.xlsx_io as xlsx_io

    monkeypatch.setattr(xlsx_io, "MAX_ROWS", 4)  # three rows a sheet
    path = tmp_path / "long.xlsx"
    path.write_bytes(xlsx([bill_row(n) for n in range(7)], list(BILL_COLUMNS)))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["bill", "bill (2)", "bill (3)"]
    for sheet in book.worksheets:
        assert_laid_out(sheet, header_row=1)
    assert book.worksheets[2].max_row == 2


def test_a_rerun_writes_the_same_bytes_dated_by_the_billing_month(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    rows = [bill_row(n) for n in range(5)]
    first = xlsx(rows, list(BILL_COLUMNS))
    assert xlsx(rows, list(BILL_COLUMNS)) == first
    book = openpyxl.load_workbook(io.BytesIO(first))
    assert book.properties.created == datetime(2025, 6, 30)  # the billing month's last day
    later = xlsx([bill_row(n, billing_month="2025-07") for n in range(5)], list(BILL_COLUMNS))
    assert openpyxl.load_workbook(io.BytesIO(later)).properties.created == datetime(2025, 7, 31)
    with zipfile.ZipFile(io.BytesIO(first)) as archive:  # no other metadata that varies
        (stamp,) = {info.date_time for info in archive.infolist()}
        assert stamp[0] == 1980


def test_source_date_epoch_dates_the_workbook(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1751328000")  # 2025-07-01 00:00 UTC
    data = xlsx([{"a": "x"}], ["a"], kind="rejects")
    assert openpyxl.load_workbook(io.BytesIO(data)).properties.created == datetime(2025, 7, 1)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(InputError) as caught:
        XlsxWriter().open(io.BytesIO(), ["a"], kind="rejects")
    assert caught.value.field == "SOURCE_DATE_EPOCH" and "whole seconds" in str(caught.value)


def test_without_a_day_in_the_data_the_date_is_fixed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    data = xlsx([{"a": "x"}], ["a"], kind="rejects")
    assert openpyxl.load_workbook(io.BytesIO(data)).properties.created == datetime(1980, 1, 1)
    dated = xlsx([{"a": date(2025, 5, 3)}, {"a": date(2025, 5, 9)}], ["a"], kind="eligibility")
    assert openpyxl.load_workbook(io.BytesIO(dated)).properties.created == datetime(2025, 5, 9)


def test_a_bill_run_to_xlsx_twice_writes_the_same_bytes(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import itvrules
    from paths import FEEDS

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    policy = itvrules.load_policy()
    outputs = []
    for name in ("a", "b"):
        summary = itvrules.run_bill(policy, "2025-07", [str(FEEDS / "bill_bad_rows.csv")],
                                    str(tmp_path / f"{name}.xlsx"),
                                    rejects=str(tmp_path / f"{name}.rejects.xlsx"))
        assert summary.decided and summary.rejected
        outputs.append(((tmp_path / f"{name}.xlsx").read_bytes(),
                        (tmp_path / f"{name}.rejects.xlsx").read_bytes()))
    assert outputs[0] == outputs[1]
    bill = sheet_of(outputs[0][0], tmp_path, "bill.xlsx")
    rejects = sheet_of(outputs[0][1], tmp_path, "rejects.xlsx")
    for sheet in (bill, rejects):
        assert_laid_out(sheet, header_row=1)
