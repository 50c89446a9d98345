"""Standard output closed or cut off: one line on stderr or a quiet stop, never a traceback,
and no output file half-written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from paths import ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX descriptors and pipes")

HEADER = ("account_id,product,accepted_on,completed_on,returned,return_reason,cancel_requested_on,"
          "cancel_effective_on,switched_to\n")


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), str(ROOT / "adapters"), os.environ.get("PYTHONPATH", "")])}


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    path = tmp_path / "feed.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for i in range(20_000):
            out.write(f"A{i:07d},brand,2025-03-25,2025-03-31,,,,,\n")
        out.write("bad,brand,someday,,,,,,\n")
    return path


def closed_stdout(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``itvrules ARGS >&-``: the command starts with no standard output at all."""
    return subprocess.run([sys.executable, "-m", "itvrules", *args], cwd=cwd, env=env(),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120,
                          preexec_fn=lambda: os.close(1))


def test_a_closed_stdout_is_one_line_and_status_1_when_the_export_goes_there(
        feed: Path, tmp_path: Path) -> None:
    done = closed_stdout("bill", "2025-07", str(feed), "-o", "-", "--rejects", "rejects.csv",
                         cwd=tmp_path)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("itvrules: error:")]
    assert errors == ["itvrules: error: standard output is closed, so nothing can be written to it: "
                      "give a file with -o FILE, or send the output to /dev/null (> /dev/null)"]
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.csv"]  # no rejects, no part file


def test_a_closed_stdout_does_not_stop_a_run_that_writes_only_files(feed: Path, tmp_path: Path) -> None:
    done = closed_stdout("bill", "2025-07", str(feed), "-o", "bill.csv", cwd=tmp_path)
    assert done.returncode == 3, done.stderr  # one row rejected; everything written
    assert "Traceback" not in done.stderr
    assert (tmp_path / "bill.csv").exists() and (tmp_path / "bill.rejects.csv").exists()


def test_a_closed_stdout_stops_a_command_that_prints_with_one_line(tmp_path: Path) -> None:
    done = closed_stdout("trial", "2025-03-31", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("itvrules: error: standard output is closed")
    assert "Traceback" not in done.stderr


def test_a_reader_that_goes_away_stops_the_run_quietly_with_141(feed: Path, tmp_path: Path) -> None:
    """``itvrules bill ... -o - | head -1``: the status a shell shows for SIGPIPE, no words."""
    proc = subprocess.Popen([sys.executable, "-m", "itvrules", "bill", "2025-07", str(feed),
                             "-o", "-", "--rejects", "rejects.csv", "--backend", "rows"],
                            cwd=tmp_path, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what head does after its line
    status = proc.wait(timeout=120)
    stderr = proc.stderr.read().decode("utf-8")
    assert first.startswith(b"\xef\xbb\xbfrecord_id,")
    assert status == 141
    assert "Traceback" not in stderr and "error" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.csv"]  # nothing half-done is kept
