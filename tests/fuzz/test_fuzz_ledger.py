"""Fuzz the ledger commands: hypothesis runs sequences of ingests (small feeds with bad rows,
cancellations, hostile account ids and far --as-of days), work orders, reports and stock moves
against one temporary SQLite ledger, and checks that every command ends in a documented status
with at most one error line and no traceback, that an ingest's rows in = ingested + rejected +
skipped, that a failed command leaves the ledger's events as they were, and that no command
takes more than a bounded amount of memory."""

from __future__ import annotations

import contextlib
import csv
import io
import re
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from itvrules.cli import main

HEADER = ["account_id", "product", "accepted_on", "completed_on", "returned", "return_reason",
          "cancel_requested_on", "cancel_effective_on", "switched_to", "channel", "contact_phone",
          "prior_modem"]
#: The exit statuses docs/cli.md documents for these commands.
STATUSES = {0, 1, 2, 3}
#: How far this process's peak memory may grow over all the commands run (MiB): an --as-of
#: replayed to 9999 took gigabytes.
GROWTH_MIB = 256
#: Seconds one command may take on these small feeds (a replay to 9999 did not end in minutes).
SECONDS = 20.0
#: A command costs about 0.2 s (each loads the policy), so this test tries a quarter of the
#: profile's examples: 100 under ci (about a minute), 1,250 under deep.
EXAMPLES = max(10, settings.default.max_examples // 4)
SUMMARY = re.compile(r"rows in: (\d+)  ingested: (\d+)  rejected: (\d+)  skipped: (\d+)")
ADDED = re.compile(r"events added: (\d+)  already present: (\d+)")
#: The one error line of a failed command; argparse's names the subcommand.
ERROR = re.compile(r"^itvrules(?: [a-z]+)*: error: ")

accounts = st.sampled_from([
    "A001", "A002", "A003", "0000123", "depot:城关", "A\x00NUL", "", " A001", "A001\u200b",
    "=1+1", "1E5", "ａ００１", "A\ud800", "x" * 300, "B-7", "c.d@e"])
days = st.sampled_from([
    "", "2025-03-20", "2025-03-31", "2025-04-02", "2025-04-30", "2025-05-31", "2025-06-15",
    "2025-02-30", "0000-01-01", "9999-12-31", "2025/4/1", "20250401", "not a date", "2025-13-01"])
as_of_days = st.sampled_from([
    "2025-06-30", "2025-12-31", "2026-03-31", "9999-12-31", "2999-12-31", "3000-01-01",
    "0001-01-01", "2024-01-01"])
weeks = st.sampled_from(["2025-W14", "2025-W22", "9999-W52", "0001-W01", "2999-W52", "3000-W01",
                         "2025-W53"])
row = st.tuples(
    accounts,
    st.sampled_from(["brand", "annual", "single_monthly", "品牌", "unknown", ""]),
    days, days,
    st.sampled_from(["", "否", "是", "yes"]),
    st.sampled_from(["", "线路不具备"]),
    days, days,
    st.sampled_from(["", "basic", "quanneng", "ｑｕａｎｎｅｎｇ", "nope"]),
    st.sampled_from(["城东营业厅", "", "客服中心"]),
    st.sampled_from(["13800000001", "", "=HYPERLINK(1)"]),
    st.sampled_from(["ordinary", "e8b", "none", "", "?"]),
).map(list)
feeds = st.lists(row, min_size=0, max_size=8)

ingest = st.tuples(st.just("ingest"), feeds, as_of_days)
workorders = st.tuples(st.just("workorders"), as_of_days)
kpi = st.tuples(st.just("kpi"), as_of_days)
weekly = st.tuples(st.just("weekly"), weeks)
stock = st.tuples(st.sampled_from(["stock show", "stock receive", "stock allocate"]), accounts,
                  days)
cancellations = st.tuples(st.just("cancellations"), as_of_days)
commands = st.lists(st.one_of(ingest, workorders, kpi, weekly, stock, cancellations),
                    min_size=1, max_size=4)


def write_feed(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="", errors="surrogatepass") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)


def argv_of(step: tuple[object, ...], folder: Path, n: int) -> list[str]:
    """The command line of one generated step."""
    kind = step[0]
    db = ["--db", str(folder / "ledger.db")]
    if kind == "ingest":
        feed = folder / f"feed{n}.csv"
        write_feed(feed, step[1])  # type: ignore[arg-type]
        return ["ingest", str(feed), *db, "--as-of", str(step[2]), "--no-progress"]
    if kind == "workorders":
        return ["workorders", *db, "--as-of", str(step[1]), "-o", str(folder / "orders.csv")]
    if kind == "kpi":
        return ["report", "kpi", *db, "--month", "2025-06", "--as-of", str(step[1])]
    if kind == "weekly":
        return ["report", "weekly", *db, "--week", str(step[1]), "-o", str(folder / "w.csv")]
    if kind == "cancellations":
        return ["cancellations", "list", *db, "--on", str(step[1])]
    day = str(step[2]) or "2025-04-01"
    if kind == "stock show":
        return ["stock", "show", *db, "--as-of", "2025-12-31"]
    if kind == "stock receive":
        return ["stock", "receive", "城关", "stb", "new", "3", "--on", day, *db]
    return ["stock", "allocate", "城关", "stb", "--account", str(step[1]), "--on", day,
            "--as-of", "2025-12-31", *db]


def event_count(db: Path) -> int | None:
    if not db.exists():
        return None
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM ledger_events").fetchone()[0])
    finally:
        conn.close()


def run(argv: list[str]) -> tuple[int, str, str, float]:
    """Status, stdout, stderr and seconds of one command line, in this process."""
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue(), time.perf_counter() - start


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: Commands tried, and this process's peak memory before the first (set by the first example:
#: tests run earlier in the same process may have raised it).
TRIED: dict[str, float] = {"commands": 0}


@settings(max_examples=EXAMPLES)
@given(commands)
def test_ledger_commands_end_in_a_status_a_line_and_a_whole_ledger(
        steps: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        db = folder / "ledger.db"
        TRIED.setdefault("start_mib", peak_mib())
        for n, step in enumerate(steps):
            argv = argv_of(step, folder, n)
            before = event_count(db)
            status, out, err, seconds = run(argv)
            TRIED["commands"] += 1
            assert status in STATUSES, (argv, status, err)
            assert "Traceback" not in err and "Traceback" not in out, (argv, err)
            assert seconds < SECONDS, (argv, seconds)
            assert peak_mib() - TRIED["start_mib"] < GROWTH_MIB, (argv, peak_mib())
            errors = [line for line in err.splitlines() if ERROR.match(line)]
            if status in (1, 2):
                assert len(errors) == 1, (argv, err)
                assert event_count(db) == before, (argv, err)  # nothing half-done
                continue
            assert not errors, (argv, err)
            if step[0] == "ingest":
                summary = SUMMARY.search(err)
                assert summary is not None, err
                rows_in, ingested, rejected, skipped = map(int, summary.groups())
                assert rows_in == ingested + rejected + skipped == len(step[1]), err  # type: ignore[arg-type]
                added = ADDED.search(err)
                assert added is not None, err
                assert event_count(db) == (before or 0) + int(added.group(1))
