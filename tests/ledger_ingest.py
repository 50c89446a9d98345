"""Append a long, deterministic stream of events to a ledger, reporting progress.

Run as ``python ledger_ingest.py URL --events N --batch B``; the crash test
kills it mid-stream. It prints (flushed) ``pulled K`` each time the ledger
asks for the first event of batch K, i.e. after it has finished with the
batches before; ``projecting K`` when the projector first runs for batch K,
i.e. inside that batch's open transaction; and ``done ADDED DUPLICATES`` at
the end.
The test imports :func:`stream` and :func:`projector` to build the same
ledger without interruption.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from itvrules.lifecycle._events import Event, EventKind
from itvrules.store import open_ledger

#: Events of one ordinary account: eight, so accounts straddle batch boundaries.
ACCOUNT_SIZE = 8
#: Every this many events, one more for the depot account that spans the whole stream.
DEPOT_EVERY = 100
_KINDS = [EventKind.ACCEPTED, EventKind.INSTALLED, EventKind.USAGE, EventKind.USAGE,
          EventKind.CANCELLATION_STEP, EventKind.USAGE, EventKind.CANCEL_REQUESTED,
          EventKind.CANCEL_EFFECTIVE]
_START = date(2025, 4, 1)


def event_at(i: int) -> Event:
    """Event number ``i`` of the stream; all events are distinct."""
    if i % DEPOT_EVERY == DEPOT_EVERY - 1:
        return Event(account_id="depot:城关", kind=EventKind.STOCK_RECEIVED,
                     on=_START + timedelta(days=i // 5000), source="stock.csv", source_row=i,
                     data={"depot": "城关", "terminal": "stb", "condition": "new", "quantity": str(i)})
    step = i % ACCOUNT_SIZE
    return Event(account_id=f"33{i // ACCOUNT_SIZE:08d}", kind=_KINDS[step],
                 on=_START + timedelta(days=3 * step), source="crm.csv", source_row=i,
                 data={"备注": f"第{i}条", "month": f"2025-{4 + step // 2:02d}", "hours": str(i % 37)})


def stream(count: int) -> Iterator[Event]:
    return (event_at(i) for i in range(count))


def projector(account_id: str, events: Sequence[Event]) -> Mapping[str, Any]:
    """Depends on every event and on their order, so any gap or reordering shows."""
    return {
        "events": len(events),
        "ids": [e.event_id for e in events],
        "last_on": events[-1].on.isoformat(),
        "hours": sum(int(e.data.get("hours", "0")) for e in events),
    }


class _Progress:
    """Says on stdout where the ingest is, so a test can kill it at a chosen moment."""

    def __init__(self, batch: int) -> None:
        self.batch = batch
        self.pulling = 0
        self.announced = -1

    def events(self, events: Iterator[Event]) -> Iterator[Event]:
        for i, event in enumerate(events):
            if i and i % self.batch == 0:
                self.pulling = i // self.batch
                print(f"pulled {self.pulling}", flush=True)
            yield event

    def projector(self, account_id: str, events: Sequence[Event]) -> Mapping[str, Any]:
        if self.announced != self.pulling:
            self.announced = self.pulling
            print(f"projecting {self.pulling}", flush=True)
        return projector(account_id, events)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    args = parser.parse_args(argv)
    progress = _Progress(args.batch)
    with open_ledger(args.url) as ledger:
        result = ledger.append(progress.events(stream(args.events)), projector=progress.projector,
                               batch_size=args.batch)
    print(f"done {result.added} {result.duplicates}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
