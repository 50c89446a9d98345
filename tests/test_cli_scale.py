"""A 200,000-row bill through the command line: no row lost, memory flat."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROWS = 200_000
#: The interpreter and libraries take ~40 MB; a run that kept rows would need far more.
MAX_PEAK_MB = 200


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_feeds", ROOT / "benchmarks" / "bench_feeds.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_bill_200k_rows_through_the_cli(tmp_path: Path) -> None:
    bench = _bench()
    feed, out, rejects = tmp_path / "feed.csv", tmp_path / "bill.csv", tmp_path / "rejects.csv"
    bench.write_feed(feed, ROWS, seed=11)
    env = {**os.environ, "ITVRULES_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "itvrules", "bill", "2025-08", str(feed), "-o", str(out),
         "--rejects", str(rejects)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read().decode("utf-8")
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 3, err  # the generated feed has bad rows on purpose
    found = re.search(r"rows in: (\d+)  decided: (\d+)  rejected: (\d+)", err)
    assert found, err
    rows_in, decided, rejected = map(int, found.groups())
    assert rows_in == ROWS == decided + rejected
    assert rejected == bench.bad_rows(ROWS)
    with out.open("rb") as handle:
        assert sum(1 for _ in handle) == decided + 1
    with rejects.open("rb") as handle:
        assert sum(1 for _ in handle) == rejected + 1
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    assert peak_mb < MAX_PEAK_MB, f"peak RSS {peak_mb:.0f} MB"
