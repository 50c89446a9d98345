"""A bill stopped by SIGTERM or SIGHUP, or killed outright, leaves nothing half-written.

Each test starts ``itvrules bill`` on a feed large enough to take seconds one
row at a time, waits until its part file appears beside the output (the run
is writing), and then signals it.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from itvrules.cli import main

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals (SIGHUP, SIGKILL)")

HEADER = ("account_id,product,accepted_on,completed_on,returned,return_reason,cancel_requested_on,"
          "cancel_effective_on,switched_to\n")
BIG_ROWS = 200_000


def write_feed(path: Path, rows: int, prefix: str) -> Path:
    with path.open("w", encoding="utf-8", newline="") as feed:
        feed.write(HEADER)
        for i in range(rows):
            feed.write(f"{prefix}{i:07d},brand,2025-03-25,2025-03-31,,,,,\n")
    return path


@pytest.fixture(scope="module")
def big_feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_feed(tmp_path_factory.mktemp("feed") / "big.csv", BIG_ROWS, "B")


def parts(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.part*"))


def start_bill(feed: Path, out: Path, **popen: object) -> subprocess.Popen[bytes]:
    """``itvrules bill`` one row at a time; returns once its part file shows it is writing."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "itvrules", "bill", "2025-06", str(feed), "-o", str(out),
         "--backend", "rows"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)  # type: ignore[call-overload]
    deadline = time.monotonic() + 60
    while not parts(out.parent):
        assert proc.poll() is None, proc.communicate()[1].decode("utf-8", "replace")
        assert time.monotonic() < deadline, "the run wrote no part file within a minute"
        time.sleep(0.02)
    return proc


def rows_of(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)],
                         ids=["SIGTERM", "SIGHUP"])
def test_a_signalled_run_cleans_up_and_says_so_in_one_line(big_feed: Path, tmp_path: Path,
                                                           signum: int, status: int) -> None:
    out = tmp_path / "bill.csv"
    proc = start_bill(big_feed, out)
    proc.send_signal(signum)
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == status
    assert stderr.decode("utf-8").splitlines() == [
        f"itvrules: stopped by {signal.Signals(signum).name}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no export, no rejects, no part file


def test_sighup_ignored_by_the_caller_stays_ignored(big_feed: Path, tmp_path: Path) -> None:
    """``nohup itvrules bill ...`` must survive the terminal closing."""
    out = tmp_path / "bill.csv"
    proc = start_bill(big_feed, out,
                      preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert proc.poll() is None  # still running
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert not parts(tmp_path)


def test_a_killed_runs_part_file_is_removed_by_the_next_run(big_feed: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bill.csv"
    proc = start_bill(big_feed, out)
    proc.kill()  # SIGKILL: no clean-up is possible
    proc.communicate(timeout=60)
    stale = parts(tmp_path)
    assert len(stale) == 1 and stale[0].name.startswith(".bill.csv.")
    unrelated = tmp_path / f".other.csv.{stale[0].name.split('.')[3]}.part"  # another output's
    unrelated.write_bytes(b"")
    small = write_feed(tmp_path / "small.csv", 3, "S")
    assert main(["bill", "2025-06", str(small), "-o", str(out)]) == 0
    assert parts(tmp_path) == [unrelated]
    assert rows_of(out) == 3


def test_a_live_runs_part_file_is_left_to_it(big_feed: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Two runs on one output at once: the second finishes, and never removes the first's part
    file; the first, stopped, removes it itself and never replaces the second's export."""
    out = tmp_path / "bill.csv"
    first = start_bill(big_feed, out)
    [writing] = parts(tmp_path)
    small = write_feed(tmp_path / "small.csv", 3, "S")
    assert main(["bill", "2025-06", str(small), "-o", str(out)]) == 0
    assert parts(tmp_path) == [writing]
    assert first.poll() is None, "the first run ended before the second was done"
    first.terminate()
    first.communicate(timeout=60)
    assert first.returncode == 143
    assert parts(tmp_path) == []
    assert rows_of(out) == 3


def test_the_handlers_are_the_callers_again_after_a_command(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    def mine(_signum: int, _frame: object) -> None:
        raise AssertionError("not called")

    before = signal.signal(signal.SIGTERM, mine)
    hangup = signal.getsignal(signal.SIGHUP)
    try:
        assert main(["trial", "2025-03-31"]) == 0
        assert signal.getsignal(signal.SIGTERM) is mine
        assert signal.getsignal(signal.SIGHUP) is hangup
    finally:
        signal.signal(signal.SIGTERM, before)


def test_a_stop_while_a_command_runs_is_status_128_plus_the_signal(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from itvrules.cli import _trial

    def signalled(*_args: object, **_kwargs: object) -> object:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
        raise AssertionError("SIGTERM did not stop the command")

    monkeypatch.setattr(_trial, "load_policy_arg", signalled)
    assert main(["trial", "2025-04-01"]) == 143
    err = capsys.readouterr().err
    assert err == "itvrules: stopped by SIGTERM\n"
