"""``Policy.fees`` on each backend and input: what ``backend="auto"`` chooses, measured.

Over the seeded workload of ``bench_scale.make_frame`` (all eight fee rules
fire), billed for 2025-07, every approach yields ``FeeDecision`` objects that
the loop takes one at a time and drops, so each rate includes building them:

* ``objects, rows``: ``fees(enrolments, backend="rows")`` over ``Enrollment``
  objects (``bench_scale.enrolments_of``), the streaming row path;
* ``objects, columnar (B)``: ``fees(enrolments, backend="columnar",
  batch_rows=B)``: B objects at a time turned into a Polars frame, reduced to
  their distinct fee cases, decided by ``fees_frame``, spread back;
* ``DataFrame`` / ``LazyFrame`` / ``Arrow reader``: ``fees(frame)`` on the
  columnar backend (1,000,000-row batches; the reader's batches are 65,536
  rows and are regrouped; the frame is converted to Arrow before timing).

Object approaches run at sizes up to ``--object-cap`` (building ten million
``Enrollment`` objects takes minutes and gigabytes). The approaches take turns
over ``--repeat`` passes; the fastest pass counts, in decisions per second of
wall-clock time, with the growth of resident memory over the pass. Before
timing, every approach is checked to give the row path's decisions on the
first 200,000 rows.

Run: ``python benchmarks/bench_fees.py [--sizes 1000000,10000000] [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import platform
import time
from collections.abc import Callable, Iterable
from importlib import metadata
from typing import Any

import polars as pl
import pyarrow as pa
from bench_scale import MB, PeakRss, enrolments_of, make_frame  # beside this script

import itvrules

MONTH = "2025-07"
CHECK_ROWS = 200_000


def drain(decisions: Iterable[Any]) -> int:
    count = 0
    for _ in decisions:
        count += 1
    return count


def approaches(policy: itvrules.Policy, frame: pl.DataFrame,
               objects: list[itvrules.Enrollment] | None) -> dict[str, Callable[[], Any]]:
    found: dict[str, Callable[[], Any]] = {}
    if objects is not None:
        found["objects, rows"] = lambda: policy.fees(objects, MONTH, backend="rows")
        for batch in (65_536, 1_000_000):
            found[f"objects, columnar ({batch:,})"] = \
                lambda batch=batch: policy.fees(objects, MONTH, backend="columnar", batch_rows=batch)
    found["DataFrame, columnar"] = lambda: policy.fees(frame, MONTH)
    found["LazyFrame, columnar"] = lambda: policy.fees(frame.lazy(), MONTH)
    batches = frame.to_arrow().to_batches(max_chunksize=65_536)  # converted once, not timed
    found["Arrow reader, columnar"] = lambda: policy.fees(
        pa.RecordBatchReader.from_batches(batches[0].schema, batches), MONTH)
    return found


def check(policy: itvrules.Policy, frame: pl.DataFrame) -> None:
    """Every approach gives the row path's decisions, in order, on the first rows."""
    head = frame.head(CHECK_ROWS)
    objects = enrolments_of(head)
    expected = [repr(d) for d in policy.fees(objects, MONTH, backend="rows")]
    for name, run in approaches(policy, head, objects).items():
        assert [repr(d) for d in run()] == expected, f"{name} differs from the row path"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--object-cap", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--quick", action="store_true", help="100,000 rows, one pass")
    args = parser.parse_args()
    sizes = [100_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    repeat = 1 if args.quick else args.repeat
    policy = itvrules.load_policy()
    print(f"Python {platform.python_version()}, polars {pl.__version__}, "
          f"pyarrow {metadata.version('pyarrow')}, itvrules {itvrules.__version__}; billed {MONTH}")
    frame = make_frame(max(sizes), policy, args.seed)
    check(policy, frame)
    print(f"checked: every approach gives the row path's decisions on {CHECK_ROWS:,} rows\n")
    print(f"{'size':>11} | {'approach':<30} | {'decisions/s':>13} | {'+RSS':>8}")
    print("-" * 72)
    for size in sizes:
        rows = frame.head(size)
        objects = enrolments_of(rows) if size <= args.object_cap else None
        runs = approaches(policy, rows, objects)
        best = {name: 0.0 for name in runs}
        growth = dict.fromkeys(runs, 0)
        for _ in range(repeat):
            for name, run in runs.items():
                gc.collect()
                with PeakRss() as peak:
                    start = time.perf_counter()
                    assert drain(run()) == size
                    seconds = time.perf_counter() - start
                best[name] = max(best[name], size / seconds)
                growth[name] = max(growth[name], peak.peak - peak.start)
        for name in runs:
            print(f"{size:>11,} | {name:<30} | {best[name]:>13,.0f} | {growth[name] / MB:>6,.0f} MB")
        del objects, runs
        gc.collect()


if __name__ == "__main__":
    main()
