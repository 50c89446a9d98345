"""``itvrules ingest --usage/--calls`` and ``itvrules report calls``: first-month calls and their results."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from itvrules.cli import main
from itvrules.formats import display_width
from itvrules.store import open_ledger

AS_OF = "2025-04-13"
FEED = """account_id,product,accepted_on,completed_on,channel,contact_phone,\
cancel_requested_on,cancel_effective_on
S1,brand,2025-03-25,2025-03-31,城东营业厅,13800000001,,
L1,brand,2025-03-25,2025-04-01,城东营业厅,13800000002,,
O1,brand,2025-03-25,2025-04-02,城东营业厅,13800000003,,
O2,brand,2025-03-25,2025-04-02,城东营业厅,13800000004,,
"""
USAGE = """宽带账号,日期,月份,收视时长
L1,2025-04-03,,2.5
O1,2025-04-03,,11
O2,,2025-03,4
O2,2025-04-04,2025-05,1
O2,2025-04-04,,30
S1,2025-04-05,,x
"""
CALLS = """宽带账号,外呼日期,是否接通,外呼结果,反映问题,备注
O1,2025-04-07,是,继续使用,,
S1,2025/4/8,否,未接通,,
L1,20250408,是,will_use,马赛克,晚上八点后
Z9,2025-04-08,是,继续使用,,
O2,2025-04-09,是,拟退订,卡顿,
O2,2025-04-09,否,继续使用,,
O2,2025-04-10,是,不知道,,
O2,2025-04-11,否,未接通,无信号,
O2,2025-04-31,是,继续使用,,
O2,2025-04-12,也许,继续使用,,
"""


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    for name, text in (("feed.csv", FEED), ("usage.csv", USAGE), ("calls.csv", CALLS)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    db = tmp_path / "ledger.db"
    assert main(["ingest", str(tmp_path / "feed.csv"), "--usage", str(tmp_path / "usage.csv"),
                 "--calls", str(tmp_path / "calls.csv"), "--db", str(db), "--as-of", AS_OF,
                 "--rejects", str(tmp_path / "rejects.csv")]) == 3
    err = capsys.readouterr().err
    assert "usage rows in: 6  ingested: 3  rejected: 3" in err
    assert "call rows in: 10  ingested: 4  rejected: 6" in err
    return db


def test_ingest_rejects_bad_usage_and_call_rows_naming_row_and_field(ledger: Path,
                                                                      tmp_path: Path) -> None:
    bad = {(r["source"], r["source_row"]): r for r in read_csv(tmp_path / "rejects.csv")}
    assert {k: v["field"] for k, v in bad.items()} == {
        ("usage.csv", "5"): "month",     # the day is not in that month
        ("usage.csv", "6"): "hours",     # more than a day has
        ("usage.csv", "7"): "hours",     # not a number
        ("calls.csv", "5"): "kind",      # no enrolment for Z9
        ("calls.csv", "7"): "outcome",   # not got through, yet 继续使用
        ("calls.csv", "8"): "outcome",   # not an outcome of the policy
        ("calls.csv", "9"): "problem",   # a problem heard on a call that did not get through
        ("calls.csv", "10"): "called_on",  # 31 April
        ("calls.csv", "11"): "reached",
    }
    assert "unknown enrolment" in bad[("calls.csv", "5")]["error"]
    assert "will_use 继续使用" in bad[("calls.csv", "8")]["error"]
    assert all("datetime" not in r["error"] and "Decimal" not in r["error"] for r in bad.values())


def test_daily_usage_and_call_results_are_ledger_events(ledger: Path) -> None:
    with open_ledger(ledger) as store:
        daily = [(e.on, dict(e.data)) for e in store.events("L1") if e.kind == "daily_usage"]
        calls = [(e.on, dict(e.data), e.source, e.source_row) for e in store.events("L1")
                 if e.kind == "call_result"]
        monthly = [e.data["month"] for e in store.events("O2") if e.kind == "usage"]
    assert daily == [(date(2025, 4, 4), {"day": "2025-04-03", "hours": "2.5"})]
    assert calls == [(date(2025, 4, 8), {"reached": "yes", "outcome": "will_use", "problem": "mosaic",
                                          "note": "晚上八点后"}, "calls.csv", 4)]
    assert monthly == ["2025-03"]


def test_ingesting_the_same_calls_again_adds_nothing(ledger: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text(FEED.splitlines()[0] + "\n", encoding="utf-8")
    assert main(["ingest", str(empty), "--calls", str(tmp_path / "calls.csv"), "--db", str(ledger),
                 "--as-of", AS_OF, "--rejects", str(tmp_path / "again.csv")]) == 3
    assert "events added: 0  already present: 4" in capsys.readouterr().err


def test_workorders_name_the_basis_and_send_playback_problems_to_operations(
        ledger: Path, tmp_path: Path) -> None:
    out = tmp_path / "orders.csv"
    assert main(["workorders", "--db", str(ledger), "--as-of", AS_OF, "-o", str(out)]) == 0
    rows = read_csv(out)
    calls = {r["account_id"]: r for r in rows if r["kind"] == "outbound_call"}
    assert {a: (r["priority"], r["status"], r["due"]) for a, r in calls.items()} == {
        "S1": ("high", "open", "2025-04-29"), "L1": ("high", "done", "2025-04-30"),
        "O1": ("normal", "done", "2025-05-01"), "O2": ("high", "done", "2025-05-01")}
    assert calls["L1"]["viewing_basis"] == "daily"
    assert (calls["L1"]["window_start"], calls["L1"]["window_end"]) == ("2025-04-01", "2025-04-30")
    assert calls["S1"]["viewing_basis"] == "no usage record"
    problems = [r for r in rows if r["kind"] == "playback_problem"]
    assert [(r["account_id"], r["due"], r["assignee"], r["clause"]) for r in problems] == [
        ("L1", "2025-04-09", "运维部", "§四(五)1"), ("O2", "2025-04-10", "运维部", "§四(五)1")]
    details = problems[0]
    assert details["clause_text"] == "对存在的卡/顿等问题,及时反馈运维部协调处理"
    assert (details["problem"], details["problem_name"]) == ("mosaic", "马赛克")


def figures(path: Path) -> dict[str, str]:
    rows = read_csv(path)
    assert list(rows[0]) == ["周次", "类别", "代码", "名称", "数值"]
    return {r["代码"]: r["数值"] for r in rows}


def test_the_call_report_of_the_week_the_calls_were_made(ledger: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "calls.csv"
    assert main(["report", "calls", "--week", "2025-04-07", "--db", str(ledger), "-o", str(out)]) == 0
    found = figures(out)
    assert {k: found[k] for k in ("calls_due", "calls_made", "calls_reached", "accounts_called",
                                  "accounts_reached")} == {
        "calls_due": "0", "calls_made": "4", "calls_reached": "3", "accounts_called": "4",
        "accounts_reached": "3"}
    # S1 and O2 silent, L1 low usage (2.5 h), O1 11 h
    assert (found["silent_called"], found["silent_reached"]) == ("2", "1")
    assert (found["low_usage_called"], found["low_usage_reached"]) == ("1", "1")
    assert (found["other_called"], found["other_reached"]) == ("1", "1")
    # O1 was called on 7 April before any of the three priority users: not priority first
    assert (found["others_before_priority"], found["priority_first"]) == ("1", "否")
    assert found["priority_waiting"] == "1"  # S1: never reached
    assert (found["outcome.will_use"], found["outcome.will_cancel"], found["outcome.no_answer"],
            found["outcome.undecided"]) == ("2", "1", "1", "0")
    assert (found["problem.mosaic"], found["problem.stutter"], found["problem.no_signal"]) == \
        ("1", "1", "0")
    assert found["playback_orders"] == "2"
    assert "for 市场部 董长伯" in capsys.readouterr().err


def test_the_call_report_of_the_week_the_calls_fall_due(ledger: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "calls", "--week", "2025-W18", "--db", str(ledger)]) == 0
    text = capsys.readouterr().out
    assert "外呼回访周报 2025-W18(2025-04-28 至 2025-05-04)" in text
    lines = {line.split()[-2]: line.split()[-1] for line in text.splitlines()
             if len(line.split()) >= 3 and line.startswith("  ")}
    assert (lines["calls_due"], lines["calls_due_reached"], lines["calls_made"]) == ("4", "3", "0")
    assert lines["priority_first"] == "是"


def test_the_call_report_text_lines_up_its_chinese_figures(ledger: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "calls", "--week", "2025-W18", "--db", str(ledger)]) == 0
    text = capsys.readouterr().out
    figures = text.split("[外呼明细", 1)[0]
    # the label is padded by display width, then the value right-aligned in 6 characters
    values = [(line, line.split()[-1]) for line in figures.splitlines() if line.startswith("  ")]
    assert any(display_width(line) != len(line) for line, _ in values)  # Chinese labels among them
    starts = {display_width(line) - display_width(value) + len(value) for line, value in values}
    assert len(starts) == 1, "every figure's label is padded to one display width"


def test_the_call_report_as_a_workbook(ledger: Path, tmp_path: Path) -> None:
    out = tmp_path / "calls.xlsx"
    assert main(["report", "calls", "--week", "2025-04-07", "--db", str(ledger), "-o", str(out)]) == 0
    book = CalamineWorkbook.from_path(str(out))
    assert book.sheet_names == ["汇总", "外呼明细", "重点待呼", "运维工单"]
    calls = book.get_sheet_by_name("外呼明细").to_python()
    assert calls[1][:3] == ["外呼日期", "宽带账号", "用户类别"]
    assert [row[1] for row in calls[2:]] == ["O1", "L1", "S1", "O2"]
    assert calls[3][7] == "晚上八点后"
    orders = book.get_sheet_by_name("运维工单").to_python()
    assert [row[1] for row in orders[2:]] == ["L1", "O2"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--week", "2025-04-08"], "2025-04-08 is a Tuesday, not a Monday"),
    (["--week", "2025-13-01"], "a week is its Monday"),
    (["-o", "calls.pdf"], "write the call report as .csv or .xlsx or .txt"),
])
def test_report_calls_usage_errors(ledger: Path, argv: list[str], message: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "calls", "--db", str(ledger), *argv]) == 2
    assert message in capsys.readouterr().err


def test_a_call_file_without_its_columns_stops_ingest(ledger: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    calls = tmp_path / "short.csv"
    calls.write_text("宽带账号,外呼日期\nO1,2025-04-07\n", encoding="utf-8")
    empty = tmp_path / "empty.csv"
    empty.write_text(FEED.splitlines()[0] + "\n", encoding="utf-8")
    assert main(["ingest", str(empty), "--calls", str(calls), "--db", str(ledger),
                 "--as-of", AS_OF]) == 1
    assert "missing required column(s): reached, outcome" in capsys.readouterr().err


def test_a_usage_file_needs_a_month_or_a_day(ledger: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    usage = tmp_path / "short.csv"
    usage.write_text("宽带账号,收视时长\nO1,3\n", encoding="utf-8")
    empty = tmp_path / "empty.csv"
    empty.write_text(FEED.splitlines()[0] + "\n", encoding="utf-8")
    assert main(["ingest", str(empty), "--usage", str(usage), "--db", str(ledger),
                 "--as-of", AS_OF]) == 1
    assert "missing required column(s): month or day" in capsys.readouterr().err
