"""Hostile use of the ledger commands: a feed is stored whole or not at all (also when two ingests
race), --as-of cannot ask for millennia of replay, dates past 9999 are refused in words, a
read-only ledger can be read, a sqlite:// URL's query is honoured, and no stock stream can be
taken for an enrolment."""

from __future__ import annotations

import csv
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from itvrules.cli import main
from itvrules.store import open_ledger
from paths import ROOT
from store_targets import BACKENDS, Target, open_target

AS_OF = "2025-12-31"
HEADER = ["account_id", "product", "accepted_on", "completed_on", "returned", "return_reason",
          "cancel_requested_on", "cancel_effective_on", "switched_to", "channel", "contact_phone",
          "prior_modem"]
SAMPLE = ROOT / "src" / "itvrules" / "sample_data" / "crm-feed.csv"


def feed_rows(first: int, count: int, accepted: str) -> list[list[str]]:
    """``count`` good orders of accounts ``F<first>`` on, all accepted on ``accepted``."""
    done = (date.fromisoformat(accepted) + timedelta(days=2)).isoformat()
    return [[f"F{n:05d}", "brand", accepted, done, "", "", "", "", "", "城东营业厅",
             f"138{n:08d}", "ordinary"] for n in range(first, first + count)]


def write_feed(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def cli(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command line in its own process, as a person runs it."""
    return subprocess.run([sys.executable, "-m", "itvrules", *argv], cwd=cwd, text=True,
                          capture_output=True, env={**os.environ, **(env or {})}, timeout=600)


def stored_rows(url: str) -> dict[str, set[int]]:
    """source file name -> the feed rows with events in the ledger."""
    found: dict[str, set[int]] = {}
    with open_ledger(url) as ledger:
        for event in ledger.events():
            found.setdefault(Path(event.source).name, set()).add(event.source_row)
    return found


def rejected_rows(path: Path) -> set[int]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {int(row["source_row"]) for row in csv.DictReader(handle)}


@pytest.fixture(autouse=True)
def no_ledger_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ITVRULES_DB", raising=False)
    monkeypatch.delenv("ITVRULES_LIMIT_AS_OF_DAYS", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    with open_target(request.param, tmp_path) as made:
        yield made


# -- all or nothing ------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_racing_ingests_of_overlapping_feeds_each_store_their_feed_whole(
        target: Target, tmp_path: Path) -> None:
    """Two ingests of feeds sharing half their accounts (accepted on other days), at once: they
    take turns, so every row of each feed is stored or rejected, none half, and both finish."""
    rows = 1500  # about 3,000 events a feed: more than one append chunk
    one = write_feed(tmp_path / "one.csv", feed_rows(0, rows, "2025-04-01"))
    two = write_feed(tmp_path / "two.csv", feed_rows(rows // 2, rows, "2025-04-10"))
    url = target.new_url()
    open_ledger(url).close()  # both find the ledger there
    runs = [subprocess.Popen(
        [sys.executable, "-m", "itvrules", "ingest", str(feed), "--db", url, "--as-of", AS_OF,
         "--rejects", str(tmp_path / f"{feed.stem}.rejects.csv"), "--no-progress"],
        cwd=tmp_path, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for feed in (one, two)]
    outcomes = [run.communicate(timeout=600) for run in runs]
    statuses = [run.returncode for run in runs]
    assert set(statuses) <= {0, 3}, outcomes
    assert statuses.count(3) == 1, "the second to run rejects the accounts the first stored"
    stored = stored_rows(url)
    for feed in (one, two):
        rejected = rejected_rows(tmp_path / f"{feed.stem}.rejects.csv")
        assert stored.get(feed.name, set()) | rejected == set(range(2, rows + 2)), feed.name
        assert not stored.get(feed.name, set()) & rejected
    assert sum(len(rejected_rows(tmp_path / f"{f.stem}.rejects.csv")) for f in (one, two)) \
        == rows // 2


def _failing_projector(fail_on_call: int) -> Any:
    """A lifecycle projector that raises the ``fail_on_call``-th time it projects an account."""
    from itvrules.cli import _ledger
    from itvrules.store import StoreError

    def make(policy: Any, day: date, engine: str | None = None) -> Any:
        real = _ledger.lifecycle_projector(policy, day, engine)
        calls = 0

        def project(account_id: str, events: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == fail_on_call:
                raise StoreError(f"injected failure projecting account {account_id}")
            return real(account_id, events)

        return project

    return make


def ledger_state(url: str) -> tuple[int, list[Any], list[Any]]:
    with open_ledger(url) as ledger:
        return (ledger.count(), [(e.event_id, e.source) for e in ledger.events()],
                list(ledger.projections()))


def test_a_failure_part_way_through_an_ingest_leaves_the_ledger_exactly_as_before(
        target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from itvrules.cli import _ingest

    url = target.new_url()
    first = write_feed(tmp_path / "first.csv", feed_rows(0, 5, "2025-04-01"))
    assert main(["ingest", str(first), "--db", url, "--as-of", AS_OF]) == 0
    before = ledger_state(url)
    feed = write_feed(tmp_path / "later.csv", feed_rows(100, 40, "2025-04-02"))
    monkeypatch.setattr(_ingest, "CHUNK_EVENTS", 10)  # many appends, the first ones committed before
    monkeypatch.setattr(_ingest, "lifecycle_projector", _failing_projector(30))
    capsys.readouterr()
    assert main(["ingest", str(feed), "--db", url, "--as-of", AS_OF]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"itvrules: error: {feed}: nothing stored, the ingest was rolled back")
    assert "injected failure" in err[0] and "first.csv" not in err[0]
    assert ledger_state(url) == before

    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    assert main(["ingest", str(feed), "--db", url, "--as-of", AS_OF]) == 0  # the retry succeeds
    assert ledger_state(url)[0] == before[0] + 40 * (before[0] // 5)  # as many events a row


def test_a_nul_in_an_account_id_never_stores_part_of_the_feed(tmp_path: Path) -> None:
    """The NUL row is rejected, or the whole feed is refused: never the rows before it alone."""
    rows = feed_rows(0, 1200, "2025-04-01")
    rows[1000][0] = "F\x00NUL"
    feed = write_feed(tmp_path / "nul.csv", rows)
    db = tmp_path / "ledger.db"
    result = cli("ingest", str(feed), "--db", str(db), "--as-of", AS_OF, "--no-progress",
                 cwd=tmp_path)
    assert "Traceback" not in result.stderr
    stored = stored_rows(str(db)).get("nul.csv", set()) if db.exists() else set()
    if result.returncode == 1:
        assert stored == set()
        assert "nothing stored" in result.stderr
    else:
        assert result.returncode == 3, result.stderr
        assert stored == set(range(2, 1202)) - {1002}


# -- --as-of --------------------------------------------------------------------------------------


def peak_rss_mib(argv: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run the CLI in a child and read its peak resident memory (through a one-child wrapper)."""
    probe = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=100)\n"
        "sys.stdout.write(r.stdout); sys.stderr.write(r.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(r.returncode)\n")
    result = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "itvrules", *argv],
                            cwd=cwd, text=True, capture_output=True, timeout=120)
    *lines, rss = result.stderr.strip().splitlines()
    result.stderr = "\n".join(lines)
    return result, int(rss) / 1024


