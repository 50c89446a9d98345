"""``itvrules ingest|workorders|stock|report`` and the grown demo: the ledger side of the command line."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from pathlib import Path

import pytest

import itvrules
from itvrules.cli import _demo, _ledger, _report, main
from itvrules.lifecycle import events_from_enrollment, replay
from itvrules.operations import detail_fields, work_orders
from itvrules.reports import weekly_extract
from itvrules.store import open_ledger

AS_OF = "2025-06-30"
HEADER = ("account_id,product,accepted_on,completed_on,returned,return_reason,cancel_requested_on,"
          "cancel_effective_on,switched_to,channel,contact_phone,prior_modem\n")
GOOD = (
    "A001,brand,2025-03-25,2025-03-31,,,,,,城东营业厅,13800000001,ordinary\n"      # row 2: paid after trial
    "A002,annual,2025-04-02,2025-04-03,,,,,basic,客服中心,13800000002,e8b\n"      # row 3: switched
    "A003,brand,2025-04-02,,true,线路不具备,,,,城南营业厅,13800000003,none\n"      # row 4: returned
    "A004,brand,2025-03-25,2025-03-28,,,2025-05-30,,,城东营业厅,13800000004,ordinary\n"  # row 5: late cancel
    "A005,brand,2025-04-03,,,,,,,城东营业厅,13800000005,none\n"                  # row 6: never installed
)
BAD = (
    "A006,brand,2025-02-30,,,,,,,,,\n"                                            # row 7: not a date
    "A007,brand,2025-04-01,2025-04-02,,,2025-06-20,2025-07-15,,,13800000007,ordinary\n"  # row 8: after AS_OF
)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    path = tmp_path / "feed.csv"
    path.write_text(HEADER + GOOD + BAD, encoding="utf-8")
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"


@pytest.fixture
def ingested(feed: Path, db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The feed in a ledger as of AS_OF (two rows rejected)."""
    assert main(["ingest", str(feed), "--db", str(db), "--as-of", AS_OF,
                 "--rejects", str(tmp_path / "rejects.csv")]) == 3
    capsys.readouterr()
    return db


def expected_states(day: date) -> list[itvrules.lifecycle.EnrollmentState]:
    """The good rows replayed by the library itself, for comparison with what the commands did."""
    policy = itvrules.load_policy()
    states = []
    for number, line in enumerate(GOOD.splitlines(), start=2):
        cells = dict(zip(HEADER.strip().split(","), line.split(","), strict=True))
        data = {k: v for k, v in cells.items() if v}
        data["returned"] = data.get("returned") == "true"
        enrollment = itvrules.structure(data, itvrules.Enrollment)
        events = [e for e in events_from_enrollment(enrollment, source="feed.csv", source_row=number)
                  if e.on <= day]
        if events:
            states.append(replay(policy, events, as_of=day))
    return states


# -- ingest ---------------------------------------------------------------------------------


