"""Scale: every fee backend against a plain loop and two rule-engine peers, 10 thousand to 10 million rows.

In one run, for each size N (``--sizes 10000,1000000,10000000``), over the same
seeded enrolments (spread over the campaign; returns, pending installs,
cancellations at every timing, package switches), billed for 2025-07:

* ``columnar compute``: the columnar backend's work only
  (``frames._fees.decide_fen``): fact columns with month indexes read from a table of
  days, the first-hit rule index (``engines._polars``), package numbers and
  integer fen, no text columns;
* ``DuckDB SQL*``: the same work as one DuckDB SQL query over the same Arrow
  data; not a library path, measured to choose the columnar engine;
* ``fees_frame``: ``Policy.fees_frame``, the full decision frame;
* ``fees() compiled`` / ``fees() durable``: ``Policy.fees`` streaming over
  ``Enrollment`` objects on each engine;
* ``Spark``: ``decide_fees_spark`` on a local[2] session reading the rows from
  Parquet, forced with Spark's no-op writer (when ``itvrules.spark._fees``
  exists and a Java runtime is present);
* ``plain loop``: the fee rules written out by hand over the same
  ``Enrollment`` objects, returning (code, gross, waived, amount, rule): the
  1.0x baseline;
* ``durable-rules direct``: a ruleset written by hand with ``durable.lang``,
  facts posted as a durable-rules user posts them, one session per decision
  deleted after it;
* ``zen-engine``: the same fee table as a GoRules JDM decision table (first
  hit), evaluated per row.

The plain loop and both peers are checked against ``Policy.fee`` on a sample
before they are timed. Row-at-a-time approaches are measured on at most
``--row-cap`` rows and the peers on at most ``--peer-cap`` (they take about a
second per few thousand rows); the size actually measured is printed, never
extrapolated. Rates are rows over wall-clock seconds, the fastest of
``--repeat`` passes (peers: one pass). Peak memory is the resident set (RSS)
sampled every 5 ms during the timed pass, the Spark JVM's included; the
column "+RSS" is the growth over the RSS before the pass.

Then the end-to-end target: a Parquet feed of the largest size (one row in
500 bad) billed to a Parquet export by ``bill_parquet`` in a fresh
interpreter, timed around the call, its peak RSS read with
``resource.getrusage(RUSAGE_CHILDREN)`` so that the generator's memory does not
count. Linux starts a child's ``ru_maxrss`` at its parent's high-water mark, so
the billing interpreter is started by a small runner interpreter, which reads
the figure (the maximum over the billing process and its record-id helper).

Run: ``python benchmarks/bench_scale.py [--sizes 10000,1000000,10000000] [--quick]``.
It prints the table and PASS/FAIL per target and always exits 0.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

import itvrules
from itvrules.frames._fees import decide_fen
from itvrules.model._money import to_fen
from itvrules.model._months import parse_month
from itvrules.policy._conditions import AllOf, Compare, Condition

DEFAULT_SIZES = (10_000, 1_000_000, 10_000_000)
QUICK_SIZES = (10_000,)
MONTH = "2025-07"
BAD_EVERY = 500
SAMPLE = 2_000
MB = 2**20
#: The targets.
COLUMNAR_MIN_RATE = 20_000_000
COLUMNAR_AT = 10_000_000
E2E_ROWS = 10_000_000
E2E_MAX_SECONDS = 10.0
E2E_MAX_BYTES = 4 * 2**30

View = tuple[str, Decimal, Decimal, Decimal, str]

# -- workload ---------------------------------------------------------------------------------

NAT = np.datetime64("NaT")
DATES = ("accepted_on", "completed_on", "cancel_requested_on", "cancel_effective_on")
EPOCH = date(1970, 1, 1).toordinal()


def _month_start(days: np.ndarray, later: Any) -> np.ndarray:
    return (days.astype("datetime64[M]") + later).astype("datetime64[D]")


def make_frame(count: int, policy: itvrules.Policy, seed: int) -> pl.DataFrame:
    """``count`` valid enrolments (``frames._fees.ENROLLMENT_COLUMNS`` plus ``return_reason``), vectorised.

    4 % returned, 4 % not installed yet; of the installed, 35 % register a
    cancellation (in each trial month, on the last day, the day after, months
    later) that takes effect the same day, later that month, the next month, two
    months on or at a date not known yet; 3 % carry only an effective date; 12 %
    switch package. Rows are independent: the first n rows are a workload of n.
    """
    rng = np.random.default_rng(seed)
    first, last = (np.datetime64(day, "D") for day in policy.campaign_window)
    span = int((last - first).astype(int)) + 1
    trial = int(policy.parameters["trial_months"])
    accepted = first + rng.integers(0, span, count)
    kind = rng.random(count)
    returned = kind < 0.04
    installed = kind >= 0.08
    lag = np.where(rng.random(count) < 0.7, rng.integers(0, 8, count), rng.integers(8, 21, count))
    completed = np.where(installed, accepted + lag, NAT)
    end = _month_start(completed, trial) - 1
    when = rng.integers(0, 7, count)  # 0-2: in trial month 1-3, 3: last day, 4: day after, 5-6: later
    k = np.minimum(when, 2)
    start = np.maximum(completed, _month_start(completed, k))
    month_end = _month_start(completed, k + 1) - 1
    inside = start + (rng.random(count) * ((month_end - start).astype(int) + 1)).astype(int)
    requested = np.select([when < 3, when == 3, when == 4], [inside, end, end + 1],
                          end + rng.integers(2, 150, count))
    cancels = installed & (rng.random(count) < 0.35)
    how = rng.random(count)
    effective = np.select(
        [how < 0.4, how < 0.55, how < 0.7, how < 0.8],
        [requested, requested + rng.integers(1, 10, count),
         _month_start(requested, 1) + rng.integers(0, 28, count),
         _month_start(requested, 2) + rng.integers(0, 28, count)], NAT)
    requested = np.where(cancels, requested, NAT)
    effective = np.where(cancels, effective, NAT)
    requested = np.where(cancels & ~np.isnat(effective) & (rng.random(count) < 0.03 / 0.35),
                         NAT, requested)
    default = policy.parameters["default_package"]
    others = pl.Series([code for code in policy.packages if code != default])
    reasons = pl.Series(["线路不具备安装条件", "用户拒绝安装", "地址错误"])
    products = pl.Series(["brand", "annual", "single_monthly"])
    frame = pl.DataFrame({
        "account_id": pl.int_range(0, count, eager=True),
        "product": products.gather(rng.choice(3, count, p=[0.7, 0.2, 0.1])),
        "accepted_on": accepted, "completed_on": completed, "returned": returned,
        "return_reason": reasons.gather(rng.integers(0, 3, count)),
        "cancel_requested_on": requested, "cancel_effective_on": effective,
        "switched_to": others.gather(rng.integers(0, len(others), count)),
        "_switches": installed & (rng.random(count) < 0.12),
    })
    dates = DATES
    return frame.select(
        pl.concat_str(pl.lit("07"), pl.col("account_id").cast(pl.String).str.zfill(9)).alias("account_id"),
        "product", *(pl.col(c).cast(pl.Date) for c in dates[:2]), "returned",
        *(pl.col(c).cast(pl.Date) for c in dates[2:]),
        pl.when("_switches").then("switched_to").alias("switched_to"),
        pl.when("returned").then("return_reason").alias("return_reason"),
    )


def spoil(frame: pl.DataFrame, every: int) -> pl.DataFrame:
    """Every ``every``-th row made bad, one record-check kind after another (ten kinds)."""
    n = frame.height
    kind = pl.int_range(0, n, eager=True) // every % 10
    bad = pl.int_range(0, n, eager=True) % every == every - 1
    k = [bad & (kind == i) for i in range(10)]
    day = pl.duration(days=1)
    return frame.with_columns(
        pl.when(k[0]).then(None).when(k[1]).then(pl.col("account_id").shift(1))
        .otherwise(pl.col("account_id")).alias("account_id"),
        pl.when(k[2]).then(pl.lit("gold")).otherwise(pl.col("product")).alias("product"),
        pl.when(k[3]).then(None).otherwise(pl.col("accepted_on")).alias("accepted_on"),
        pl.when(k[4]).then(pl.col("accepted_on") - day).when(k[5])
        .then(pl.col("accepted_on")).otherwise(pl.col("completed_on")).alias("completed_on"),
        pl.when(k[5] | k[6]).then(True).otherwise(pl.col("returned")).alias("returned"),
        pl.when(k[6]).then(None).when(k[5]).then(pl.lit("用户拒绝安装"))
        .otherwise(pl.col("return_reason")).alias("return_reason"),
        pl.when(k[7]).then(pl.col("accepted_on") - day).when(k[8])
        .then(pl.col("accepted_on") + pl.duration(days=30))
        .otherwise(pl.col("cancel_requested_on")).alias("cancel_requested_on"),
        pl.when(k[8]).then(pl.col("accepted_on") + pl.duration(days=29))
        .otherwise(pl.col("cancel_effective_on")).alias("cancel_effective_on"),
        pl.when(k[9]).then(pl.lit("platinum")).otherwise(pl.col("switched_to")).alias("switched_to"),
    ).with_columns(  # a returned row keeps no dates but the one it is rejected for
        *(pl.when(k[6]).then(None).otherwise(pl.col(c)).alias(c)
          for c in ("completed_on", "cancel_requested_on", "cancel_effective_on")))


def enrolments_of(frame: pl.DataFrame) -> list[itvrules.Enrollment]:
    """The rows as ``Enrollment`` objects, dates shared (the row approaches' input)."""
    days: dict[date, date] = {}
    result = []
    for row in frame.iter_rows(named=True):
        fields = {k: (days.setdefault(v, v) if isinstance(v, date) else v)
                  for k, v in row.items() if v is not None}
        result.append(itvrules.Enrollment(**fields))
    return result


# -- the plain loop and the peers ----------------------------------------------------------


class PlainFees:
    """The fee rules by hand, as a caller writes them with no engine; tariffs and rules from the policy."""

    def __init__(self, policy: itvrules.Policy) -> None:
        self.trial = int(policy.parameters["trial_months"])
        self.waived_after = int(policy.parameters["waived_months_after_trial"])
        self.default = str(policy.parameters["default_package"])
        self.tariff = {(code, product): amount for code, package in policy.packages.items()
                       for product, amount in package.tariff.items()}
        self.rules = {str(rule.then["code"]): rule.id for rule in policy.rules("fees")}
        self.zero = Decimal("0.00")

    def decide(self, enr: itvrules.Enrollment, m: int) -> View:
        completed, effective = enr.completed_on, enr.cancel_effective_on
        if enr.returned:
            return self.free("not_installed")
        if completed is None:
            return self.free("not_started")
        c = completed.year * 12 + completed.month - 1
        if m < c:
            return self.free("not_started")
        e = None if effective is None else effective.year * 12 + effective.month - 1
        if e is not None and m > e:
            return self.free("cancelled")
        if m - c < self.trial:
            return self.charge(enr, "trial", self.default, waive=True)
        requested = enr.cancel_requested_on
        if requested is not None and requested.year * 12 + requested.month - 1 - c < self.trial \
                and (e is None or e - c >= self.trial):
            if m - c < self.trial + self.waived_after:
                return self.charge(enr, "late_cancel_waiver", self.default, waive=True)
            return self.charge(enr, "cancellation_overdue", self.default)
        if enr.switched_to is not None:
            return self.charge(enr, "switched", enr.switched_to)
        return self.charge(enr, "default_paid", self.default)

    def free(self, code: str) -> View:
        return code, self.zero, self.zero, self.zero, self.rules[code]

    def charge(self, enr: itvrules.Enrollment, code: str, package: str, *, waive: bool = False) -> View:
        gross = self.tariff[package, enr.product.value]
        waived = gross if waive else self.zero
        return code, gross, waived, gross - waived, self.rules[code]


def facts(enr: itvrules.Enrollment, m: int) -> dict[str, Any]:
    """The fee facts a user of a rule engine computes first (the engines compare numbers, not dates)."""
    completed, requested, effective = enr.completed_on, enr.cancel_requested_on, enr.cancel_effective_on
    base = m if completed is None else completed.year * 12 + completed.month - 1
    r = None if requested is None else requested.year * 12 + requested.month - 1
    e = None if effective is None else effective.year * 12 + effective.month - 1
    return {"returned": enr.returned, "completed": completed is not None, "month_offset": m - base,
            "cancel_requested": r is not None, "cancel_requested_offset": 0 if r is None else r - base,
            "cancel_effective": e is not None, "cancel_effective_offset": 0 if e is None else e - base,
            "months_after_effective": 0 if e is None else m - e, "switched": enr.switched_to is not None}


class Priced:
    """A code from a peer engine, priced as the policy prices it."""

    def __init__(self, policy: itvrules.Policy) -> None:
        self.plain = PlainFees(policy)
        self.charges = {str(r.then["code"]): (str(r.then["charge"]), bool(r.then.get("waive", False)))
                        for r in policy.rules("fees")}

    def __call__(self, enr: itvrules.Enrollment, code: str) -> View:
        charge, waive = self.charges[code]
        if charge == "none":
            return self.plain.free(code)
        package = self.plain.default if charge == "default_package" else enr.switched_to
        assert package is not None
        return self.plain.charge(enr, code, package, waive=waive)


class DurableByHand:
    """durable-rules used as its documentation shows: a ``durable.lang`` ruleset, ``post``, ``delete_state``.

    First hit is rule priority (``pri``); each rule's action records its code
    for the session. Every decision is one session (sid), deleted after the
    decision: durable-rules keeps at most 1024 live sessions per ruleset. The
    catch-all rule tests a field every fact carries (``kind``): an existence
    test on ``sid`` fires again and again for the same event.
    """

    NAME = "bench_scale_fees"

    def __init__(self, policy: itvrules.Policy) -> None:
        from durable.lang import m, pri, ruleset, when_all

        trial = int(policy.parameters["trial_months"])
        after = trial + int(policy.parameters["waived_months_after_trial"])
        found = self.found = {}

        def record(code: str) -> Callable[[Any], None]:
            def action(c: Any) -> None:
                found[c.m.sid] = code
            return action

        in_time = (m.cancel_requested == True) & (m.cancel_requested_offset < trial) & (  # noqa: E712
            (m.cancel_effective == False) | (m.cancel_effective_offset >= trial))  # noqa: E712
        with ruleset(self.NAME):
            when_all(pri(0), m.returned == True)(record("not_installed"))  # noqa: E712
            when_all(pri(1), (m.completed == False) | (m.month_offset < 0))(record("not_started"))  # noqa: E712
            when_all(pri(2), (m.cancel_effective == True) & (m.months_after_effective > 0))(  # noqa: E712
                record("cancelled"))
            when_all(pri(3), m.month_offset < trial)(record("trial"))
            when_all(pri(4), in_time & (m.month_offset < after))(record("late_cancel_waiver"))
            when_all(pri(5), in_time)(record("cancellation_overdue"))
            when_all(pri(6), m.switched == True)(record("switched"))  # noqa: E712
            when_all(pri(7), m.kind == "fee")(record("default_paid"))
        self.priced = Priced(policy)

    def run(self, items: list[itvrules.Enrollment], m: int) -> Iterator[View]:
        from durable.lang import delete_state, post

        found = self.found
        for i, enr in enumerate(items):
            sid = str(i)
            post(self.NAME, {"sid": sid, "kind": "fee", **facts(enr, m)})
            delete_state(self.NAME, sid)
            yield self.priced(enr, found.pop(sid))


FACT_FIELDS = ("returned", "completed", "month_offset", "cancel_effective", "months_after_effective",
               "cancel_requested", "cancel_requested_offset", "cancel_effective_offset", "switched")


class ZenByHand:
    """The fee table as a GoRules JDM decision table (hit policy first), evaluated per row.

    A decision-table cell tests one column, so the two rules with an "or"
    across columns (not started; a cancellation not effective in time) take a
    row per alternative.
    """

    def __init__(self, policy: itvrules.Policy) -> None:
        import zen

        trial = int(policy.parameters["trial_months"])
        after = trial + int(policy.parameters["waived_months_after_trial"])
        in_time = {"cancel_requested": "true", "cancel_requested_offset": f"< {trial}"}
        rows = [
            ("not_installed", {"returned": "true"}),
            ("not_started", {"completed": "false"}),
            ("not_started", {"month_offset": "< 0"}),
            ("cancelled", {"cancel_effective": "true", "months_after_effective": "> 0"}),
            ("trial", {"month_offset": f"< {trial}"}),
            ("late_cancel_waiver", {**in_time, "cancel_effective": "false", "month_offset": f"< {after}"}),
            ("late_cancel_waiver", {**in_time, "cancel_effective_offset": f">= {trial}",
                                    "month_offset": f"< {after}"}),
            ("cancellation_overdue", {**in_time, "cancel_effective": "false"}),
            ("cancellation_overdue", {**in_time, "cancel_effective_offset": f">= {trial}"}),
            ("switched", {"switched": "true"}),
            ("default_paid", {}),
        ]
        rules = [{"_id": f"r{i}", **{f"in_{f}": cells.get(f, "") for f in FACT_FIELDS},
                  "out_code": json.dumps(code)} for i, (code, cells) in enumerate(rows)]
        table = {"hitPolicy": "first",
                 "inputs": [{"id": f"in_{f}", "name": f, "field": f} for f in FACT_FIELDS],
                 "outputs": [{"id": "out_code", "name": "code", "field": "code"}], "rules": rules}
        jdm = {"nodes": [
            {"id": "request", "type": "inputNode", "name": "request", "position": {"x": 0, "y": 0}},
            {"id": "fees", "type": "decisionTableNode", "name": "fees", "position": {"x": 300, "y": 0},
             "content": table},
            {"id": "response", "type": "outputNode", "name": "response", "position": {"x": 600, "y": 0}}],
            "edges": [{"id": "e1", "sourceId": "request", "targetId": "fees", "type": "edge"},
                      {"id": "e2", "sourceId": "fees", "targetId": "response", "type": "edge"}]}
        self.decision = zen.ZenEngine().create_decision(json.dumps(jdm))
        self.priced = Priced(policy)

    def run(self, items: list[itvrules.Enrollment], m: int) -> Iterator[View]:
        evaluate = self.decision.evaluate
        for enr in items:
            yield self.priced(enr, evaluate(facts(enr, m))["result"]["code"])


# -- the library's backends -----------------------------------------------------------------


def columnar_compute(policy: itvrules.Policy, frame: pl.DataFrame, month: str) -> pl.DataFrame:
    """The columnar backend's work (``frames._fees.decide_fen``) and the amount in fen; no text."""
    decided = decide_fen(policy, frame, month)
    gross = pl.col("_gross").fill_null(0)
    return decided.select(pl.col("_rule").alias("rule"),
                          pl.when(pl.col("_waived")).then(0).otherwise(gross).alias("amount_fen"))


def _sql(cond: Condition) -> str:
    """A fee-table condition as DuckDB SQL over the fact columns of ``duckdb_compute``."""
    if isinstance(cond, Compare):
        def literal(value: Any) -> str:
            if isinstance(value, bool):
                return "TRUE" if value else "FALSE"
            return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"

        if cond.op in ("in", "not_in"):
            listed = ", ".join(literal(v) for v in cond.value)
            return f"({cond.field} {'IN' if cond.op == 'in' else 'NOT IN'} ({listed}))"
        symbol = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}[cond.op]
        return f"({cond.field} {symbol} {literal(cond.value)})"
    joiner = " AND " if isinstance(cond, AllOf) else " OR "
    parts = [_sql(part) for part in cond.parts]
    return "(" + (joiner.join(parts) if parts else ("TRUE" if isinstance(cond, AllOf) else "FALSE")) + ")"


