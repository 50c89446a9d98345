"""The built-in export writers: CSV for Excel, XLSX, JSON Lines (TMF678: test_tmf678.py)."""

from __future__ import annotations

import codecs
import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from itvrules_adapters.csv_io import CsvWriter
from itvrules_adapters.jsonl_io import JsonlWriter
from itvrules_adapters.xlsx_io import XlsxWriter
from python_calamine import CalamineWorkbook

from itvrules import InputError

ROW: dict[str, Any] = {
    "account_id": "0571000123", "name": "=HYPERLINK(\"http://x\")", "phone": "+8613812345678",
    "remark": "@SUM(A1)", "minus": "-1", "amount": Decimal("35.00"), "amount_fen": 3500,
    "follow_up": False, "accepted_on": date(2025, 3, 25), "package": None, "rare": "王䶮 𠮷",
}
COLUMNS = list(ROW)


def write(writer: Any, rows: list[dict[str, Any]], columns: list[str], *, kind: str = "bill",
          encoding: str | None = None) -> bytes:
    stream = io.BytesIO()
    sink = writer.open(stream, columns, kind=kind, encoding=encoding)
    for row in rows:
        sink.write(row)
    sink.close()
    return stream.getvalue()


# -- CSV --------------------------------------------------------------------------------------------

def test_csv_opens_with_a_bom_and_guards_formulas() -> None:
    data = write(CsvWriter(), [ROW], COLUMNS)
    assert data.startswith(codecs.BOM_UTF8)
    header, row = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header == COLUMNS
    cells = dict(zip(header, row, strict=True))
    assert cells["name"] == "'=HYPERLINK(\"http://x\")"
    assert cells["phone"] == "'+8613812345678"
    assert cells["remark"] == "'@SUM(A1)"
    assert cells["minus"] == "'-1"
    assert cells["account_id"] == "0571000123"
    assert cells["amount"] == "35.00" and cells["amount_fen"] == "3500"
    assert cells["follow_up"] == "false" and cells["package"] == ""
    assert cells["accepted_on"] == "2025-03-25"
    assert cells["rare"] == "王䶮 𠮷"


def test_csv_in_gb18030_on_request_keeps_rare_characters() -> None:
    data = write(CsvWriter(), [ROW], COLUMNS, encoding="gb18030")
    assert not data.startswith(codecs.BOM_UTF8)
    assert "王䶮 𠮷" in data.decode("gb18030")


@pytest.mark.parametrize("encoding", ["gbk", "cp936", "latin-1"])
def test_csv_refuses_lossy_encodings(encoding: str) -> None:
    with pytest.raises(InputError, match=r"gb18030|written in"):
        write(CsvWriter(), [ROW], COLUMNS, encoding=encoding)


def test_csv_writer_leaves_the_stream_open() -> None:
    stream = io.BytesIO()
    CsvWriter().open(stream, ["a"], kind="bill").close()
    assert not stream.closed


# -- XLSX ----------------------------------------------------------------------------------------------

def test_xlsx_keeps_text_as_text_and_types_numbers_and_dates(tmp_path: Path) -> None:
    data = write(XlsxWriter(), [ROW, ROW], COLUMNS, kind="eligibility")
    path = tmp_path / "out.xlsx"
    path.write_bytes(data)
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["eligibility"]
    header, first, second = book.get_sheet_by_name("eligibility").to_python()
    cells = dict(zip(header, first, strict=True))
    assert cells["name"] == "=HYPERLINK(\"http://x\")"  # a string, never a formula or link
    assert cells["account_id"] == "0571000123"
    assert cells["amount"] == 35.0 and cells["amount_fen"] == 3500
    assert cells["accepted_on"] == date(2025, 3, 25)
    assert cells["follow_up"] is False
    assert first == second


def test_xlsx_is_written_in_constant_memory_without_formulas_or_urls() -> None:
    sink = XlsxWriter().open(io.BytesIO(), ["a"], kind="bill")
    book = sink._book  # the options are the contract CONVENTIONS states
    assert book.constant_memory is True
    assert book.strings_to_formulas is False
    assert book.strings_to_urls is False
    sink.close()


def test_xlsx_has_no_encoding() -> None:
    with pytest.raises(InputError, match="encoding"):
        XlsxWriter().open(io.BytesIO(), ["a"], kind="bill", encoding="gb18030")


# -- JSON Lines ----------------------------------------------------------------------------------------

def test_jsonl_keeps_money_exact_and_dates_iso() -> None:
    lines = write(JsonlWriter(), [ROW], COLUMNS).decode("utf-8").splitlines()
    record = json.loads(lines[0])
    assert list(record) == COLUMNS
    assert record["amount"] == "35.00" and record["amount_fen"] == 3500
    assert record["accepted_on"] == "2025-03-25"
    assert record["package"] is None and record["follow_up"] is False
    assert record["name"].startswith("=")  # JSON is not opened by Excel: no guard


def test_jsonl_is_utf8_only() -> None:
    with pytest.raises(InputError, match="UTF-8"):
        JsonlWriter().open(io.BytesIO(), ["a"], kind="bill", encoding="gb18030")
