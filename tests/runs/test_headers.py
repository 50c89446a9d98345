"""How headers become fields (SPEC §11): the map every run reports, near misses, ``--column``.

A renamed column must never change a bill silently: every path a bill run can
take (rows, columnar CSV, Parquet) prints the same map, stops on the same near
misses with the same words, and obeys the same explicit map.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pluggy
import polars as pl
import pytest

import itvrules
from itvrules import HeaderMap, InputError, UsageError, run_bill, run_eligibility
from itvrules.cli import main
from itvrules.runs._rows import NEAR_MISS_RATIO, REQUIRED, near_miss

MONTH = "2025-07"
POLICY = itvrules.load_policy()
#: The columns a bill needs, in Chinese, with one enrolment completed on 2025-03-31.
FEE_HEADERS = ["宽带账号", "产品类型", "受理日期", "竣工日期", "拆机申请日期", "拆机生效日期"]
ROW = ["A001", "品牌", "2025-03-25", "2025-03-31", "", ""]


def _pm() -> pluggy.PluginManager:
    return itvrules.plugin_manager(autoload=False)


def write_csv(path: Path, headers: list[str], *rows: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def write_parquet(path: Path, headers: list[str], *rows: list[str]) -> Path:
    pl.DataFrame([list(r) for r in rows], schema=dict.fromkeys(headers, pl.String),
                 orient="row").write_parquet(path)
    return path


def renamed(old: str, new: str) -> list[str]:
    return [new if h == old else h for h in FEE_HEADERS]


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


# -- the resemblance test ------------------------------------------------------------------------------
@pytest.mark.parametrize(("header", "field"), [
    ("完工日期", "completed_on"), ("拆机生效时间", "cancel_effective_on"),
    ("completed_date", "completed_on"), ("Completed Date", "completed_on"),
    ("拆机申请时间", "cancel_requested_on"), ("宽带号码", "account_id"),
])
def test_near_misses_are_found(header: str, field: str) -> None:
    assert near_miss(header, REQUIRED["bill"]) == field


@pytest.mark.parametrize("header", ["备注", "姓名", "地址", "电话", "原因", "渠道", "序号", "客户名称",
                                    "remark", "name", "address", "status", "create_time", "id"])
def test_ordinary_extra_columns_are_no_near_misses(header: str) -> None:
    fields = itvrules.runs._rows.FIELDS["bill"]
    assert near_miss(header, fields) is None
    assert 0.5 < NEAR_MISS_RATIO < 0.75  # the documented threshold: two thirds


# -- near misses stop the run, on every path ----------------------------------------------------------
@pytest.mark.parametrize(("old", "new"), [("竣工日期", "完工日期"), ("拆机生效日期", "拆机生效时间"),
                                          ("竣工日期", "completed_date")])
@pytest.mark.parametrize("path", ["rows", "columnar", "parquet"])
def test_a_near_miss_stops_the_run_naming_both(tmp_path: Path, old: str, new: str, path: str) -> None:
    headers = renamed(old, new)
    if path == "parquet":
        feed = write_parquet(tmp_path / "feed.parquet", headers, ROW)
        out = tmp_path / "bill.parquet"
    else:
        feed = write_csv(tmp_path / "feed.csv", headers, ROW)
        out = tmp_path / "bill.csv"
    backend = "rows" if path == "rows" else "auto"
    with pytest.raises(InputError) as caught:
        run_bill(POLICY, MONTH, [str(feed)], str(out), pm=_pm(), backend=backend)
    error = caught.value
    assert error.field == "(columns)" and error.source == feed.name
    assert error.value == [new]
    assert repr(new) in error.problem and old in error.problem  # both names
    assert not out.exists()


def test_a_near_miss_reads_the_same_on_every_path(tmp_path: Path) -> None:
    headers = renamed("竣工日期", "完工日期")
    problems = set()
    for backend in ("rows", "columnar"):
        with pytest.raises(InputError) as caught:
            run_bill(POLICY, MONTH, [str(write_csv(tmp_path / "feed.csv", headers, ROW))],
                     str(tmp_path / "b.csv"), pm=_pm(), backend=backend)
        problems.add(caught.value.problem)
    with pytest.raises(InputError) as caught:
        run_bill(POLICY, MONTH, [str(write_parquet(tmp_path / "feed.parquet", headers, ROW))],
                 str(tmp_path / "b.parquet"), pm=_pm())
    problems.add(caught.value.problem)
    assert len(problems) == 1


def test_a_near_miss_in_json_lines_stops_the_run(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"account_id": "J1", "product": "brand", "accepted_on": "2025-03-25",
                                "completed_date": "2025-03-31"}) + "\n", encoding="utf-8")
    for backend in ("rows", "columnar"):
        with pytest.raises(InputError, match="'completed_date' is not a known name but resembles "
                                             "completed_on"):
            run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / "b.csv"), pm=_pm(), backend=backend)


def test_ordinary_extra_columns_run_and_are_reported_ignored(tmp_path: Path) -> None:
    headers = ["account_id", "account_name", *FEE_HEADERS[1:], "备注", "姓名", "地址", "受理渠道"]
    feed = write_csv(tmp_path / "feed.csv", headers, ["A001", "A's name", *ROW[1:], "x", "张三", "某路1号",
                                                      "营业厅"])
    for backend in ("rows", "columnar"):
        summary = run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / f"{backend}.csv"), pm=_pm(),
                           backend=backend)
        assert (summary.rows_in, summary.decided) == (1, 1)
        (header_map,) = summary.headers
        assert header_map.source == "feed.csv"
        assert ("channel", "受理渠道") in header_map.pairs  # a real field, not an extra
        assert header_map.ignored == ("account_name", "备注", "姓名", "地址")


# -- the header map ------------------------------------------------------------------------------------
def test_every_path_reports_the_same_map(tmp_path: Path) -> None:
    headers = [*FEE_HEADERS, "备注"]
    expected = HeaderMap("feed.{}", (
        ("account_id", "宽带账号"), ("product", "产品类型"), ("accepted_on", "受理日期"),
        ("completed_on", "竣工日期"), ("cancel_requested_on", "拆机申请日期"),
        ("cancel_effective_on", "拆机生效日期")), ("备注",))
    csv_feed = write_csv(tmp_path / "feed.csv", headers, [*ROW, "x"])
    for backend in ("rows", "columnar"):
        summary = run_bill(POLICY, MONTH, [str(csv_feed)], str(tmp_path / f"{backend}.csv"),
                           pm=_pm(), backend=backend)
        assert summary.headers == (attrs_evolve(expected, source="feed.csv"),)
    parquet_feed = write_parquet(tmp_path / "feed.parquet", headers, [*ROW, "x"])
    summary = run_bill(POLICY, MONTH, [str(parquet_feed)], str(tmp_path / "bill.parquet"), pm=_pm())
    assert summary.headers == (attrs_evolve(expected, source="feed.parquet"),)
    assert str(summary.headers[0]) == (
        "feed.parquet: account_id ← 宽带账号, product ← 产品类型, accepted_on ← 受理日期, "
        "completed_on ← 竣工日期, cancel_requested_on ← 拆机申请日期, "
        "cancel_effective_on ← 拆机生效日期; ignored: 备注")


def attrs_evolve(header_map: HeaderMap, **changes: Any) -> HeaderMap:
    import attrs

    return attrs.evolve(header_map, **changes)


def test_several_feeds_each_report_their_map(tmp_path: Path) -> None:
    one = write_csv(tmp_path / "one.csv", FEE_HEADERS, ROW)
    two = write_csv(tmp_path / "two.csv", ["account_id", "product", "accepted_on", "completed_on",
                                           "cancel_requested_on", "cancel_effective_on", "note"],
                    ["B001", "brand", "2025-03-25", "", "", "", "n"])
    summary = run_bill(POLICY, MONTH, [str(one), str(two)], str(tmp_path / "b.csv"), pm=_pm())
    assert [m.source for m in summary.headers] == ["one.csv", "two.csv"]
    assert summary.headers[0].ignored == () and summary.headers[1].ignored == ("note",)
    assert ("account_id", "account_id") in summary.headers[1].pairs


# -- an explicit map ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["rows", "columnar", "parquet"])
def test_an_explicit_map_reads_the_near_miss(tmp_path: Path, path: str) -> None:
    headers = renamed("竣工日期", "完工日期")
    if path == "parquet":
        feed, out = write_parquet(tmp_path / "feed.parquet", headers, ROW), tmp_path / "bill.parquet"
    else:
        feed, out = write_csv(tmp_path / "feed.csv", headers, ROW), tmp_path / "bill.csv"
    summary = run_bill(POLICY, MONTH, [str(feed)], str(out), pm=_pm(),
                       backend="rows" if path == "rows" else "auto",
                       columns={"完工日期": "completed_on"})
    assert (summary.rows_in, summary.decided, summary.rejected) == (1, 1, 0)
    assert ("completed_on", "完工日期") in summary.headers[0].pairs
    code = (pl.read_parquet(out)["code"][0] if path == "parquet" else read_rows(out)[0]["code"])
    assert code == "default_paid"  # completed in March: July is paid, so the column was read


def test_an_explicit_map_names_a_column_with_any_header(tmp_path: Path) -> None:
    feed = write_csv(tmp_path / "feed.csv", ["客户号", *FEE_HEADERS[1:]], ROW)
    with pytest.raises(InputError, match="missing required column"):
        run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / "a.csv"), pm=_pm())
    summary = run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / "b.csv"), pm=_pm(),
                       columns={"客户号": "account_id"})
    assert summary.decided == 1 and read_rows(tmp_path / "b.csv")[0]["account_id"] == "A001"


def test_an_empty_field_ignores_a_near_miss(tmp_path: Path) -> None:
    feed = write_csv(tmp_path / "feed.csv", [*FEE_HEADERS, "退单原因说明"], [*ROW, "备用"])
    with pytest.raises(InputError, match="退单原因说明"):
        run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / "a.csv"), pm=_pm())
    summary = run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / "b.csv"), pm=_pm(),
                       columns={"退单原因说明": ""})
    assert summary.decided == 1 and summary.headers[0].ignored == ("退单原因说明",)


def test_an_explicit_map_for_eligibility(tmp_path: Path) -> None:
    headers = ["宽带账号", "套餐", "产品类型", "小区类型", "是否新装机", "是否已有iTV", "线路是否具备",
               "受理日期"]
    feed = write_csv(tmp_path / "subs.csv", headers,
                     ["S1", "e8-68", "品牌", "未提速", "否", "否", "是", "2025-04-01"])
    with pytest.raises(InputError, match="'是否新装机' is not a known name but resembles new_install"):
        run_eligibility(POLICY, [str(feed)], str(tmp_path / "a.csv"), pm=_pm())
    summary = run_eligibility(POLICY, [str(feed)], str(tmp_path / "b.csv"), pm=_pm(),
                              columns={"是否新装机": "new_install"})
    assert summary.decided == 1 and ("new_install", "是否新装机") in summary.headers[0].pairs


def test_a_map_to_an_unknown_field_or_an_absent_header_is_a_usage_error(tmp_path: Path) -> None:
    feed = write_csv(tmp_path / "feed.csv", FEE_HEADERS, ROW)
    with pytest.raises(UsageError, match="'completed_at'"):
        run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / "a.csv"), pm=_pm(),
                 columns={"竣工日期": "completed_at"})
    with pytest.raises(UsageError, match=r"new_install.*does not read"):  # a subscriber field
        run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / "a.csv"), pm=_pm(),
                 columns={"竣工日期": "new_install"})
    for backend in ("rows", "columnar"):
        with pytest.raises(UsageError, match=r"feed\.csv: no column '完工日期' to map"):
            run_bill(POLICY, MONTH, [str(feed)], str(tmp_path / "a.csv"), pm=_pm(), backend=backend,
                     columns={"完工日期": "completed_on"})
    parquet = write_parquet(tmp_path / "feed.parquet", FEE_HEADERS, ROW)
    with pytest.raises(UsageError, match="no column '完工日期' to map"):
        run_bill(POLICY, MONTH, [str(parquet)], str(tmp_path / "a.parquet"), pm=_pm(),
                 columns={"完工日期": "completed_on"})
    assert not (tmp_path / "a.csv").exists() and not (tmp_path / "a.parquet").exists()


# -- the command line ----------------------------------------------------------------------------------
def test_cli_prints_the_map_before_the_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed = write_csv(tmp_path / "crm-feed.csv", [*FEE_HEADERS, "备注"], [*ROW, "x"])
    assert main(["bill", MONTH, str(feed), "-o", "-", "--rejects", str(tmp_path / "r.csv")]) == 0
    captured = capsys.readouterr()
    assert "宽带账号" not in captured.out  # stdout stays data
    first, counts = captured.err.splitlines()[:2]
    assert first == ("crm-feed.csv: account_id ← 宽带账号, product ← 产品类型, accepted_on ← 受理日期, "
                     "completed_on ← 竣工日期, cancel_requested_on ← 拆机申请日期, "
                     "cancel_effective_on ← 拆机生效日期; ignored: 备注")
    assert counts == "rows in: 1  decided: 1  rejected: 0  skipped: 0"


def test_cli_near_miss_is_status_1_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed = write_csv(tmp_path / "feed.csv", renamed("拆机生效日期", "拆机生效时间"), ROW)
    assert main(["bill", MONTH, str(feed), "-o", str(tmp_path / "b.csv")]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("itvrules: error: feed.csv: (columns): column '拆机生效时间'")
    assert "拆机生效日期" in err and "--column 拆机生效时间=cancel_effective_on" in err
    assert main(["bill", MONTH, str(feed), "-o", str(tmp_path / "b.csv"),
                 "--column", "拆机生效时间=cancel_effective_on"]) == 0
    assert "cancel_effective_on ← 拆机生效时间" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "words"), [
    ("竣工日期=completed_at", "'completed_at'"),
    ("无此列=completed_on", "no column '无此列'"),
    ("竣工日期", "expected HEADER=FIELD"),
])
def test_cli_bad_column_options_are_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             option: str, words: str) -> None:
    feed = write_csv(tmp_path / "feed.csv", FEE_HEADERS, ROW)
    assert main(["bill", MONTH, str(feed), "-o", str(tmp_path / "b.csv"), "--column", option]) == 2
    assert words in capsys.readouterr().err


def test_cli_eligibility_takes_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    headers = ["宽带号", "套餐", "产品类型", "小区类型", "是否新装", "是否已有iTV", "线路是否具备",
               "受理日期"]
    feed = write_csv(tmp_path / "subs.csv", headers,
                     ["S1", "e8-68", "品牌", "未提速", "否", "否", "是", "2025-04-01"])
    assert main(["eligibility", str(feed), "-o", str(tmp_path / "e.csv"),
                 "--column", "宽带号=account_id"]) == 0
    assert "subs.csv: account_id ← 宽带号" in capsys.readouterr().err
    assert read_rows(tmp_path / "e.csv")[0]["account_id"] == "S1"


def test_cli_ingest_and_explain_take_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed = write_csv(tmp_path / "feed.csv", renamed("竣工日期", "完工日期"), ROW)
    db = tmp_path / "ledger.db"
    assert main(["ingest", str(feed), "--db", str(db), "--as-of", "2025-08-01"]) == 1
    assert "'完工日期' is not a known name" in capsys.readouterr().err
    assert main(["ingest", str(feed), "--db", str(db), "--as-of", "2025-08-01",
                 "--column", "完工日期=completed_on"]) == 0
    err = capsys.readouterr().err
    assert "completed_on ← 完工日期" in err and "rows in: 1  ingested: 1  rejected: 0  skipped: 0" in err
    assert main(["explain", "--account", "A001", str(feed), "--month", MONTH]) == 1
    capsys.readouterr()
    assert main(["explain", "--account", "A001", str(feed), "--month", MONTH,
                 "--column", "完工日期=completed_on"]) == 0
    assert "default_paid" in capsys.readouterr().out


def test_cli_explain_finds_a_refused_row_under_a_mapped_account_header(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed = write_csv(tmp_path / "feed.csv", ["客户号", *FEE_HEADERS[1:]],
                     ["A009", "品牌", "2025-02-30", "", "", ""])
    assert main(["explain", "--account", "A009", str(feed), "--month", MONTH,
                 "--column", "客户号=account_id"]) == 1
    err = capsys.readouterr().err
    assert "the row of account A009 cannot be decided" in err and "accepted_on" in err