def duckdb_compute(policy: itvrules.Policy, frame: pl.DataFrame, month: str) -> pl.DataFrame:
    """The compute-only work as one DuckDB SQL query over the same Arrow data: the fee table as a
    ``CASE``, prices as a ``CASE`` on package and product. Not a library path: it is measured to
    choose the columnar engine (docs/performance.md "Scale")."""
    import duckdb

    m = parse_month(month)
    rules = policy.rules("fees")
    default = str(policy.parameters["default_package"])

    def index(column: str) -> str:
        return f"(year({column}) * 12 + month({column}) - 1)"

    rule = " ".join(f"WHEN {_sql(r.when)} THEN {i}" for i, r in enumerate(rules))
    prices = " ".join(f"WHEN _package = '{code}' AND product = '{product}' THEN {to_fen(amount)}"
                      for code, package in policy.packages.items()
                      for product, amount in package.tariff.items())
    charged = " ".join(
        f"WHEN {i} THEN " + ("NULL" if r.then.get("waive") or r.then["charge"] == "none"
                             else f"'{default}'" if r.then["charge"] == "default_package"
                             else "switched_to")
        for i, r in enumerate(rules))
    query = f"""
        WITH dated AS (
            SELECT product, switched_to, coalesce(returned, FALSE) AS returned,
                   completed_on IS NOT NULL AS completed,
                   coalesce({index("completed_on")}, {m}) AS base,
                   coalesce(cancel_requested_on, cancel_effective_on) AS requested_on,
                   cancel_effective_on
            FROM frame),
        facts AS (
            SELECT product, switched_to, returned, completed, {m} - base AS month_offset,
                   requested_on IS NOT NULL AS cancel_requested,
                   coalesce({index("requested_on")} - base, 0) AS cancel_requested_offset,
                   cancel_effective_on IS NOT NULL AS cancel_effective,
                   coalesce({index("cancel_effective_on")} - base, 0) AS cancel_effective_offset,
                   coalesce({m} - {index("cancel_effective_on")}, 0) AS months_after_effective,
                   switched_to IS NOT NULL AS switched
            FROM dated),
        decided AS (
            SELECT product, CASE {rule} ELSE -1 END AS rule, switched_to FROM facts),
        charged AS (
            SELECT product, rule, CASE rule {charged} END AS _package FROM decided)
        SELECT rule::INTEGER AS rule, coalesce(CASE {prices} END, 0)::BIGINT AS amount_fen
        FROM charged"""
    with duckdb.connect() as connection:
        connection.register("frame", frame.to_arrow())
        return pl.DataFrame(pl.from_arrow(connection.sql(query).to_arrow_table()))


