"""Blank rows and total rows are not records: skipped and counted on every reader and path (SPEC §11).

rows in = decided + rejected + skipped, the same on ``--backend rows`` and
``auto``/``columnar``, and skips alone leave the exit status at 0.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pluggy
import polars as pl
import pytest

import itvrules
from feeds.forms import write_registration_form
from itvrules import RunSummary, run_bill
from itvrules.cli import main
from itvrules.runs._rows import TOTAL_MARKS

MONTH = "2025-07"
POLICY = itvrules.load_policy()
HEADER = "宽带账号,产品类型,受理日期,竣工日期,拆机申请日期,拆机生效日期,备注\n"
#: Rows 2-8: two decided, one rejected, four skipped.
BODY = (
    "A001,品牌,2025-03-25,2025-03-31,,,{remark}\n"  # 2: decided
    ",,,,,,\n"                                      # 3: blank, separators only
    "\n"                                            # 4: blank line
    ",,,,,,合计\n"                                   # 5: total, no account
    "12 户,小 计,,,,,\n"                             # 6: total, a household count for an account
    "A002,品牌,2025-02-30,,,,合计\n"                  # 7: an account: not a total row; rejected
    "A003,品牌,2025-04-01,,,,本月合计\n"               # 8: an account: decided
)


def _pm() -> pluggy.PluginManager:
    return itvrules.plugin_manager(autoload=False)


def counts(summary: RunSummary) -> tuple[int, int, int, int]:
    assert summary.rows_in == summary.decided + summary.rejected + summary.skipped
    return summary.rows_in, summary.decided, summary.rejected, summary.skipped


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_marks_are_the_specs() -> None:
    assert {"合计", "小计"} <= set(TOTAL_MARKS)


@pytest.mark.parametrize("remark", ["", '"quoted, so the stdlib reader takes over"'])
def test_csv_blank_and_total_rows_on_both_backends(tmp_path: Path, remark: str) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text(HEADER + BODY.format(remark=remark), encoding="utf-8")
    seen = {}
    for backend in ("rows", "columnar"):
        out, rejects = tmp_path / f"{backend}.csv", tmp_path / f"{backend}.rejects.csv"
        summary = run_bill(POLICY, MONTH, [str(feed)], str(out), rejects=str(rejects), pm=_pm(),
                           backend=backend)
        assert counts(summary) == (7, 2, 1, 4)
        assert [r["account_id"] for r in read_rows(out)] == ["A001", "A003"]
        assert [(r["source_row"], r["field"]) for r in read_rows(rejects)] == [("7", "accepted_on")]
        seen[backend] = (out.read_bytes(), rejects.read_bytes())
    assert seen["rows"] == seen["columnar"]


def test_skips_alone_are_status_0_and_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text(HEADER + "A001,品牌,2025-03-25,2025-03-31,,,\n,,,,,,\n合计,,,,,,\n\n",
                    encoding="utf-8")
    for backend in ("rows", "auto"):
        assert main(["bill", MONTH, str(feed), "-o", str(tmp_path / f"{backend}.csv"),
                     "--backend", backend]) == 0
        assert "rows in: 4  decided: 1  rejected: 0  skipped: 3" in capsys.readouterr().err
    # nothing rejected: the rejects file holds its header only
    assert len((tmp_path / "rows.rejects.csv").read_text(encoding="utf-8-sig").splitlines()) == 1
    feed.write_text(HEADER + BODY.format(remark=""), encoding="utf-8")
    assert main(["bill", MONTH, str(feed), "-o", str(tmp_path / "b.csv")]) == 3
    assert "rows in: 7  decided: 2  rejected: 1  skipped: 4" in capsys.readouterr().err


def test_jsonl_blank_lines_and_total_objects(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    lines = [
        {"account_id": "J1", "product": "brand", "accepted_on": "2025-03-25",
         "completed_on": "2025-03-31"},
        None,                                               # a blank line
        {},                                                 # an object with nothing in it
        {"account_id": None, "product": "", "remark": None},  # every cell empty
        {"备注": "合计", "account_id": ""},                    # a total
        {"宽带账号": "J2", "产品类型": "品牌", "受理日期": "2025-02-30", "备注": "合计"},  # rejected
    ]
    feed.write_text("".join("\n" if line is None else json.dumps(line, ensure_ascii=False) + "\n"
                            for line in lines), encoding="utf-8")
    for backend in ("rows", "columnar"):
        summary = run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / f"{backend}.csv"), pm=_pm(),
                           backend=backend)
        assert counts(summary) == (6, 1, 1, 4)
    assert (tmp_path / "rows.csv").read_bytes() == (tmp_path / "columnar.csv").read_bytes()


def test_the_registration_form_on_both_backends(tmp_path: Path) -> None:
    form = write_registration_form(tmp_path / "登记表.xlsx")
    results = {}
    for backend in ("rows", "columnar"):
        out, rejects = tmp_path / f"{backend}.csv", tmp_path / f"{backend}.rejects.csv"
        summary = run_bill(POLICY, MONTH, [str(form)], str(out), rejects=str(rejects), pm=_pm(),
                           backend=backend)
        # Row 7 of week 1 blank, row 9 合计; an 18-digit id and a sheet without a header rejected.
        assert counts(summary) == (9, 5, 2, 2)
        results[backend] = (out.read_bytes(), rejects.read_bytes(), summary.headers)
    assert results["rows"] == results["columnar"]
    rejected = {(r["source"], r["source_row"]) for r in read_rows(tmp_path / "rows.rejects.csv")}
    assert ("登记表.xlsx#第1周", "9") not in rejected and ("登记表.xlsx#第1周", "7") not in rejected


def test_parquet_blank_and_total_rows_on_both_paths(tmp_path: Path) -> None:
    feed = tmp_path / "feed.parquet"
    pl.DataFrame({
        "宽带账号": ["P1", None, "合计", "3 户", "P2", "P3"],
        "产品类型": ["品牌", None, "  ", None, "gold", "品牌"],
        "受理日期": [date(2025, 3, 25), None, None, None, date(2025, 3, 25), date(2025, 4, 1)],
        "竣工日期": pl.Series([date(2025, 3, 31), None, None, None, None, None], dtype=pl.Date),
        "拆机申请日期": pl.Series([None] * 6, dtype=pl.Date),
        "拆机生效日期": pl.Series([None] * 6, dtype=pl.Date),
        "备注": [None, None, None, "小计", None, "合 计："],
    }).write_parquet(feed)
    results = {}
    for backend in ("rows", "auto"):  # auto: the Parquet path (bill_parquet)
        out = tmp_path / f"{backend}.parquet"
        rejects = tmp_path / f"{backend}.rejects.csv"
        summary = run_bill(POLICY, MONTH, [str(feed)], str(out), rejects=str(rejects), pm=_pm(),
                           backend=backend)
        # Row 2 blank; rows 3 (the label where the account goes) and 4 (a household count) totals;
        # row 5 (gold) rejected; row 6 has an account and a 合计 remark: decided.
        assert counts(summary) == (6, 2, 1, 3)
        bill = pl.read_parquet(out).select("account_id", "source_row").rows()
        results[backend] = (bill, [(r["source_row"], r["field"]) for r in read_rows(rejects)])
    assert results["rows"] == results["auto"]
    assert results["rows"] == ([("P1", 1), ("P3", 6)], [("5", "product")])


def test_a_json_feed_of_blank_rows_maps_no_header_on_any_backend(tmp_path: Path) -> None:
    """A JSON object has no header row: its keys are mapped when a record is read, and a skipped
    blank object is no record, on the row path and the columnar path alike."""
    first = tmp_path / "first.csv"
    first.write_text("account_id,product,accepted_on,completed_on,cancel_requested_on,"
                     "cancel_effective_on\n,,,,,\n", encoding="utf-8")
    second = tmp_path / "second.jsonl"
    second.write_text('{"account_id": "", "product": "", "accepted_on": "", "remark": " "}\n',
                      encoding="utf-8")
    seen = []
    for backend in ("rows", "columnar"):
        summary = itvrules.run_bill(itvrules.load_policy(), "2025-04", [str(first), str(second)],
                                    str(tmp_path / f"{backend}.csv"), backend=backend,
                                    pm=itvrules.plugin_manager(autoload=False))
        seen.append((summary.skipped, [h.source for h in summary.headers]))
    assert seen == [(2, ["first.csv"])] * 2
