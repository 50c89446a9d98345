"""Crash safety: SIGKILL an ingest mid-stream, twice, then finish it.

After each kill the ledger must hold exactly the first whole batches of the
stream (no half batch), every event readable and intact, projections equal
to a rebuild; finishing the same ingest must give exactly the ledger an
uninterrupted run gives. ``ITVRULES_KILL_TEST_EVENTS`` sets the stream
length (e.g. 200000 for a long run).
"""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from itvrules.store import AppendResult, open_ledger
from ledger_ingest import event_at, projector, stream
from paths import TESTS
from store_targets import Target, expected_order, full

pytestmark = pytest.mark.slow

EVENTS = int(os.environ.get("ITVRULES_KILL_TEST_EVENTS", "20000"))
BATCH = 500
HELPER = TESTS / "ledger_ingest.py"
TIMEOUT = 300.0


class Ingest:
    """The helper script running in its own process, its stdout read line by line."""

    def __init__(self, url: str, log: Path) -> None:
        self._log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(HELPER), url, "--events", str(EVENTS), "--batch", str(BATCH)],
            stdout=subprocess.PIPE, stderr=self._log, text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.strip())
        self._lines.put("")  # end of output

    def next_line(self) -> str:
        try:
            return self._lines.get(timeout=TIMEOUT)
        except queue.Empty:
            self.kill()
            pytest.fail(f"the ingest printed nothing for {TIMEOUT} s")

    def wait_for(self, what: str, batch: int) -> int:
        """Block until the helper says ``what`` of a batch >= ``batch``; return that batch number."""
        while True:
            line = self.next_line()
            if line.startswith(f"{what} ") and int(line.split()[1]) >= batch:
                return int(line.split()[1])
            if not line or line.startswith("done"):
                self.kill()
                pytest.fail(f"the ingest ended before batch {batch}: {line!r}, "
                            f"stderr: {self._log.name}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=TIMEOUT)
        self._log.close()

    def finish(self) -> AppendResult:
        while (line := self.next_line()) and not line.startswith("done"):
            pass
        assert self.proc.wait(timeout=TIMEOUT) == 0, Path(self._log.name).read_text()
        self._log.close()
        _done, added, duplicates = line.split()
        return AppendResult(added=int(added), duplicates=int(duplicates))


def seq_order(target: Target, url: str) -> list[str]:
    return [str(event_id) for (event_id,) in
            target.raw(url, "SELECT event_id FROM ledger_events ORDER BY seq")]


def check_whole_batches(target: Target, url: str, committed_at_least: int) -> int:
    """The ledger holds exactly the stream's first whole batches, intact, with true projections."""
    with open_ledger(url) as ledger:
        count = ledger.count()
        assert count % BATCH == 0, f"{count} events is not a whole number of batches"
        assert count >= committed_at_least * BATCH
        assert count < EVENTS, "the ingest was meant to be killed before its end"
        prefix = [event_at(i) for i in range(count)]
        assert seq_order(target, url) == [e.event_id for e in prefix]
        # Reading rebuilds each event and checks its content against its stored id.
        assert [full(e) for e in ledger.events()] == [full(e) for e in expected_order(prefix)]
        projections = dict(ledger.projections())
        accounts = list(ledger.accounts())
        assert sorted(projections) == accounts
        assert ledger.rebuild_projections(projector) == len(accounts)
        assert dict(ledger.projections()) == projections
    return count


def test_a_killed_ingest_leaves_whole_batches_and_resumes_to_the_same_ledger(
    target: Target, tmp_path: Path,
) -> None:
    url = target.new_url()

    # Killed inside a transaction: the projector of batch k is running, batches < k are committed.
    first = Ingest(url, tmp_path / "first.log")
    projecting = first.wait_for("projecting", 3)
    first.kill()
    after_first = check_whole_batches(target, url, committed_at_least=projecting)
    assert after_first in (projecting * BATCH, (projecting + 1) * BATCH)

    # Killed anywhere: a moment after it asked for a batch beyond the ones stored.
    second = Ingest(url, tmp_path / "second.log")
    pulled = second.wait_for("pulled", after_first // BATCH + 2)
    time.sleep(random.uniform(0.0, 0.05))
    second.kill()
    after_second = check_whole_batches(target, url, committed_at_least=pulled - 1)
    assert after_second >= after_first

    last = Ingest(url, tmp_path / "last.log")
    reference_url = target.new_url()
    with open_ledger(reference_url) as reference:  # meanwhile, the same ingest uninterrupted
        assert reference.append(stream(EVENTS), projector=projector, batch_size=BATCH) == \
            AppendResult(added=EVENTS, duplicates=0)
    assert last.finish() == AppendResult(added=EVENTS - after_second, duplicates=after_second)

    assert seq_order(target, url) == seq_order(target, reference_url)
    with open_ledger(url) as resumed, open_ledger(reference_url) as reference:
        assert resumed.count() == reference.count() == EVENTS
        assert [full(e) for e in resumed.events()] == [full(e) for e in reference.events()]
        assert list(resumed.projections()) == list(reference.projections())