# -- measurement ----------------------------------------------------------------------------


def rss(pid: int | str = "self") -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


class PeakRss:
    """The peak resident memory of this process (and ``extra`` pids) while the block runs, every 5 ms."""

    def __init__(self, extra: tuple[int, ...] = ()) -> None:
        self.extra = extra
        self.peak = self.start = 0
        self._stop = threading.Event()

    def _now(self) -> int:
        return rss() + sum(rss(pid) for pid in self.extra)

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._now())

    def __enter__(self) -> PeakRss:
        self.peak = self.start = self._now()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._now())


@dataclass
class Result:
    name: str
    size: int
    measured: int
    seconds: float = float("inf")
    peak: int = 0
    growth: int = 0
    library: bool = False
    note: str = ""

    @property
    def rate(self) -> float:
        return self.measured / self.seconds


def measure(result: Result, run: Callable[[], Any], repeat: int, extra: tuple[int, ...] = (),
            warm: bool = False) -> Result:
    if warm:  # an untimed pass first: the JVM compiles the query's code on its first run
        run()
    for _ in range(repeat):
        gc.collect()
        with PeakRss(extra) as peak:
            started = time.perf_counter()
            run()
            elapsed = time.perf_counter() - started
        if elapsed < result.seconds:
            result.seconds = elapsed
        result.peak = max(result.peak, peak.peak)
        result.growth = max(result.growth, peak.peak - peak.start)
    print(f"   {result.name:22s} {result.measured:>12,} rows  {result.rate:>14,.0f}/s", flush=True)
    return result


