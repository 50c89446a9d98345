"""Feed throughput and peak memory: reading, deciding, writing, and the whole bill run.

Generates a CSV feed of N enrolments (seeded; returns, pending installs,
cancellations at every timing, switches, and one bad row in 500) in a
temporary folder, then runs each phase in a fresh interpreter so that its peak
resident memory (``ru_maxrss`` of that child, from ``os.wait4``) is its own:

* ``read``: the CSV reader iterated over the file, rows discarded;
* ``decide``: feed rows made in memory by a generator (no file), parsed into
  enrolments by the pipeline's row reader and billed by ``Policy.fees``;
* ``write``: the CSV writer fed N synthetic export rows;
* ``end to end``: ``run_bill`` from the file to a CSV export and its rejects,
  once with ``backend="rows"`` (one row at a time) and once with
  ``backend="columnar"`` (whole columns at a time, the same bytes out),

``decide`` and ``end to end`` once per engine. The rate is rows over the
phase's own time (interpreter start and imports excluded); the memory is the
whole child's high-water mark (interpreter included). The report grades two
targets: end to end with the compiled engine at least 200,000 rows/s (the
fastest backend measured), and peak memory under 500 MB for a million rows.

Run: ``python benchmarks/bench_feeds.py [--rows 1000000] [--seed 7] [--engines compiled,durable]
[--backends rows,columnar]`` (``--profile`` adds a cProfile of the compiled end-to-end run of the
last backend; ``--check`` exits 1 on a FAIL).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

MONTH = "2025-08"
MB = 1024 * 1024
TARGET_RATE = 200_000
TARGET_MEMORY_MB = 500
BAD_EVERY = 500
SHAPES = 4096
FIELDS = ("account_id", "product", "accepted_on", "completed_on", "returned", "return_reason",
          "cancel_requested_on", "cancel_effective_on", "switched_to", "channel", "contact_phone",
          "prior_modem")


# -- the feed -------------------------------------------------------------------------------
def _shape(rng: random.Random) -> tuple[str, ...]:
    """One enrolment without its account: a life drawn like the sample data's."""
    accepted = date(2025, 3, 20) + timedelta(days=rng.randint(0, 72))
    product = rng.choices(("brand", "annual", "single_monthly"), weights=(70, 25, 5))[0]
    channel = rng.choice(("伊山营业厅", "客服中心", "伊山一分局", "伊山二分局"))
    phone = "1" + rng.choice("3589") + "".join(rng.choices("0123456789", k=9))
    modem = rng.choice(("ordinary", "e8b", "none"))
    completed = requested = effective = switched = reason = ""
    returned = "false"
    roll = rng.random()
    if roll < 0.05:
        returned, reason = "true", "线路不具备 iTV 安装条件"
    elif roll >= 0.12:
        done = accepted + timedelta(days=rng.randint(0, 9))
        completed = done.isoformat()
        life = rng.random()
        if life < 0.1:
            switched = rng.choice(("basic", "hd"))
        elif life < 0.25:
            asked = done + timedelta(days=rng.randint(5, 100))
            requested = asked.isoformat()
            if rng.random() < 0.7:
                effective = (asked + timedelta(days=rng.randint(0, 40))).isoformat()
    return (product, accepted.isoformat(), completed, returned, reason, requested, effective,
            switched, channel, phone, modem)


def _bad_shape(shape: tuple[str, ...], kind: int) -> tuple[str, ...]:
    """A shape spoiled one way: a date that is no date, or completion before acceptance."""
    values = list(shape)
    if kind % 2:
        values[1] = "2025-02-30"
    else:
        values[1], values[2], values[3] = "2025-05-01", "2025-04-01", "false"
    return tuple(values)