def test_an_as_of_millennia_away_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    start = time.perf_counter()
    result, peak = peak_rss_mib(["ingest", str(SAMPLE), "--db", str(db), "--as-of", "2999-12-31",
                                 "--no-progress"], tmp_path)
    assert time.perf_counter() - start < 30
    assert peak < 250, f"{peak:.0f} MiB"
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("itvrules: error: --as-of 2999-12-31: ")
    assert "as_of_days" in line and "ITVRULES_LIMIT_AS_OF_DAYS=N" in line and "at most 400" in line
    assert not db.exists() and not list(tmp_path.glob("ledger.db*"))


def test_an_existing_ledger_is_untouched_by_a_refused_as_of(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    assert main(["-q", "ingest", str(SAMPLE), "--db", str(db), "--as-of", AS_OF]) == 3
    before = db.read_bytes()
    assert main(["ingest", str(SAMPLE), "--db", str(db), "--as-of", "2999-01-01"]) == 1
    assert db.read_bytes() == before


def test_the_as_of_limit_counts_from_the_later_of_today_and_the_last_event(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from itvrules.cli._common import run_day

    db = tmp_path / "ledger.db"
    today = run_day()
    assert main(["-q", "ingest", str(SAMPLE), "--db", str(db),
                 "--as-of", (today + timedelta(days=400)).isoformat()]) == 3
    assert main(["-q", "workorders", "--db", str(db), "-o", "o.csv",
                 "--as-of", (today + timedelta(days=401)).isoformat()]) == 1
    assert "at most 400" in capsys.readouterr().err
    monkeypatch.setenv("ITVRULES_LIMIT_AS_OF_DAYS", "500")
    assert main(["-q", "workorders", "--db", str(db), "-o", "o.csv",
                 "--as-of", (today + timedelta(days=401)).isoformat()]) == 0


@pytest.mark.parametrize("argv", [
    ["workorders", "--as-of", "2999-12-31", "-o", "orders.csv"],
    ["report", "kpi", "--month", "2025-06", "--as-of", "2999-12-31"],
    ["report", "weekly", "--week", "2999-W01", "-o", "extract.csv"],
    ["report", "calls", "--week", "2999-W01"],
    ["cancellations", "list", "--on", "2999-12-31"],
    ["cancellations", "advance", "F00000", "channel", "--on", "2025-06-01", "--as-of",
     "2999-12-31"],
    ["stock", "allocate", "城关", "stb", "--account", "F00000", "--on", "2025-04-05", "--as-of",
     "2999-12-31"],
    ["stock", "recover", "城关", "stb", "--account", "F00000", "--on", "2025-06-20", "--as-of",
     "2999-12-31"],
], ids=lambda argv: " ".join(argv[:2]))
def test_every_command_that_replays_refuses_a_far_day_in_one_line(
        argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "ledger.db"
    assert main(["-q", "ingest", str(write_feed(tmp_path / "f.csv", feed_rows(0, 2, "2025-04-01"))),
                 "--db", str(db), "--as-of", AS_OF]) == 0
    before = db.read_bytes()
    capsys.readouterr()
    assert main([*argv, "--db", str(db)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "as_of_days" in line and "ITVRULES_LIMIT_AS_OF_DAYS" in line
    assert db.read_bytes() == before


# -- dates past 9999 --------------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["9999-11-30", "9999-08-30", "9997-12-31"])
def test_a_trial_date_past_the_calendar_is_refused_in_one_line(
        day: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trial", day]) == 2  # outside the contract's years
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"'{day}' is not a date" in err


@pytest.mark.parametrize("day", [date(9999, 11, 30), date(9999, 8, 30), date(9997, 12, 31)])
def test_a_trial_that_would_run_past_9999_is_refused_in_words_by_any_caller(day: date) -> None:
    """Whatever years a contract allows, the window of a date near the calendar's end is words."""
    import argparse

    from itvrules import InputError
    from itvrules.cli import _trial

    args = argparse.Namespace(date=day, policy=None, on=None, engine=None, json=False)
    with pytest.raises(InputError) as raised:
        _trial.describe(args)
    assert str(raised.value) == (
        f"date: the trial, waiver or contract of this completion date would run past 9999-12, "
        f"the last month a date can name (got '{day.isoformat()}')")
    assert _trial.describe(argparse.Namespace(date=date(9997, 10, 31), policy=None, on=None,
                                              engine=None, json=False))["contract_end"] == "9999-12"


def test_a_week_ending_past_9999_is_a_usage_error_in_words(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "weekly", "--week", "9999-W52", "-o", "x.csv"]) == 2
    err = capsys.readouterr().err
    assert "the week ends after 9999-12-31" in err and "Traceback" not in err


def test_a_hand_written_impossible_date_names_the_ledger_event_and_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "ledger.db"
    assert main(["-q", "ingest", str(write_feed(tmp_path / "f.csv", feed_rows(0, 2, "2025-04-01"))),
                 "--db", str(db), "--as-of", AS_OF]) == 0
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA ignore_check_constraints = ON")
    conn.execute("INSERT INTO ledger_events (event_id, account_id, kind, on_date, data, source, "
                 "source_row) VALUES ('x', 'F00001', 'accepted', '2025-02-30', '{}', 'hand', 1)")
    conn.close()
    capsys.readouterr()
    for argv in (["workorders", "--as-of", AS_OF, "-o", "o.csv"], ["stock", "show"],
                 ["ingest", str(tmp_path / "f.csv"), "--as-of", AS_OF]):
        assert main([*argv, "--db", str(db)]) == 1
        [line] = capsys.readouterr().err.strip().splitlines()
        assert f"ledger '{db}'" in line and "stored event seq 5 of account 'F00001'" in line
        assert "on_date '2025-02-30' is not a date" in line


# -- read-only ledgers and sqlite:// URLs -----------------------------------------------------------


@contextmanager
def unwritable(*paths: Path) -> Iterator[None]:
    """Files and folders no one may write: immutable for root (who ignores modes), else mode 0555."""
    root = os.geteuid() == 0
    modes = {path: path.stat().st_mode for path in paths}
    for path in paths:
        if root:
            subprocess.run(["chattr", "+i", str(path)], check=True)
        else:
            path.chmod(0o555)
    try:
        yield
    finally:
        for path in paths:
            if root:
                subprocess.run(["chattr", "-i", str(path)], check=True)
            path.chmod(modes[path])


READERS = [
    ["workorders", "--as-of", AS_OF, "-o", "-"],
    ["report", "kpi", "--month", "2025-06", "--as-of", AS_OF],
    ["report", "weekly", "--week", "2025-W14", "-o", "OUT/extract.csv"],
    ["report", "calls", "--week", "2025-W14"],
    ["cancellations", "list", "--on", AS_OF],
    ["stock", "show", "--as-of", AS_OF],
]


@pytest.mark.parametrize("argv", READERS, ids=lambda a: " ".join(a[:2]))
def test_a_ledger_no_one_may_write_can_still_be_read(argv: list[str], tmp_path: Path) -> None:
    if os.geteuid() == 0 and shutil.which("chattr") is None:
        pytest.fail("root ignores file modes and chattr is missing: cannot make a file unwritable")
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    (tmp_path / "OUT").mkdir()
    db = shelf / "ledger.db"
    assert main(["-q", "ingest", str(SAMPLE), "--db", str(db), "--as-of", AS_OF,
                 "--rejects", str(tmp_path / "r.csv")]) == 3
    before = db.read_bytes()
    with unwritable(db, shelf):
        result = cli(*argv, "--db", str(db), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert db.read_bytes() == before
    assert sorted(p.name for p in shelf.iterdir()) == ["ledger.db"]


def test_a_sqlite_url_with_mode_ro_reads_and_creates_no_file_named_with_a_question_mark(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "ingest", str(SAMPLE), "--db", "ledger.db", "--as-of", AS_OF]) == 3
    assert main(["stock", "show", "--db", "sqlite:///ledger.db?mode=ro"]) == 0
    assert main(["workorders", "--db", "sqlite:///ledger.db?mode=ro", "--as-of", AS_OF,
                 "-o", "o.csv"]) == 0
    capsys.readouterr()
    assert main(["ingest", str(SAMPLE), "--db", "sqlite:///ledger.db?mode=ro", "--as-of",
                 AS_OF]) == 1
    assert "readonly" in capsys.readouterr().err
    assert main(["stock", "show", "--db", "sqlite:///missing.db?mode=ro"]) == 1
    assert "no ledger at missing.db" in capsys.readouterr().err
    assert not [p for p in tmp_path.iterdir() if "?" in p.name or p.name.startswith("missing")]


@pytest.mark.parametrize("url, words", [
    ("sqlite:///ledger.db?mode=rx", "mode must be ro, rw or rwc, not 'rx'"),
    ("sqlite:///ledger.db?cache=shared", "unknown parameter 'cache'"),
    ("sqlite:///ledger.db?mode=ro&nolock=1", "unknown parameter 'nolock'"),
])
def test_a_sqlite_url_with_a_query_it_cannot_honour_is_refused(
        url: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(SAMPLE), "--db", url, "--as-of", AS_OF]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert words in line
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_mode_rw_opens_an_existing_ledger_but_never_creates_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(SAMPLE), "--db", "sqlite:///new.db?mode=rw", "--as-of", AS_OF]) == 1
    assert not (tmp_path / "new.db").exists()
    assert main(["-q", "ingest", str(SAMPLE), "--db", "new.db", "--as-of", AS_OF]) == 3
    assert main(["-q", "ingest", str(SAMPLE), "--db", "sqlite:///new.db?mode=rw",
                 "--as-of", AS_OF]) == 3
    assert "events added: 0" not in capsys.readouterr().err  # -q: no summary; status says rejects


# -- stock streams ------------------------------------------------------------------------------------


def test_an_account_named_like_a_stock_stream_is_rejected_by_bill_and_ingest_alike(
        tmp_path: Path) -> None:
    """With a policy whose account pattern would allow it, ``depot:城关`` is still no enrolment:
    the ledger keeps ``depot:`` streams for stock, so bill and ingest both reject the row."""
    policy = tmp_path / "permissive.yaml"
    shipped = (ROOT / "rulesets" / "itv-trial.yaml").read_text(encoding="utf-8")
    assert 'account_id_pattern: "[A-Za-z0-9@._-]+"' in shipped
    policy.write_text(shipped.replace('account_id_pattern: "[A-Za-z0-9@._-]+"',
                                      'account_id_pattern: ".+"'), encoding="utf-8")
    rows = feed_rows(0, 2, "2025-04-01")
    rows[0][0] = "depot:城关"
    feed = write_feed(tmp_path / "f.csv", rows)
    words = "the account id starts with depot:, which the ledger keeps for a depot's terminal stock"
    for argv, rejects in ((["bill", "2025-06", str(feed), "-o", "bill.csv"], "bill.rejects.csv"),
                          (["ingest", str(feed), "--db", "l.db", "--as-of", AS_OF], "l.rejects.csv")):
        assert main(["-q", *argv, "--policy", str(policy)]) == 3
        with (tmp_path / rejects).open(encoding="utf-8-sig", newline="") as handle:
            [reject] = list(csv.DictReader(handle))
        assert reject["field"] == "account_id" and reject["error"].startswith(words)
    with open_ledger("l.db") as ledger:
        assert list(ledger.accounts()) == ["F00001"]


def test_peak_memory_bound_helper_reads_a_child() -> None:
    """The probe measures the child, not this process: a child that allocates 200 MiB shows it."""
    probe = ("import resource, subprocess, sys\n"
             "subprocess.run([sys.executable, '-c', 'b = bytearray(200 * 2**20); b[::4096] = "
             "b\"x\" * len(b[::4096])'])\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert int(out.stdout) / 1024 > 190
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0