def consume(decisions: Iterator[Any]) -> None:
    deque(decisions, maxlen=0)


def check_sample(name: str, policy: itvrules.Policy, items: list[itvrules.Enrollment],
                 decide: Callable[[list[itvrules.Enrollment]], Iterator[View]]) -> None:
    """``decide`` must give ``Policy.fee``'s (code, gross, waived, amount, rule) on a sample."""
    sample = items[:SAMPLE]
    for enr, got in zip(sample, decide(sample), strict=True):
        fee = policy.fee(enr, MONTH)
        expected = (fee.code, fee.gross, fee.waived, fee.amount, fee.rule)
        if got != expected:
            raise AssertionError(f"{name} decides {got} for {enr!r}, the library {expected}")
    print(f"   {name}: agrees with Policy.fee on {len(sample):,} rows", flush=True)


def check_columnar(policy: itvrules.Policy, frame: pl.DataFrame) -> None:
    """The compute-only work must give ``fees_frame``'s rules and amounts."""
    decided = policy.fees_frame(frame, MONTH)
    ids = [rule.id for rule in policy.rules("fees")]
    for compute in (columnar_compute, duckdb_compute):
        found = compute(policy, frame, MONTH)
        assert [ids[i] for i in found["rule"]] == decided["rule"].to_list(), compute.__name__
        assert found["amount_fen"].to_list() == decided["amount_fen"].to_list(), compute.__name__
    print(f"   columnar compute: agrees with fees_frame on {frame.height:,} rows", flush=True)


