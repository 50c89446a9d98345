"""Eligibility in columns: ``Policy.eligibility_frame`` against ``Policy.eligibility`` in a loop.

Over the same seeded subscribers (``make_subscribers``: every eligibility
rule decides part of them, acceptance days over and around the campaign
window), it times

* ``eligibility_frame``: ``Policy.eligibility_frame`` on a Polars DataFrame,
  the full decision frame, at each size (``--sizes``, default 1 and 10 million);
* ``eligibility() loop``: ``Policy.eligibility`` called per ``Subscriber``
  object (built before timing) on the default engine, on at most
  ``--row-cap`` rows (1 million).

Both are first checked against each other on 100,000 rows. Rates are rows over
wall-clock seconds, the fastest of ``--repeat`` passes. Results:
docs/performance.md "Eligibility in columns".
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import polars as pl

import itvrules

DEFAULT_SIZES = (1_000_000, 10_000_000)

#: Plan codes drawn: known families about each threshold (e8 from 68, e9 from 79, e9
#: includes iTV from 139), feed spellings, unknown families and malformed text.
PLANS = (
    "e6-49", "e6-58", "e6-99", "e8-58", "e8-67", "e8-68", "e8-69", "e8-88", "e8-128",
    "e9-78", "e9-79", "e9-80", "e9-99", "e9-138", "e9-139", "e9-169", "e9-199",
    " E8-68 ", "e9－139", "Ｅ８-88", "e8–99", "e7-50", "c8-68", "e10-99", "e8", "e8_68", "",
)
#: Each plan's weight: known codes often, the odd ones now and then.
PLAN_WEIGHTS = (6, 5, 3, 6, 4, 6, 4, 6, 3, 4, 6, 4, 6, 3, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
#: Product cells: values mostly, a Chinese name or odd case sometimes (Subscriber reads both).
PRODUCTS = ("brand", "annual", "single_monthly", "品牌", "包年", " Brand")
PRODUCT_WEIGHTS = (0.62, 0.2, 0.12, 0.03, 0.02, 0.01)
COMMUNITIES = ("none", "upgrading", "upgraded", None, "已提速")
COMMUNITY_WEIGHTS = (0.65, 0.1, 0.15, 0.08, 0.02)


def _flags(rng: np.random.Generator, count: int, true: float, null: float) -> pl.Series:
    draw = rng.random(count)
    return pl.Series(np.where(draw < true, True, False)).set(pl.Series(draw >= 1 - null), None)


def make_subscribers(count: int, policy: itvrules.Policy, seed: int) -> pl.DataFrame:
    """``count`` valid subscribers (``frames._eligibility.SUBSCRIBER_COLUMNS``), vectorised.

    Acceptance days: 80 % inside the campaign window, 10 % up to 45 days
    either side of it, 10 % on the first or last day or the day next to
    either. Lines mostly ready, iTV mostly absent; some null flags and
    communities (Subscriber's defaults). Rows are independent: the first n
    rows are a workload of n.
    """
    rng = np.random.default_rng(seed)
    first, last = (np.datetime64(day, "D") for day in policy.campaign_window)
    span = int((last - first).astype(int)) + 1
    where = rng.random(count)
    edges = np.array([first - 1, first, last, last + 1])
    around = np.where(rng.random(count) < 0.5, first - rng.integers(1, 46, count),
                      last + rng.integers(1, 46, count))
    accepted = np.where(where < 0.8, first + rng.integers(0, span, count),
                        np.where(where < 0.9, around, edges[rng.integers(0, 4, count)]))
    weights = np.array(PLAN_WEIGHTS, dtype=float)
    plans = pl.Series(PLANS).gather(rng.choice(len(PLANS), count, p=weights / weights.sum()))
    return pl.DataFrame({
        "account_id": ("07" + pl.int_range(0, count, eager=True).cast(pl.String).str.zfill(9)),
        "plan": plans,
        "product": pl.Series(PRODUCTS).gather(rng.choice(len(PRODUCTS), count, p=PRODUCT_WEIGHTS)),
        "community": pl.Series(COMMUNITIES, dtype=pl.String)
        .gather(rng.choice(len(COMMUNITIES), count, p=COMMUNITY_WEIGHTS)),
        "new_install": _flags(rng, count, 0.2, 0.03),
        "has_itv": _flags(rng, count, 0.06, 0.03),
        "line_ready": _flags(rng, count, 0.93, 0.03),
        "accepted_on": pl.Series(accepted).cast(pl.Date),
    })


def subscribers_of(frame: pl.DataFrame) -> list[tuple[itvrules.Subscriber, date]]:
    """The rows as (``Subscriber``, acceptance day): a null cell is the field's default."""
    return [(itvrules.Subscriber(**{k: v for k, v in row.items() if v is not None and k != "accepted_on"}),
             row["accepted_on"]) for row in frame.iter_rows(named=True)]


def loop(policy: itvrules.Policy, items: list[tuple[itvrules.Subscriber, date]]) -> list[Any]:
    decide = policy.eligibility
    return [decide(sub, accepted_on=day) for sub, day in items]


def fastest(run: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def check(policy: itvrules.Policy, frame: pl.DataFrame) -> None:
    """The frame path gives the loop's decisions, every column."""
    decided = policy.eligibility_frame(frame)
    for row, e in zip(decided.iter_rows(), loop(policy, subscribers_of(frame)), strict=True):
        expected = (e.account_id, e.eligible, e.segment, e.reason, e.rule, e.clause, e.review,
                    e.policy_id, e.policy_version, e.policy_hash)
        assert row == expected, (row, expected)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--row-cap", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    print(f"Python {platform.python_version()}, polars {pl.__version__}, {platform.machine()}")
    policy = itvrules.load_policy()
    started = time.perf_counter()
    frame = make_subscribers(max(sizes), policy, args.seed)
    print(f"{frame.height:,} subscribers generated in {time.perf_counter() - started:.1f} s; "
          f"fastest of {args.repeat}", flush=True)
    check(policy, frame.head(100_000))
    print(f"{'size':>12} | {'approach':<20} | {'rows':>12} | {'rows/s':>12} | {'seconds':>8}")
    for size in sizes:
        part = frame.head(size)
        seconds = fastest(lambda part=part: policy.eligibility_frame(part), args.repeat)
        print(f"{size:>12,} | {'eligibility_frame':<20} | {size:>12,} | {size / seconds:>12,.0f} | "
              f"{seconds:>8.3f}", flush=True)
        rows = min(size, args.row_cap)
        items = subscribers_of(part.head(rows))
        seconds = fastest(lambda items=items: loop(policy, items), args.repeat)
        print(f"{size:>12,} | {'eligibility() loop':<20} | {rows:>12,} | {rows / seconds:>12,.0f} | "
              f"{seconds:>8.3f}", flush=True)
        del items
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