def feed_rows(rows: int, seed: int) -> Iterator[tuple[str, ...]]:
    """``rows`` feed rows (account first, then FIELDS[1:]), every BAD_EVERY-th one bad."""
    rng = random.Random(seed)
    shapes = [_shape(rng) for _ in range(SHAPES)]
    picks = rng.choices(range(SHAPES), k=rows)
    for index, pick in enumerate(picks):
        shape = shapes[pick]
        if index % BAD_EVERY == BAD_EVERY - 1:
            shape = _bad_shape(shape, index // BAD_EVERY)
        yield (f"0{index:010d}", *shape)


def bad_rows(rows: int) -> int:
    """How many rows of a generated feed are bad."""
    return rows // BAD_EVERY


def write_feed(path: Path, rows: int, seed: int, *, encoding: str = "utf-8") -> int:
    """Write the feed as CSV with English headers; return its size in bytes."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        writer.writerows(feed_rows(rows, seed))
    return path.stat().st_size


# -- the phases, each run in a child process -------------------------------------------------------
def phase_read(feed: Path) -> int:
    from itvrules.runs._plugins import plugin_manager, reader_for

    reader = reader_for(plugin_manager(autoload=False), str(feed))
    count = 0
    with feed.open("rb") as stream:
        for _row in reader.read(stream, feed.name):
            count += 1
    return count


def phase_decide(rows: int, seed: int, engine: str) -> int:
    import itvrules
    from itvrules.runs._rows import BILL, RowReader

    policy = itvrules.load_policy()
    reader = RowReader(BILL)
    header = FIELDS

    def enrollments() -> Iterator[Any]:
        columns = None
        for number, values in enumerate(feed_rows(rows, seed), start=2):
            raw = itvrules.RawRow("memory", number, dict(zip(header, values, strict=True)), header)
            if columns is None:
                columns = reader.column_map(raw)
            try:
                yield reader.read(raw, columns)
            except itvrules.InputError:
                continue  # a bad row: the pipeline would reject it

    count = 0
    for _decision in policy.fees(enrollments(), MONTH, engine=engine):
        count += 1
    return count


def phase_write(rows: int, out: Path) -> int:
    from itvrules.runs._pipeline import BILL_COLUMNS
    from itvrules.runs._plugins import plugin_manager, writer_for

    writer = writer_for(plugin_manager(autoload=False), str(out))
    amounts = [(Decimal("35.00"), Decimal("35.00"), Decimal("0.00")),
               (Decimal("35.00"), Decimal("0.00"), Decimal("35.00")),
               (Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))]
    with out.open("wb") as stream:
        sink = writer.open(stream, BILL_COLUMNS, kind="bill")
        for index in range(rows):
            gross, waived, amount = amounts[index % 3]
            sink.write({
                "record_id": f"00000000-0000-5000-8000-{index:012d}", "account_id": f"0{index:010d}",
                "billing_month": MONTH, "billing_cycle": "202508", "code": "default_paid",
                "gross": gross, "waived": waived, "amount": amount, "amount_fen": int(amount * 100),
                "package": "quanneng", "follow_up": False, "rule": "fee.default_paid",
                "clause": "§四(二)2", "policy_id": "itv-trial", "policy_version": "2025.1",
                "policy_hash": "257017315a60", "source": "feed.csv", "source_row": index + 2,
            })
        sink.close()
    return rows


def phase_end_to_end(feed: Path, out: Path, engine: str, backend: str) -> int:
    import itvrules
    from itvrules.runs._pipeline import run_bill
    from itvrules.runs._plugins import plugin_manager

    summary = run_bill(itvrules.load_policy(), MONTH, [str(feed)], str(out),
                       rejects=str(out.with_suffix(".rejects.csv")), engine=engine,
                       pm=plugin_manager(autoload=False), backend=backend)
    assert summary.rows_in == summary.decided + summary.rejected
    return summary.rows_in


def child(args: argparse.Namespace) -> None:
    """Run one phase and print its row count and seconds as JSON."""
    feed, out = Path(args.feed), Path(args.out)
    start = time.perf_counter()
    if args.child == "read":
        count = phase_read(feed)
    elif args.child == "decide":
        count = phase_decide(args.rows, args.seed, args.engine)
    elif args.child == "write":
        count = phase_write(args.rows, out / "write.csv")
    else:
        count = phase_end_to_end(feed, out / f"bill-{args.engine}-{args.backend}.csv", args.engine,
                                 args.backend)
    print(json.dumps({"rows": count, "seconds": time.perf_counter() - start}))


# -- the parent: spawn, measure, report ----------------------------------------------------------
def measure(phase: str, engine: str, backend: str, args: argparse.Namespace, feed: Path,
            out: Path) -> dict[str, Any]:
    """Run ``phase`` in a fresh interpreter; its own timing plus its peak RSS from wait4."""
    command = [sys.executable, __file__, "--child", phase, "--engine", engine, "--backend", backend,
               "--rows", str(args.rows), "--seed", str(args.seed), "--feed", str(feed),
               "--out", str(out)]
    env = {**os.environ, "ITVRULES_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"phase {phase} ({engine}, {backend}) failed with status {proc.returncode}")
    result: dict[str, Any] = json.loads(output)
    result.update(phase=phase, engine=engine, backend=backend if phase == "end to end" else "-",
                  peak_mb=usage.ru_maxrss * 1024 / MB)
    return result


def profile_end_to_end(feed: Path, out: Path, backend: str, top: int = 25) -> None:
    """cProfile of the compiled end-to-end run, by own time: where a row's microseconds go."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    phase_end_to_end(feed, out / "bill-profiled.csv", "compiled", backend)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    print(f"\ncProfile, compiled end to end, {backend} backend (sorted by own time):")
    print(text.getvalue())


def report(results: list[dict[str, Any]], rows: int) -> bool:
    print(f"{'phase':<12}{'engine':<10}{'backend':<10}{'rows':>11}{'seconds':>9}{'rows/s':>11}"
          f"{'peak RSS':>11}")
    for r in results:
        rate = r["rows"] / r["seconds"] if r["seconds"] else float("inf")
        print(f"{r['phase']:<12}{r['engine']:<10}{r['backend']:<10}{r['rows']:>11,}{r['seconds']:>9.2f}"
              f"{rate:>11,.0f}{r['peak_mb']:>8.0f} MB")
    e2e = [r for r in results if r["phase"] == "end to end" and r["engine"] == "compiled"]
    peak = max(r["peak_mb"] for r in results)
    checks = []
    if e2e:
        best = max(e2e, key=lambda r: r["rows"] / r["seconds"])
        rate = best["rows"] / best["seconds"]
        checks.append((f"end to end (compiled) >= {TARGET_RATE:,} rows/s",
                       f"{rate:,.0f} rows/s ({best['backend']} backend)", rate >= TARGET_RATE))
    checks.append((f"peak memory < {TARGET_MEMORY_MB} MB for {rows:,} rows (every phase)",
                   f"{peak:.0f} MB", peak < TARGET_MEMORY_MB))
    print("\ntargets:")
    for name, value, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {value}")
    return all(ok for _name, _value, ok in checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the feed (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--engines", default="compiled,durable", help="engines to run (default both)")
    parser.add_argument("--backends", default="rows,columnar",
                        help="bill backends to run end to end (default both)")
    parser.add_argument("--profile", action="store_true", help="also profile the compiled end to end run")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target fails")
    parser.add_argument("--child", choices=("read", "decide", "write", "end to end"), help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="compiled", help=argparse.SUPPRESS)
    parser.add_argument("--backend", default="rows", help=argparse.SUPPRESS)
    parser.add_argument("--feed", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    with tempfile.TemporaryDirectory(prefix="itvrules-bench-") as tmp:
        folder = Path(tmp)
        feed = folder / "feed.csv"
        start = time.perf_counter()
        size = write_feed(feed, args.rows, args.seed)
        print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
        print(f"feed: {args.rows:,} rows ({bad_rows(args.rows):,} bad), {size / MB:.1f} MB CSV, "
              f"UTF-8, billing {MONTH} (generated in {time.perf_counter() - start:.1f} s)\n")
        plan = [("read", "-", "-"), *(("decide", e, "-") for e in engines), ("write", "-", "-"),
                *(("end to end", e, b) for e in engines for b in backends)]
        results = [measure(phase, engine if engine != "-" else "compiled",
                           backend if backend != "-" else "rows", args, feed, folder)
                   | ({"engine": "-"} if engine == "-" else {}) for phase, engine, backend in plan]
        ok = report(results, args.rows)
        if args.profile:
            profile_end_to_end(feed, folder, backends[-1] if backends else "rows")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