class Spark:
    """A local[2] session and the Spark backend, when both are there."""

    def __init__(self) -> None:
        self.session: Any = None
        if importlib.util.find_spec("itvrules.spark._fees") is None:
            self.why = "no itvrules.spark._fees"
        elif importlib.util.find_spec("pyspark") is None or shutil.which("java") is None:
            self.why = "pyspark or Java missing"
        else:
            self.why = ""

    def start(self) -> None:
        from pyspark.sql import SparkSession

        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        self.session = (SparkSession.builder.master("local[2]").appName("itvrules-bench-scale")
                        .config("spark.driver.host", "127.0.0.1")
                        .config("spark.driver.bindAddress", "127.0.0.1")
                        .config("spark.ui.enabled", "false")
                        .config("spark.ui.showConsoleProgress", "false")
                        .config("spark.sql.shuffle.partitions", "2").getOrCreate())
        self.session.sparkContext.setLogLevel("ERROR")

    @property
    def jvm(self) -> tuple[int, ...]:
        proc = getattr(self.session.sparkContext._gateway, "proc", None)
        return (proc.pid,) if proc is not None else ()

    def run(self, policy: itvrules.Policy, path: Path) -> None:
        from itvrules.spark._fees import decide_fees_spark

        decided = decide_fees_spark(policy, self.session.read.parquet(str(path)), MONTH)
        decided.write.format("noop").mode("overwrite").save()