def test_ingest_stores_good_rows_and_rejects_the_rest(feed: Path, db: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    rejects = tmp_path / "rejects.csv"
    assert main(["ingest", str(feed), "--db", str(db), "--as-of", AS_OF,
                 "--rejects", str(rejects)]) == 3
    err = capsys.readouterr().err
    assert "rows in: 7  ingested: 5  rejected: 2" in err
    with open_ledger(db) as ledger:
        stored = ledger.count()
        assert sorted(ledger.accounts()) == ["A001", "A002", "A003", "A004", "A005"]
        projection = ledger.projection("A004")
        assert projection is not None
        assert (projection["state"], projection["as_of"]) == ("cancelling", AS_OF)
        assert ledger.projection("A001")["state"] == "converted_paid"  # type: ignore[index]
    assert f"events added: {stored}  already present: 0" in err
    assert f"ledger: {db} ({stored} events, 5 accounts; states as of {AS_OF})" in err
    bad = {r["source_row"]: r for r in read_csv(rejects)}
    assert sorted(bad) == ["7", "8"]
    assert bad["7"]["field"] == "accepted_on"
    assert bad["8"]["field"] == "on"
    assert "dated after the run date 2025-06-30" in bad["8"]["error"]
    assert bad["8"]["source"] == "feed.csv"
    assert bad["8"]["account_id"] == "A007"  # the raw cells travel with the reject


def test_ingesting_the_same_feed_again_adds_nothing(ingested: Path, feed: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    with open_ledger(ingested) as ledger:
        before = ledger.count()
    assert main(["ingest", str(feed), "--db", str(ingested), "--as-of", AS_OF]) == 3
    err = capsys.readouterr().err
    assert f"events added: 0  already present: {before}" in err
    with open_ledger(ingested) as ledger:
        assert ledger.count() == before


def test_a_later_feed_adds_only_what_is_new(ingested: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    later = tmp_path / "later.csv"
    later.write_text(HEADER + GOOD.replace("A001,brand,2025-03-25,2025-03-31,,,,",
                                           "A001,brand,2025-03-25,2025-03-31,,,2025-06-10,2025-06-20"),
                     encoding="utf-8")
    assert main(["ingest", str(later), "--db", str(ingested), "--as-of", AS_OF]) == 0
    err = capsys.readouterr().err
    assert "rows in: 5  ingested: 5  rejected: 0" in err
    assert "events added: 2  already present:" in err
    with open_ledger(ingested) as ledger:
        assert ledger.projection("A001")["state"] == "closed"  # type: ignore[index]


def test_a_second_acceptance_of_an_account_is_rejected(ingested: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    again = tmp_path / "again.csv"
    again.write_text(HEADER + "A001,brand,2025-04-20,,,,,,,,,\n", encoding="utf-8")
    rejects = tmp_path / "again-rejects.csv"
    assert main(["ingest", str(again), "--db", str(ingested), "--as-of", AS_OF,
                 "--rejects", str(rejects)]) == 3
    assert "events added: 0" in capsys.readouterr().err
    (row,) = read_csv(rejects)
    assert "one trial per account: a second acceptance" in row["error"]


def test_usage_rows_are_checked_like_the_rest(ingested: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    usage = tmp_path / "usage.csv"
    usage.write_text("宽带账号,月份,收视时长\nA001,2025-03,3.5\nZ999,2025-04,12\nA002,2025-04,lots\n"
                     "A002,2025-4,1\n", encoding="utf-8")
    rejects = tmp_path / "usage-rejects.csv"
    feed = tmp_path / "none.csv"
    feed.write_text(HEADER, encoding="utf-8")
    assert main(["ingest", str(feed), "--usage", str(usage), "--db", str(ingested), "--as-of", AS_OF,
                 "--rejects", str(rejects)]) == 3
    err = capsys.readouterr().err
    assert "usage rows in: 4  ingested: 1  rejected: 3" in err
    bad = {r["source_row"]: r for r in read_csv(rejects)}
    assert "an event for an unknown enrolment" in bad["3"]["error"]
    assert bad["4"]["field"] == "hours"
    assert bad["5"]["field"] == "month"
    with open_ledger(ingested) as ledger:
        assert ledger.projection("A001")["usage_hours"] == {"2025-03": "3.5"}  # type: ignore[index]
        usage_event = [e for e in ledger.events("A001") if e.kind == "usage"]
    assert [(e.on, e.source, e.source_row) for e in usage_event] == [(date(2025, 4, 1), "usage.csv", 2)]


def test_a_clean_feed_is_status_0_and_replaces_earlier_rejects_with_a_header(
        feed: Path, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Every ingest writes its rejects file, the header only when nothing was rejected, so
    the file beside the ledger is never an earlier run's."""
    assert main(["ingest", str(feed), "--db", str(tmp_path / "other.db"), "--as-of", AS_OF]) == 3
    rejects = tmp_path / "ledger.rejects.csv"
    (tmp_path / "other.rejects.csv").replace(rejects)  # an earlier run's rejects, beside the ledger
    assert len(read_csv(rejects)) == 2
    clean = tmp_path / "clean.csv"
    clean.write_text(HEADER + GOOD, encoding="utf-8")
    monkeypatch.setattr(_ledger, "run_day", lambda: date(2025, 7, 1))  # the default --as-of
    capsys.readouterr()
    assert main(["ingest", str(clean), "--db", str(db)]) == 0
    err = capsys.readouterr().err
    assert "states as of 2025-07-01" in err
    assert f"rejects: {rejects}" in err
    assert read_csv(rejects) == []
    assert rejects.read_text(encoding="utf-8-sig").startswith("source,source_row,field,error")
    with open_ledger(db) as ledger:
        assert ledger.projection("A001")["as_of"] == "2025-07-01"  # type: ignore[index]
        assert ledger.projection("A001")["state"] == "converted_paid"  # type: ignore[index]


def test_rejects_go_beside_the_ledger_by_default(feed: Path, db: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(feed), "--db", f"sqlite:///{db}", "--as-of", AS_OF]) == 3
    assert f"rejects: {tmp_path / 'ledger.rejects.csv'}" in capsys.readouterr().err
    assert len(read_csv(tmp_path / "ledger.rejects.csv")) == 2


@pytest.mark.parametrize(("argv", "status", "message"), [
    (["--rejects", "-"], 2, "name one with --rejects FILE"),
    (["--as-of", "2025-13-01"], 2, "is not a date"),
    (["--db", "mongodb://x/y"], 1, "unknown ledger URL scheme"),
    (["--usage", "missing.csv"], 1, "missing.csv: (file): no such file"),
    (["--rejects", "bad-rows.pdf"], 2, "no output format for this file name"),
])
def test_ingest_command_line_errors(feed: Path, db: Path, argv: list[str], status: int, message: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    args = ["ingest", str(feed), *argv]
    if "--db" not in argv:
        args += ["--db", str(db)]
    assert main(args) == status
    assert message in capsys.readouterr().err


def test_a_feed_without_a_required_column_stops_ingest(db: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    feed = tmp_path / "short.csv"
    feed.write_text("account_id,accepted_on\nA1,2025-04-01\n", encoding="utf-8")
    assert main(["ingest", str(feed), "--db", str(db)]) == 1
    assert "missing required column(s): product (产品类型)" in capsys.readouterr().err


# -- workorders -------------------------------------------------------------------------------


def test_workorders_are_those_of_the_replayed_states(ingested: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "orders.csv"
    assert main(["workorders", "--db", str(ingested), "--as-of", AS_OF, "-o", str(out)]) == 0
    policy = itvrules.load_policy()
    expected = [o for s in expected_states(date(2025, 6, 30)) for o in work_orders(policy, s)]
    rows = read_csv(out)
    assert list(rows[0]) == ["order_id", "account_id", "kind", "kind_zh", "due", "assignee",
                             "assignee_en", "priority", "priority_zh", "status", "status_zh",
                             "clause", "contact_phone", *detail_fields(policy)]
    assert sorted(r["order_id"] for r in rows) == sorted(o.order_id for o in expected)
    call = next(r for r in rows if r["account_id"] == "A001" and r["kind"] == "outbound_call")
    assert call["silent"] == "yes" and call["usage_recorded"] == "no"  # no usage recorded
    assert call["priority"] == "high" and call["hours"] == "0.00"
    for row in rows:  # each detail in its own column, no JSON in a cell
        order = next(o for o in expected if o.order_id == row["order_id"])
        assert {k: v for k, v in row.items() if k in detail_fields(policy) and v} == \
            {k: v for k, v in order.details.items() if v}
        assert not any(cell.startswith(("{", "[")) for cell in row.values())
    assert call["priority_zh"] == "优先"
    assert (call["kind_zh"], call["assignee"], call["assignee_en"]) == (
        "首月外呼", "客服中心 孙建", "customer service centre")
    cancel = next(r for r in rows if r["kind"] == "cancellation")
    assert (cancel["kind_zh"], cancel["status"], cancel["status_zh"]) == (
        "注销流转", "channel", "待渠道上报")
    err = capsys.readouterr().err
    assert f"accounts: 5 (as of {AS_OF})  work orders: {len(expected)}" in err
    assert f"output: {out}" in err


def test_workorders_filters(ingested: Path, tmp_path: Path) -> None:
    todo = tmp_path / "todo.csv"
    assert main(["workorders", "--db", str(ingested), "--as-of", AS_OF, "--due-by", "2025-06-30",
                 "-o", str(todo)]) == 0
    rows = read_csv(todo)
    assert rows and all(r["status"] not in ("done", "closed", "returned") for r in rows)
    assert all(r["due"] <= "2025-06-30" for r in rows)
    assert ("A005", "install", "overdue") in {(r["account_id"], r["kind"], r["status"]) for r in rows}
    calls = tmp_path / "calls.jsonl"
    assert main(["workorders", "--db", str(ingested), "--as-of", AS_OF, "--kind", "cancellation",
                 "--open", "-o", str(calls)]) == 0
    lines = [json.loads(line) for line in calls.read_text(encoding="utf-8").splitlines()]
    assert [(o["account_id"], o["kind"], o["kind_zh"]) for o in lines] == [
        ("A004", "cancellation", "注销流转")]
    assert "details" not in lines[0] and date.fromisoformat(lines[0]["requested_on"])
    assert lines[0]["late"] in ("yes", "no") and lines[0]["fit"] is None  # not a cancellation's


def test_workorders_as_of_an_earlier_day_leave_out_later_events(ingested: Path, tmp_path: Path) -> None:
    out = tmp_path / "early.xlsx"
    assert main(["workorders", "--db", str(ingested), "--as-of", "2025-03-26", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"PK")
    csv_out = tmp_path / "early.csv"
    assert main(["workorders", "--db", str(ingested), "--as-of", "2025-03-26", "-o", str(csv_out)]) == 0
    assert {r["account_id"] for r in read_csv(csv_out)} == {"A001", "A004"}  # accepted by then


def test_workorders_to_stdout_and_usage_errors(ingested: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    stdout = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(stdout, encoding="utf-8"))
    assert main(["workorders", "--db", str(ingested), "--as-of", AS_OF, "-o", "-"]) == 0
    text = stdout.getvalue().decode("utf-8-sig")
    assert text.startswith("order_id,account_id,kind")
    assert len(text.splitlines()) > 5
    monkeypatch.undo()
    assert main(["workorders", "--db", str(ingested), "-o", str(tmp_path / "x.pdf")]) == 2
    assert "x.pdf" in capsys.readouterr().err
    assert main(["workorders", "--db", str(ingested), "-o", str(tmp_path / "x.csv"),
                 "--kind", "lunch"]) == 2
    assert "invalid choice: 'lunch'" in capsys.readouterr().err


# -- stock ----------------------------------------------------------------------------------


def test_stock_receive_show_allocate_recover(ingested: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", str(ingested)]
    assert main(["stock", "receive", "城关", "stb", "new", "2", "--on", "2025-03-20", *db]) == 0
    assert "城关 holds stb: 2 new, 0 refurbished (on 2025-03-20)" in capsys.readouterr().out
    assert main(["stock", "receive", "城关", "stb", "new", "2", "--on", "2025-03-20", *db]) == 0
    assert "already recorded, nothing added" in capsys.readouterr().out
    assert main(["stock", "receive", "城关", "stb", "new", "2", "--on", "2025-03-20", "--ref", "送货单2",
                 *db]) == 0
    assert "4 new" in capsys.readouterr().out
    # A001's trial fitted an STB; it comes back refurbished and goes out first (利旧).
    assert main(["stock", "recover", "城关", "stb", "--account", "A001", "--on", "2025-06-01",
                 "--as-of", AS_OF, *db]) == 0
    assert "城关 holds stb: 4 new, 1 refurbished (on 2025-06-01)" in capsys.readouterr().out
    assert main(["stock", "allocate", "城关", "stb", "--account", "A005", "--on", "2025-06-02",
                 "--as-of", AS_OF, *db]) == 0
    assert "allocated a refurbished stb from 城关 to A005" in capsys.readouterr().out
    with open_ledger(ingested) as ledger:
        assert ledger.projection("A005")["allocations"] == [["stb", "refurbished", "城关"]]  # type: ignore[index]
    assert main(["stock", "show", "--as-of", AS_OF, "--json", *db]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == {"as_of": AS_OF, "depots": {"城关": {"stb": {"new": 4}}}}
    assert main(["stock", "show", "--as-of", "2025-03-19", *db]) == 0
    assert "(no terminals in stock)" in capsys.readouterr().out


def test_stock_refusals_exit_1(ingested: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", str(ingested)]
    assert main(["stock", "allocate", "城关", "e8b", "--account", "A005", "--on", "2025-06-02",
                 "--as-of", AS_OF, *db]) == 1
    assert "itvrules: error: depot '城关', terminal e8b: none in stock" in capsys.readouterr().err
    assert main(["stock", "allocate", "城关", "stb", "--account", "NOPE", "--on", "2025-06-02", *db]) == 1
    assert "no enrolment of this account in the ledger" in capsys.readouterr().err
    assert main(["stock", "recover", "城关", "stb", "--account", "A003", "--on", "2025-06-02",
                 "--as-of", AS_OF, *db]) == 1  # returned: nothing was ever fitted
    assert "recovery of a terminal the trial never fitted" in capsys.readouterr().err
    with open_ledger(ingested) as ledger:
        assert not [e for e in ledger.events() if e.kind in ("terminal_allocated", "terminals_recovered")]


def test_an_allocation_may_not_empty_a_later_day(ingested: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", str(ingested)]
    assert main(["stock", "receive", "城关", "stb", "new", "1", "--on", "2025-05-01", *db]) == 0
    assert main(["stock", "allocate", "城关", "stb", "--account", "A005", "--on", "2025-05-10",
                 "--as-of", AS_OF, *db]) == 0
    capsys.readouterr()
    # On 2025-05-05 the box is still there, but giving it away would leave the 05-10 allocation short.
    assert main(["stock", "allocate", "城关", "stb", "--account", "A002", "--on", "2025-05-05",
                 "--as-of", AS_OF, *db]) == 1
    assert "no new one in stock" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["stock"],
    ["stock", "receive", "城关", "stb", "new", "0", "--on", "2025-03-20"],
    ["stock", "receive", "城关", "tv", "new", "1", "--on", "2025-03-20"],
    ["stock", "receive", "城关", "stb", "new", "1"],
    ["stock", "allocate", "城关", "stb", "--on", "2025-03-20"],
])
def test_stock_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage: itvrules stock" in capsys.readouterr().err


# -- reports --------------------------------------------------------------------------------


def test_weekly_extract_csv_and_xlsx(ingested: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "w14.csv"
    assert main(["report", "weekly", "--week", "2025-W14", "--db", str(ingested), "-o", str(out)]) == 0
    policy = itvrules.load_policy()
    expected = weekly_extract(policy, expected_states(date(2025, 4, 6)), "2025-W14")
    rows = read_csv(out)
    assert [r["宽带账号"] for r in rows if r["清单"] == "新增体验用户"] == \
        [r.account_id for r in expected.new_trials] == ["A001", "A002"]
    assert [r["宽带账号"] for r in rows if r["清单"] == "已受理未安装"] == \
        [r.account_id for r in expected.not_installed] == ["A005"]
    err = capsys.readouterr().err
    assert "week 2025-W14 (2025-03-31 .. 2025-04-06): 2 new trial users, 1 orders not installed" in err
    book = tmp_path / "w14.xlsx"
    assert main(["report", "weekly", "--week", "2025-W14", "--db", str(ingested), "-o", str(book)]) == 0
    assert book.read_bytes().startswith(b"PK")
    gb = tmp_path / "w14-gb.csv"
    assert main(["report", "weekly", "--week", "2025-W14", "--db", str(ingested), "-o", str(gb),
                 "--out-encoding", "gb18030"]) == 0
    assert gb.read_bytes().decode("gb18030").startswith("清单,周次,宽带账号")
    assert not list(tmp_path.glob(".*.part*"))  # no temporary file left behind


def test_weekly_defaults_to_last_week(ingested: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(_report, "run_day", lambda: date(2025, 4, 7))  # a Monday
    assert main(["report", "weekly", "--db", str(ingested), "-o", str(tmp_path / "w.csv")]) == 0
    assert "week 2025-W14 (2025-03-31 .. 2025-04-06)" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["--week", "2025-W54", "-o", "w.csv"], "ISO year 2025 has no week 54"),
    (["--week", "2025-14", "-o", "w.csv"], "exactly 'YYYY-Www'"),
    (["--week", "2025-W14", "-o", "w.pdf"], "write the extract as .csv or .xlsx"),
    (["--week", "2025-W14", "-o", "w.csv", "--out-encoding", "gbk"], "invalid choice: 'gbk'"),
])
def test_weekly_usage_errors(argv: list[str], message: str, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "weekly", "--db", str(tmp_path / "x.db"), *argv]) == 2
    assert message in capsys.readouterr().err


ELIGIBILITY = (
    "account_id,accepted_on,eligible,segment,reason,review,rule,clause\n"
    "A001,2025-03-25,true,new_install,new_install,false,elig.new_install,§二(三)\n"
    "A002,2025-04-02,true,new_install,new_install,false,elig.new_install,§二(三)\n"
    "X999,2025-04-02,true,new_install,new_install,false,elig.new_install,§二(三)\n"
    "X998,2025-04-02,false,,no_line,false,elig.no_line,§二\n"
)


def test_kpi_text_to_stdout_with_the_trial_rate(ingested: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "targets.csv"
    results.write_text(ELIGIBILITY, encoding="utf-8")
    assert main(["report", "kpi", "--db", str(ingested), "--as-of", AS_OF, "--month", "2025-06",
                 "--eligibility", str(results)]) == 0
    out = capsys.readouterr().out
    policy = itvrules.load_policy()
    report = itvrules.reports.kpi(policy, expected_states(date(2025, 6, 30)),
                                  [itvrules.Eligibility("A001", True, "new_install", "new_install", "r"),
                                   itvrules.Eligibility("A002", True, "new_install", "new_install", "r"),
                                   itvrules.Eligibility("X999", True, "new_install", "new_install", "r")],
                                  as_of=date(2025, 6, 30), month="2025-06")
    assert out == itvrules.reports.render_text(report)
    assert "66.7%" in out
    assert "as of 2025-06-30, billing month 2025-06" in out


def test_kpi_html_and_txt_files(ingested: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "kpi.html"
    assert main(["report", "kpi", "--db", str(ingested), "--as-of", AS_OF, "--month", "2025-06",
                 "-o", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>") and "data:image/png;base64," in html
    assert "as of 2025-06-30: 5 enrolments, new-install trial rate not given (no --eligibility)" \
        in capsys.readouterr().err
    text = tmp_path / "kpi.txt"
    assert main(["report", "kpi", "--db", str(ingested), "--as-of", AS_OF, "--month", "2025-06",
                 "-o", str(text)]) == 0
    assert text.read_text(encoding="utf-8").startswith("iTV 体验营销 KPI")


def test_kpi_with_unreadable_eligibility_rows_is_status_3(ingested: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "targets.csv"
    results.write_text(ELIGIBILITY + "X997,2025-04-02,maybe,,no_line,false,elig.no_line,§二\n",
                       encoding="utf-8")
    assert main(["report", "kpi", "--db", str(ingested), "--as-of", AS_OF, "--month", "2025-06",
                 "--eligibility", str(results)]) == 3
    captured = capsys.readouterr()
    assert "targets.csv, row 6: eligible: expected a boolean" in captured.err
    assert "66.7%" in captured.out  # the other rows still count


def test_kpi_usage_and_input_errors(ingested: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    base = ["report", "kpi", "--db", str(ingested), "--as-of", AS_OF]
    assert main(base) == 2
    assert "required: --month" in capsys.readouterr().err
    assert main([*base, "--month", "2025-6"]) == 2
    assert main([*base, "--month", "2025-06", "-o", str(tmp_path / "kpi.pdf")]) == 2
    assert "write the KPI report as .html or .htm or .txt" in capsys.readouterr().err
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("account_id,eligible\nA001,true\n", encoding="utf-8")
    assert main([*base, "--month", "2025-06", "--eligibility", str(wrong)]) == 1
    assert "missing required column(s): reason, rule" in capsys.readouterr().err


# -- demo -------------------------------------------------------------------------------------


def test_demo_runs_the_ledger_side_on_a_fresh_ledger(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    first = capsys.readouterr().out
    for name in ("ledger.db", "ingest-rejects.csv", "workorders.csv", f"weekly-{_demo.WEEK}.csv",
                 f"weekly-{_demo.WEEK}.xlsx", "kpi.txt", "kpi.html"):
        assert (out / name).is_file(), name
        assert f"  {out / name}\n" in first
    manifest = _demo.sample_manifest()["crm-feed.csv"]
    billed_bad = sorted(b["row"] for b in manifest["bad_rows"] if "bill" in b["rejected_by"])
    assert sorted(int(r["source_row"]) for r in read_csv(out / "ingest-rejects.csv")) == billed_bad
    decided = manifest["data_rows"] - len(billed_bad)
    with open_ledger(out / "ledger.db") as ledger:
        events = ledger.count()
        assert sum(1 for _ in ledger.accounts()) == decided
    assert (f"ledger ledger.db as of {_demo.AS_OF}: rows in: {manifest['data_rows']}  ingested: "
            f"{decided}  rejected: {len(billed_bad)}  events added: {events}") in first
    orders = read_csv(out / "workorders.csv")
    assert f"work orders as of {_demo.AS_OF}: {len(orders)} for {decided} accounts" in first
    weekly = read_csv(out / f"weekly-{_demo.WEEK}.csv")
    new = sum(1 for r in weekly if r["清单"] == "新增体验用户")
    assert f"week {_demo.WEEK} (2025-03-31 .. 2025-04-06): {new} new trial users" in first
    assert new > 0
    kpi_text = (out / "kpi.txt").read_text(encoding="utf-8")
    assert f"as of {_demo.AS_OF}, billing month {_demo.MONTH}" in kpi_text
    bill_total = sum(float(r["amount"]) for r in read_csv(out / f"bill-{_demo.MONTH}.csv"))
    assert f"billed {bill_total:.2f} CNY" in first  # the ledger's bills are the feed's bills
    assert "UNEXPECTED" not in first
    # A second run starts from an empty ledger again: the same events are added, not found.
    assert main(["demo", "--out", str(out)]) == 0
    assert f"events added: {events}" in capsys.readouterr().out
