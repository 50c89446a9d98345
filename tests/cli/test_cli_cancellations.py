"""``itvrules cancellations list|advance`` and ``ingest --steps``: the cancellation list from the
command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from itvrules.cli import main

AS_OF = "2025-06-30"
FEED = (
    "account_id,product,accepted_on,completed_on,cancel_requested_on,cancel_effective_on,prior_modem,channel\n"
    "A001,brand,2025-03-25,2025-03-28,2025-05-20,2025-05-31,ordinary,伊山营业厅\n"  # installed, effective
    "A002,brand,2025-03-25,2025-03-28,2025-05-25,,e8b,城东营业厅\n"              # late: not effective
    "A003,brand,2025-03-25,,2025-03-27,,none,城南营业厅\n"                       # cancelled before install
    "A004,brand,2025-03-25,2025-03-28,,,none,城南营业厅\n"                      # no cancellation
)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    feed = tmp_path / "feed.csv"
    feed.write_text(FEED, encoding="utf-8")
    ledger = tmp_path / "ledger.db"
    assert main(["ingest", str(feed), "--db", str(ledger), "--as-of", AS_OF]) == 0
    capsys.readouterr()
    return ledger


def listing(db: Path, tmp_path: Path, on: str = "2025-06-10") -> dict[str, dict[str, str]]:
    out = tmp_path / f"list-{on}.csv"
    assert main(["cancellations", "list", "--db", str(db), "--on", on, "-o", str(out)]) == 0
    return {row["account_id"]: row for row in read_csv(out)}


def advance(db: Path, account: str, step: str, on: str, *more: str) -> int:
    return main(["cancellations", "advance", account, step, "--on", on, "--db", str(db),
                 "--as-of", AS_OF, *more])


def test_list_shows_step_owner_age_and_overdue_on_the_day(db: Path, tmp_path: Path) -> None:
    rows = listing(db, tmp_path)
    assert sorted(rows) == ["A001", "A002", "A003"]  # A004 has no cancellation
    a1 = rows["A001"]
    assert (a1["status"], a1["step"], a1["step_name"], a1["owner"]) == (
        "open", "channel", "渠道上报", "受理渠道")
    assert (a1["requested_on"], a1["effective_on"], a1["step_since"]) == (
        "2025-05-20", "2025-05-31", "2025-05-20")
    assert (a1["step_age_days"], a1["open_days"], a1["overdue"], a1["late"]) == ("21", "21", "yes", "no")
    assert (rows["A002"]["step_age_days"], rows["A002"]["late"]) == ("16", "yes")
    early = listing(db, tmp_path, "2025-05-26")
    assert (early["A001"]["step_age_days"], early["A001"]["overdue"]) == ("6", "no")
    assert "A002" in early and early["A002"]["step_age_days"] == "1"


def test_list_shows_a_cancellation_before_install_closed_with_its_reason(db: Path, tmp_path: Path) -> None:
    a3 = listing(db, tmp_path)["A003"]
    assert (a3["status"], a3["closed_on"], a3["step"], a3["overdue"]) == ("closed", "2025-03-27", "", "no")
    assert a3["closed_reason"] == "cancelled before install: no terminals were fitted, nothing to recover"
    orders = tmp_path / "orders.csv"
    assert main(["workorders", "--db", str(db), "--as-of", AS_OF, "-o", str(orders)]) == 0
    mine = [(o["kind"], o["status"]) for o in read_csv(orders) if o["account_id"] == "A003"]
    assert sorted(mine) == [("cancellation", "closed"), ("install", "closed")]  # no recovery order


def test_list_prints_a_table_without_an_output_file(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cancellations", "list", "--db", str(db), "--on", "2025-06-10"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "cancellations as of 2025-06-10: 3 (open 2, overdue 2, late 1; closed 1)"
    assert ("A001  requested 2025-05-20, effective 2025-05-31  at channel 渠道上报 (受理渠道) "
            "21 days OVERDUE") in out
    assert "A003  requested 2025-03-27, effective -  closed 2025-03-27: cancelled before install" in out
    assert "date(" not in out and "Decimal" not in out


def test_list_open_only_and_jsonl(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "open.jsonl"
    assert main(["cancellations", "list", "--db", str(db), "--on", "2025-06-10", "--open",
                 "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["account_id"] for r in rows] == ["A001", "A002"]


def test_advance_one_step_moves_the_list(db: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert advance(db, "A001", "渠道上报", "2025-05-21", "--by", "王芳") == 0
    out = capsys.readouterr().out
    assert "account A001: channel 渠道上报 done on 2025-05-21 by 王芳" in out
    assert "account A001: next support_centre 支撑中心汇总 (业务支撑中心)" in out
    a1 = listing(db, tmp_path)["A001"]
    assert (a1["step"], a1["owner"], a1["step_since"], a1["step_age_days"]) == (
        "support_centre", "业务支撑中心", "2025-05-21", "20")
    assert a1["steps_done"] == "channel 2025-05-21 王芳"
    assert advance(db, "A001", "channel", "2025-05-21", "--by", "王芳") == 0  # the same record again
    assert "already recorded, nothing added" in capsys.readouterr().out


@pytest.mark.parametrize(("account", "step", "message"), [
    ("A001", "marketing_review", "account A001: step: out of order: asked marketing_review, the next step "
                                 "is channel"),
    ("A003", "channel", "account A003: step: cancelled before install: the list closed when it was requested "
                        "(2025-03-27), no terminals were fitted, nothing to recover"),
    ("A004", "channel", "account A004: step: no cancellation was requested"),
])
def test_advance_refuses_a_step_out_of_order_in_one_line(db: Path, account: str, step: str, message: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert advance(db, account, step, "2025-06-01") == 1
    err = capsys.readouterr().err
    assert err == f"itvrules: error: {message}\n"


def test_advance_refuses_an_unknown_step_or_account(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert advance(db, "A001", "回访", "2025-06-01") == 1
    err = capsys.readouterr().err
    assert "unknown step; the list is channel (渠道上报)" in err and err.count("\n") == 1
    assert advance(db, "A999", "channel", "2025-06-01") == 1
    assert "no enrolment of this account" in capsys.readouterr().err
    assert advance(db, "A001", "channel", "2025-07-01") == 2  # after the run day
    assert "after the run day 2025-06-30" in capsys.readouterr().err


def test_the_line_worker_step_with_a_depot_returns_the_terminals_and_closes_the_list(
        db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for day, step in enumerate(["channel", "support_centre", "marketing_review", "install_centre"], start=1):
        assert advance(db, "A001", step, f"2025-06-0{day}") == 0
    assert advance(db, "A001", "line_worker_recovery", "2025-06-12", "--depot", "伊山") == 0
    out = capsys.readouterr().out
    assert "account A001: recovered e8b stb into 伊山 on 2025-06-12" in out
    assert "account A001: list closed on 2025-06-12: every step done" in out
    a1 = listing(db, tmp_path, AS_OF)["A001"]
    assert (a1["status"], a1["closed_on"], a1["step"]) == ("closed", "2025-06-12", "")
    assert main(["stock", "show", "--db", str(db), "--as-of", AS_OF, "--json"]) == 0
    stock = json.loads(capsys.readouterr().out)
    assert stock["depots"] == {"伊山": {"e8b": {"refurbished": 1}, "stb": {"refurbished": 1}}}
    orders = tmp_path / "orders.csv"
    assert main(["workorders", "--db", str(db), "--as-of", AS_OF, "-o", str(orders)]) == 0
    statuses = {o["kind"]: o["status"] for o in read_csv(orders) if o["account_id"] == "A001"}
    assert (statuses["cancellation"], statuses["recovery"]) == ("done", "done")


def test_a_stock_recovery_alone_closes_the_list(db: Path, tmp_path: Path) -> None:
    assert main(["stock", "recover", "伊山", "stb", "e8b", "--account", "A001", "--on", "2025-06-08",
                 "--db", str(db), "--as-of", AS_OF]) == 0
    a1 = listing(db, tmp_path, AS_OF)["A001"]
    assert (a1["status"], a1["closed_on"]) == ("closed", "2025-06-08")
    assert a1["closed_reason"] == "the terminals were recovered into stock on 2025-06-08"


def test_a_depot_on_another_step_is_refused(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert advance(db, "A001", "channel", "2025-06-01", "--depot", "伊山") == 1
    err = capsys.readouterr().err
    assert "only the last step, line_worker_recovery (线务员回收), returns terminals" in err


STEPS = (
    "宽带账号,环节,完成日期,经办人\n"
    "A001,支撑中心汇总,2025-05-23,孙蒙蒙\n"     # row 2: before its channel row, by date it comes after
    "A001,channel,2025-05-21,王芳\n"           # row 3
    "A002,install_centre,2025-06-05,\n"        # row 4: out of order, the next step is channel
    "A003,channel,2025-05-26,\n"               # row 5: cancelled before install
    "A002,回访,2025-05-26,\n"                   # row 6: unknown step
    "A002,channel,2025-13-26,\n"               # row 7: not a date
    "A002,渠道上报,2025-05-27,\n"               # row 8
)


def test_ingest_steps_keeps_good_rows_and_rejects_bad_ones_by_row_and_field(
        db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed, steps, rejects = tmp_path / "feed.csv", tmp_path / "steps.csv", tmp_path / "rejects.csv"
    steps.write_text(STEPS, encoding="utf-8")
    command = ["ingest", str(feed), "--db", str(db), "--as-of", AS_OF, "--steps", str(steps),
               "--rejects", str(rejects)]
    assert main(command) == 3
    err = capsys.readouterr().err
    assert "step rows in: 7  ingested: 3  rejected: 4" in err
    refused = {int(r["source_row"]): (r["field"], r["error"]) for r in read_csv(rejects)}
    assert sorted(refused) == [4, 5, 6, 7]
    assert refused[4][0] == "step" and "out of order: asked install_centre, the next step is" in refused[4][1]
    assert "account A002" in refused[4][1]
    assert refused[5][0] == "step" and "cancelled before install" in refused[5][1]
    assert refused[6][0] == "step" and "unknown step" in refused[6][1]
    assert refused[7][0] == "done_on"
    rows = listing(db, tmp_path)
    assert (rows["A001"]["step"], rows["A001"]["steps_done"]) == (
        "marketing_review", "channel 2025-05-21 王芳; support_centre 2025-05-23 孙蒙蒙")
    assert rows["A002"]["step"] == "support_centre"

    # Ingesting the same steps again changes nothing.
    assert main(command) == 3
    assert "events added: 0" in capsys.readouterr().err
    assert listing(db, tmp_path) == rows


def test_ingest_steps_with_a_depot_recovers_the_terminals(db: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    feed, steps = tmp_path / "feed.csv", tmp_path / "steps.csv"
    rows = ["account_id,step,done_on,by,depot"]
    rows += [f"A001,{s},2025-06-0{i},," for i, s in enumerate(
        ["channel", "support_centre", "marketing_review", "install_centre"], start=1)]
    rows.append("A001,line_worker_recovery,2025-06-09,张师傅,伊山")
    steps.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["ingest", str(feed), "--db", str(db), "--as-of", AS_OF, "--steps", str(steps)]) == 0
    capsys.readouterr()
    a1 = listing(db, tmp_path, AS_OF)["A001"]
    assert (a1["status"], a1["closed_on"]) == ("closed", "2025-06-09")
    assert main(["stock", "show", "--db", str(db), "--as-of", AS_OF]) == 0
    assert "stb       refurbished      1" in capsys.readouterr().out


def test_ingest_steps_file_without_its_columns_stops(db: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    feed, steps = tmp_path / "feed.csv", tmp_path / "steps.csv"
    steps.write_text("宽带账号,完成日期\nA001,2025-05-21\n", encoding="utf-8")
    assert main(["ingest", str(feed), "--db", str(db), "--as-of", AS_OF, "--steps", str(steps)]) == 1
    assert "missing required column(s): step" in capsys.readouterr().err


def test_the_demo_moves_the_sample_cancellations_through_their_steps(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from itvrules.cli import _demo

    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    shipped = _demo.sample_manifest()["cancellation-steps.csv"]["data_rows"]
    assert (f"cancellation steps (cancellation-steps.csv): rows in: {shipped}  ingested: {shipped}  "
            "rejected: 0") in text
    lists = read_csv(out / "cancellations.csv")
    assert f"  {out / 'cancellations.csv'}" in text
    closed = [c for c in lists if c["status"] == "closed"]
    waiting = {c["step"] for c in lists if c["status"] == "open"}
    assert closed and all(c["closed_reason"] for c in closed)
    assert len(waiting) >= 3  # lists stand at several steps, not all at the first
    assert any(c["steps_done"].count(";") == 4 for c in closed)  # every step done
    assert f"cancellations as of {_demo.AS_OF}: {len(lists)} (open {len(lists) - len(closed)}" in text