# -- the run ------------------------------------------------------------------------------------


def bench_size(policy: itvrules.Policy, frame: pl.DataFrame, items: list[itvrules.Enrollment],
               size: int, caps: dict[str, int], repeat: int, peers: dict[str, Any], spark: Spark,
               folder: Path) -> list[Result]:
    m = parse_month(MONTH)
    part = frame.head(size)
    print(f"-- {size:,} rows", flush=True)
    rows = min(size, caps["row"])
    peer_rows = min(size, caps["peer"])
    plain = PlainFees(policy)
    results = [
        measure(Result("columnar compute", size, size, library=True),
                lambda: columnar_compute(policy, part, MONTH), repeat),
        measure(Result("DuckDB SQL*", size, size),
                lambda: duckdb_compute(policy, part, MONTH), repeat),
        measure(Result("fees_frame", size, size, library=True),
                lambda: policy.fees_frame(part, MONTH), repeat),
        measure(Result("fees() compiled", size, rows, library=True),
                lambda: consume(policy.fees(items[:rows], MONTH)), repeat),
        measure(Result("fees() durable", size, rows, library=True),
                lambda: consume(policy.fees(items[:rows], MONTH, engine="durable")), repeat),
    ]
    if not spark.why:
        path = folder / f"spark-{size}.parquet"
        spark_rows = min(size, caps["spark"])
        part.head(spark_rows).write_parquet(path)
        results.append(measure(Result("Spark local[2]", size, spark_rows, library=True),
                               lambda: spark.run(policy, path), repeat, spark.jvm, warm=True))
    results.append(measure(Result("plain loop", size, rows),
                           lambda: consume(plain.decide(e, m) for e in items[:rows]), repeat))
    for name, peer in peers.items():
        results.append(measure(Result(name, size, peer_rows),
                               lambda peer=peer: consume(peer.run(items[:peer_rows], m)), 1))
    return results


E2E_CHILD = r"""
import json, resource, sys, time
import itvrules
from itvrules.runs._bulk_arrow import bill_parquet
policy = itvrules.load_policy()
started = time.perf_counter()
summary = bill_parquet(policy, sys.argv[3], sys.argv[1], sys.argv[2])
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rows_in": summary.rows_in, "decided": summary.decided,
                  "rejected": summary.rejected,
                  "self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


#: Starts the billing interpreter and reports its peak memory. A child's ``ru_maxrss`` starts at
#: its parent's peak (Linux copies the high-water mark on fork): started from this small
#: interpreter rather than from the benchmark, which holds ten million generated rows, the
#: billing process's figure is its own.
E2E_RUNNER = r"""
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=False)
sys.stderr.write(done.stderr)
found = json.loads(done.stdout) if done.returncode == 0 else {"failed": done.returncode}
found["children_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps(found))
"""


def end_to_end(policy: itvrules.Policy, frame: pl.DataFrame, folder: Path) -> dict[str, Any]:
    """The Parquet feed billed in a fresh interpreter; its own time and peak memory."""
    feed, out = folder / "feed.parquet", folder / "bill.parquet"
    spoil(frame, BAD_EVERY).write_parquet(feed)
    size = feed.stat().st_size
    del frame
    gc.collect()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", E2E_RUNNER, sys.executable, "-c", E2E_CHILD,
                           str(feed), str(out), MONTH], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    found: dict[str, Any] = json.loads(done.stdout) if done.returncode == 0 else {"failed": True}
    if "failed" in found:
        raise RuntimeError(f"bill_parquet failed:\n{done.stderr}")
    found.update(process_seconds=wall, feed_bytes=size, export_bytes=out.stat().st_size)
    return found


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
            f"{os.cpu_count()} CPUs (load average {load}); itvrules {itvrules.__version__}, "
            f"polars {pl.__version__}, pyarrow {metadata.version('pyarrow')}, "
            f"durable-rules {metadata.version('durable-rules')}, "
            f"zen-engine {metadata.version('zen-engine')}")


def print_table(results: list[Result]) -> None:
    print()
    print(f"{'size':>11} | {'approach':22} | {'measured':>11} | {'decisions/s':>13} | {'x plain':>8} | "
          f"{'peak RSS':>9} | {'+RSS':>8}")
    print("-" * 101)
    for size in dict.fromkeys(r.size for r in results):
        row = [r for r in results if r.size == size]
        plain = next(r for r in row if r.name == "plain loop")
        for r in row:
            print(f"{size:>11,} | {r.name:22} | {r.measured:>11,} | {r.rate:>13,.0f} | "
                  f"{r.rate / plain.rate:>7.2f}x | {r.peak / MB:>6,.0f} MB | {r.growth / MB:>5,.0f} MB")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_verdicts(results: list[Result], e2e: dict[str, Any], e2e_rows: int) -> None:
    print()
    largest = max(r.size for r in results)
    columnar = [r for r in results if r.name == "columnar compute" and r.size == COLUMNAR_AT]
    if columnar:
        rate = columnar[0].rate
        print(f"{verdict(rate >= COLUMNAR_MIN_RATE)} columnar compute >= {COLUMNAR_MIN_RATE:,} "
              f"decisions/s at {COLUMNAR_AT:,} rows: {rate:,.0f}/s")
    else:
        print(f"n/a  columnar compute at {COLUMNAR_AT:,} rows: not measured in this run")
    seconds, peak = e2e["seconds"], e2e["children_kb"] * 1024
    full = e2e_rows == E2E_ROWS
    scale = "" if full else f" (at {e2e_rows:,} rows; the target is for {E2E_ROWS:,})"
    print(f"{verdict(seconds < E2E_MAX_SECONDS) if full else 'n/a '} Parquet end to end < "
          f"{E2E_MAX_SECONDS:.0f} s: {seconds:.2f} s for {e2e['rows_in']:,} rows{scale}")
    print(f"{verdict(peak < E2E_MAX_BYTES) if full else 'n/a '} Parquet end to end < 4 GB: "
          f"peak {peak / MB:,.0f} MB (getrusage(RUSAGE_CHILDREN) of the billing process tree){scale}")
    at = [r for r in results if r.size == largest]
    peers = [r for r in at if r.name in ("durable-rules direct", "zen-engine")]
    fastest_peer = max(peers, key=lambda r: r.rate)
    slow = [r.name for r in at if r.library and r.rate <= fastest_peer.rate]
    print(f"{verdict(not slow)} every backend faster than zen-engine and durable-rules direct at "
          f"{largest:,} rows (fastest peer: {fastest_peer.name}, {fastest_peer.rate:,.0f}/s)"
          + (f": slower: {', '.join(slow)}" if slow else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated row counts (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 10,000 rows, peers on 2,000, end to end on 100,000")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes, the fastest kept")
    parser.add_argument("--row-cap", type=int, default=1_000_000,
                        help="most rows for the row-at-a-time approaches (default: %(default)s)")
    parser.add_argument("--peer-cap", type=int, default=20_000,
                        help="most rows for durable-rules direct and zen-engine (default: %(default)s)")
    parser.add_argument("--spark-cap", type=int, default=10_000_000,
                        help="most rows for Spark (default: %(default)s)")
    parser.add_argument("--no-spark", action="store_true", help="leave the Spark backend out")
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else tuple(int(s.replace("_", "")) for s in args.sizes.split(","))
    caps = {"row": args.row_cap, "peer": 2_000 if args.quick else args.peer_cap, "spark": args.spark_cap}
    repeat = 1 if args.quick else args.repeat
    e2e_rows = 100_000 if args.quick else max(sizes)

    print(machine())
    policy = itvrules.load_policy()
    started = time.perf_counter()
    frame = make_frame(max(max(sizes), e2e_rows), policy, args.seed)
    print(f"{frame.height:,} enrolments generated in {time.perf_counter() - started:.1f} s; "
          f"billing {MONTH}; seed {args.seed}; fastest of {repeat} pass(es); row approaches on at "
          f"most {caps['row']:,} rows, peers on at most {caps['peer']:,}", flush=True)
    spark = Spark()
    if args.no_spark:
        spark.why = "--no-spark"
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        folder = Path(tmp)
        print(f"-- end to end: {e2e_rows:,}-row Parquet feed -> bill_parquet -> Parquet export", flush=True)
        e2e = end_to_end(policy, frame.head(e2e_rows), folder)
        print(f"   {e2e['seconds']:.2f} s in bill_parquet ({e2e['process_seconds']:.2f} s with "
              f"interpreter start); {e2e['rows_in']:,} in = {e2e['decided']:,} decided + "
              f"{e2e['rejected']:,} rejected; peak RSS {e2e['children_kb'] / 1024:,.0f} MB "
              f"(getrusage(RUSAGE_CHILDREN); the billing process itself: {e2e['self_kb'] / 1024:,.0f}"
              f" MB); feed {e2e['feed_bytes'] / MB:,.0f} MB, export {e2e['export_bytes'] / MB:,.0f} MB",
              flush=True)
        if not spark.why:
            spark.start()
        started = time.perf_counter()
        items = enrolments_of(frame.head(min(max(sizes), caps["row"])))
        print(f"{len(items):,} Enrollment objects built in {time.perf_counter() - started:.1f} s",
              flush=True)
        peers = {"durable-rules direct": DurableByHand(policy), "zen-engine": ZenByHand(policy)}
        plain = PlainFees(policy)
        check_sample("plain loop", policy, items, lambda s: (plain.decide(e, parse_month(MONTH)) for e in s))
        for name, peer in peers.items():
            check_sample(name, policy, items, lambda s, peer=peer: peer.run(s, parse_month(MONTH)))
        check_columnar(policy, frame.head(100_000))
        if spark.why:
            print(f"   Spark left out: {spark.why}")
        results: list[Result] = []
        for size in sizes:
            results += bench_size(policy, frame, items, size, caps, repeat, peers, spark, folder)
    print_table(results)
    print("* not a library path: the same work as columnar compute, as one DuckDB SQL query over the "
          "same Arrow data, measured to choose the columnar engine")
    print_verdicts(results, e2e, e2e_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
