"""Decisions per second and memory of every way itvrules decides, against a plain-Python loop.

For each size N the script generates N enrolments and N subscribers (seeded,
spread over the campaign, with returns, pending installs, cancellations at
every timing and package switches) and runs, over exactly the same data:

* ``plain loop``: the fee rules written out by hand, building each
  result with the public ``itvrules.FeeDecision(...)`` constructor: the 1.0x
  baseline, checked to give the library's results so the comparison is honest;
* ``fee() compiled`` / ``fee() durable``: ``policy.fee`` once per enrolment;
* ``fees() default``: ``policy.fees`` streaming one billing month at a time;
* ``eligibility() compiled`` / ``eligibility() durable``: once per subscriber.

Each approach is timed over ``--repeat`` passes (default 3), the approaches
taking turns, and its fastest pass counts: a burst of other work on a shared
machine then slows one pass of each rather than every pass of one. Rates are
per second of the process's CPU time, which other processes disturb far less
than the clock (the wall-clock rate is printed too). Resident memory is read
around every timed pass, since durable-rules allocates in C where tracemalloc
cannot see. Then each approach runs once more under tracemalloc, which gives
the peak of Python allocations during the decision phase alone (the inputs
exist before tracing starts) and a digest of every decision, asserted equal
across approaches. Results are consumed as they come, as an export writer
would, and never kept.

Run: ``python benchmarks/bench_decisions.py [--sizes 10000,100000,1000000] [--quick] [--repeat 3]``.
The script reports and always exits 0.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import operator
import os
import platform
import random
import resource
import sys
import time
import tracemalloc
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from importlib import metadata
from typing import Any

import attrs

import itvrules

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (5_000,)
WARM_UP = 2_000
MB = 2**20
MASK = 2**64 - 1

#: The targets the report grades at the largest size.
DURABLE_MIN_RATE = 50_000
DURABLE_MAX_GROWTH_MB_PER_MILLION = 50.0
FEES_MIN_RATIO = 1.0

Decision = Any  # an itvrules.FeeDecision or itvrules.Eligibility
FeeBlocks = list[tuple[str, list[itvrules.Enrollment]]]
Subscribers = tuple[list[itvrules.Subscriber], list[date]]


# -- workload ---------------------------------------------------------------------------------


class _Days:
    """Shared ``date`` objects: a million enrolments need only a few hundred distinct days."""

    def __init__(self) -> None:
        self._cache: dict[int, date] = {}

    def __call__(self, day: date) -> date:
        return self._cache.setdefault(day.toordinal(), day)


def _month_text(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _month_start(day: date, months_later: int) -> date:
    index = day.year * 12 + day.month - 1 + months_later
    return date(index // 12, index % 12 + 1, 1)


def _trial_end(completed: date, trial_months: int) -> date:
    return _month_start(completed, trial_months) - timedelta(days=1)


def make_enrolments(count: int, policy: itvrules.Policy, seed: int) -> FeeBlocks:
    """``count`` enrolments, grouped by the billing month each is decided for.

    4 % returned, 4 % not installed yet; of the installed, 35 % register a
    cancellation (in each trial month, on the last day, the day after, months
    later) that takes effect the same day, later that month, the next month,
    two months on or at a date not known yet; 3 % carry only an effective date;
    12 % switch package. Billing months run from March 2025 to February 2026.
    """
    rng = random.Random(seed)
    day = _Days()
    first, last = policy.campaign_window
    span = (last - first).days + 1
    trial = int(policy.parameters["trial_months"])
    switch_to = [code for code in policy.packages if code != policy.parameters["default_package"]]
    products = ("brand",) * 7 + ("annual",) * 2 + ("single_monthly",)
    channels = ("伊山一分局", "伊山二分局", "营业厅", "客服中心", "提速施工队")
    reasons = ("线路不具备安装条件", "用户拒绝安装", "地址错误")
    months = [_month_text(2025 * 12 + 2 + k) for k in range(12)]
    blocks: dict[str, list[itvrules.Enrollment]] = {m: [] for m in months}
    for i in range(count):
        accepted = day(first + timedelta(days=rng.randrange(span)))
        fields: dict[str, Any] = {
            "account_id": f"07{i:08d}", "product": rng.choice(products), "accepted_on": accepted,
            "channel": rng.choice(channels),
        }
        kind = rng.random()
        if kind < 0.04:
            fields.update(returned=True, return_reason=rng.choice(reasons))
        elif kind >= 0.08:
            lag = rng.randrange(8) if rng.random() < 0.7 else rng.randrange(8, 21)
            completed = fields["completed_on"] = day(accepted + timedelta(days=lag))
            if rng.random() < 0.35:
                requested = _cancel_request(rng, completed, trial)
                effective = _cancel_effect(rng, requested)
                fields["cancel_effective_on"] = None if effective is None else day(effective)
                if effective is None or rng.random() > 0.03 / 0.35:
                    fields["cancel_requested_on"] = day(requested)
            if rng.random() < 0.12:
                fields["switched_to"] = rng.choice(switch_to)
        blocks[rng.choice(months)].append(itvrules.Enrollment(**fields))
    return list(blocks.items())


def _cancel_request(rng: random.Random, completed: date, trial: int) -> date:
    end = _trial_end(completed, trial)
    when = rng.randrange(7)
    if when < 3:  # inside trial month 1, 2 or 3
        start = max(completed, _month_start(completed, when))
        month_end = _month_start(completed, when + 1) - timedelta(days=1)
        return start + timedelta(days=rng.randrange((month_end - start).days + 1))
    if when == 3:
        return end
    if when == 4:
        return end + timedelta(days=1)
    return end + timedelta(days=rng.randrange(2, 150))


def _cancel_effect(rng: random.Random, requested: date) -> date | None:
    how = rng.random()
    if how < 0.4:
        return requested
    if how < 0.55:
        return requested + timedelta(days=rng.randrange(1, 10))
    if how < 0.7:
        return _month_start(requested, 1) + timedelta(days=rng.randrange(28))
    if how < 0.8:
        return _month_start(requested, 2) + timedelta(days=rng.randrange(28))
    return None


def make_subscribers(count: int, policy: itvrules.Policy, seed: int) -> Subscribers:
    """``count`` subscribers and the day each order was taken (some outside the window)."""
    rng = random.Random(seed)
    day = _Days()
    first, last = policy.campaign_window
    start = first - timedelta(days=10)
    span = (last - first).days + 21
    plans = ("e8-68",) * 4 + ("e8-88", "e9-79", "e9-99", "e9-129", "e6-49", "e8-58", "e9-139",
                              "e9-169", " E8-68", "e7-50", "e8")
    products = ("brand",) * 7 + ("annual",) * 2 + ("single_monthly",)
    communities = ("none",) * 6 + ("upgrading", "upgraded", "upgraded")
    subscribers = [
        itvrules.Subscriber(
            account_id=f"07{i:08d}", plan=rng.choice(plans), product=rng.choice(products),
            community=rng.choice(communities), new_install=rng.random() < 0.3,
            has_itv=rng.random() < 0.08, line_ready=rng.random() < 0.93)
        for i in range(count)
    ]
    days = [day(start + timedelta(days=rng.randrange(span))) for _ in range(count)]
    return subscribers, days


# -- the plain-Python baseline -------------------------------------------------------------------


class PlainFees:
    """The fee rules by hand: what a caller would write without the library's engines.

    Tariffs, rule ids and clauses are read from the policy once, so the loop
    builds exactly the library's ``FeeDecision`` objects (through the public,
    validating constructor).
    """

    def __init__(self, policy: itvrules.Policy) -> None:
        self.trial = int(policy.parameters["trial_months"])
        self.waived_after = int(policy.parameters["waived_months_after_trial"])
        self.default = str(policy.parameters["default_package"])
        self.tariff = {(code, product): amount for code, package in policy.packages.items()
                       for product, amount in package.tariff.items()}
        self.rule = {str(rule.then["code"]): (rule.id, rule.clause) for rule in policy.rules("fees")}
        self.zero = Decimal("0.00")
        # every decision names the policy that made it: id, version, 12 hex digits of its hash
        self.provenance = {"policy_id": policy.id, "policy_version": policy.version,
                           "policy_hash": policy.content_hash[:12]}

    def decide(self, enr: itvrules.Enrollment, month: str, m: int) -> itvrules.FeeDecision:
        completed = enr.completed_on
        if enr.returned:
            return self._free(enr, month, "not_installed")
        if completed is None:
            return self._free(enr, month, "not_started")
        c = completed.year * 12 + completed.month - 1
        if m < c:
            return self._free(enr, month, "not_started")
        requested = enr.cancel_requested_on
        effective = enr.cancel_effective_on
        e = None if effective is None else effective.year * 12 + effective.month - 1
        if e is not None and m > e:
            return self._free(enr, month, "cancelled")
        if m - c < self.trial:
            return self._charge(enr, month, "trial", self.default, waive=True)
        if requested is not None and requested.year * 12 + requested.month - 1 - c < self.trial \
                and (e is None or e - c >= self.trial):
            if m - c < self.trial + self.waived_after:
                return self._charge(enr, month, "late_cancel_waiver", self.default, waive=True)
            return self._charge(enr, month, "cancellation_overdue", self.default, follow_up=True)
        if enr.switched_to is not None:
            return self._charge(enr, month, "switched", enr.switched_to)
        return self._charge(enr, month, "default_paid", self.default)

    def _free(self, enr: itvrules.Enrollment, month: str, code: str) -> itvrules.FeeDecision:
        rule, clause = self.rule[code]
        zero = self.zero
        return itvrules.FeeDecision(account_id=enr.account_id, month=month, code=code, gross=zero,
                                    waived=zero, amount=zero, rule=rule, clause=clause,
                                    **self.provenance)

    def _charge(self, enr: itvrules.Enrollment, month: str, code: str, package: str, *,
                waive: bool = False, follow_up: bool = False) -> itvrules.FeeDecision:
        rule, clause = self.rule[code]
        gross = self.tariff[package, enr.product.value]
        waived = gross if waive else self.zero
        return itvrules.FeeDecision(account_id=enr.account_id, month=month, code=code, gross=gross,
                                    waived=waived, amount=gross - waived, rule=rule, clause=clause,
                                    package=package, follow_up=follow_up, **self.provenance)


# -- the approaches: each a generator of decisions over the same data ----------------------------


def plain_loop(policy: itvrules.Policy, blocks: FeeBlocks) -> Iterator[Decision]:
    decide = PlainFees(policy).decide
    for month, block in blocks:
        m = int(month[:4]) * 12 + int(month[5:]) - 1
        for enr in block:
            yield decide(enr, month, m)


def fee_per_item(engine: str) -> Callable[[itvrules.Policy, FeeBlocks], Iterator[Decision]]:
    def run(policy: itvrules.Policy, blocks: FeeBlocks) -> Iterator[Decision]:
        fee = policy.fee
        for month, block in blocks:
            for enr in block:
                yield fee(enr, month, engine=engine)

    return run


def fees_streaming(policy: itvrules.Policy, blocks: FeeBlocks) -> Iterator[Decision]:
    for month, block in blocks:
        yield from policy.fees(block, month)


def eligibility_per_item(engine: str) -> Callable[[itvrules.Policy, Subscribers], Iterator[Decision]]:
    def run(policy: itvrules.Policy, data: Subscribers) -> Iterator[Decision]:
        eligibility = policy.eligibility
        for sub, day in zip(*data, strict=True):
            yield eligibility(sub, accepted_on=day, engine=engine)

    return run


def digest_of(kind: type) -> Callable[[Iterable[Decision]], tuple[int, int]]:
    """(count, order-sensitive hash of every attrs field) of a stream of ``kind`` results."""
    fields = operator.attrgetter(*(field.name for field in attrs.fields(kind)))

    def digest(decisions: Iterable[Decision]) -> tuple[int, int]:
        acc = count = 0
        for decision in decisions:
            acc = (acc * 1_000_003 + hash(fields(decision))) & MASK
            count += 1
        return count, acc

    return digest


fee_digest = digest_of(itvrules.FeeDecision)
eligibility_digest = digest_of(itvrules.Eligibility)


# -- measurement -------------------------------------------------------------------------------


def rss_bytes() -> int:
    """Resident memory now (``/proc``), else the peak so far (``getrusage``)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


@dataclass
class Measure:
    """One approach at one size: its fastest timed pass, memory, and digest."""

    name: str
    table: str
    size: int
    cpu_seconds: float = float("inf")
    wall_seconds: float = float("inf")
    timed_decisions: int = 0
    rss_growth: int = 0
    traced_peak: int = 0
    digest: tuple[int, int] = (0, 0)

    @property
    def rate(self) -> float:
        """Decisions per second of this process's CPU time (other load on the machine aside)."""
        return self.size / self.cpu_seconds

    @property
    def wall_rate(self) -> float:
        return self.size / self.wall_seconds

    @property
    def growth_per_million_mb(self) -> float:
        return self.rss_growth / MB / self.timed_decisions * 1e6


Run = Callable[[], Iterator[Decision]]
Digest = Callable[[Iterable[Decision]], tuple[int, int]]


def measure(table: str, size: int, runs: dict[str, Run], digest: Digest, repeat: int) -> list[Measure]:
    """Time every approach ``repeat`` times, round robin, then trace each once.

    Round robin, and the fastest pass kept, so that a burst of other work on a
    shared machine slows one pass of every approach rather than all passes of
    one. Rates use the process's CPU time, which other processes disturb far
    less than wall time (both are kept). Resident memory is read around every
    timed pass and the growths summed. The traced pass gives the peak of
    Python allocations while deciding and a digest of every decision.
    """
    results = {name: Measure(name, table, size) for name in runs}
    for run in runs.values():
        deque(itertools.islice(run(), WARM_UP), maxlen=0)  # engines built, rulesets registered
    for _ in range(repeat):
        for name, run in runs.items():
            found = results[name]
            gc.collect()
            before = rss_bytes()
            wall, cpu = time.perf_counter(), time.process_time()
            deque(run(), maxlen=0)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            gc.collect()
            found.rss_growth += rss_bytes() - before
            found.timed_decisions += size
            found.cpu_seconds = min(found.cpu_seconds, cpu)
            found.wall_seconds = min(found.wall_seconds, wall)
    for name, run in runs.items():
        found = results[name]
        tracemalloc.start()
        found.digest = digest(run())
        found.traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        if found.digest[0] != size:
            raise AssertionError(f"{name} made {found.digest[0]} decisions for {size} inputs")
        print(f"   {name}: {found.rate:,.0f}/s", flush=True)
    return list(results.values())


def bench_fees(policy: itvrules.Policy, size: int, seed: int, repeat: int) -> list[Measure]:
    """The four fee approaches over one set of enrolments; asserts they all agree."""
    started = time.perf_counter()
    blocks = make_enrolments(size, policy, seed)
    print(f"   {size:,} enrolments generated in {time.perf_counter() - started:.1f} s", flush=True)
    runs: dict[str, Run] = {
        "plain loop (baseline)": partial(plain_loop, policy, blocks),
        "fee() compiled": partial(fee_per_item("compiled"), policy, blocks),
        "fee() durable": partial(fee_per_item("durable"), policy, blocks),
        f"fees() default ({itvrules.DEFAULT_ENGINE})": partial(fees_streaming, policy, blocks),
    }
    results = measure("fees", size, runs, fee_digest, repeat)
    for found in results[1:]:
        if found.digest != results[0].digest:
            raise AssertionError(f"{found.name} does not give the plain loop's decisions")
    codes = {d.code for d in fees_streaming(policy, blocks)}
    print(f"   every fee approach gives the plain loop's decisions ({len(codes)} of "
          f"{len(itvrules.FeeCode)} fee codes occur)", flush=True)
    return results


def bench_eligibility(policy: itvrules.Policy, size: int, seed: int, repeat: int) -> list[Measure]:
    """Eligibility per subscriber in both engines; asserts they agree."""
    started = time.perf_counter()
    subscribers = make_subscribers(size, policy, seed)
    print(f"   {size:,} subscribers generated in {time.perf_counter() - started:.1f} s", flush=True)
    runs: dict[str, Run] = {
        f"eligibility() {engine}": partial(eligibility_per_item(engine), policy, subscribers)
        for engine in ("compiled", "durable")
    }
    results = measure("eligibility", size, runs, eligibility_digest, repeat)
    if results[0].digest != results[1].digest:
        raise AssertionError("the durable engine's eligibility differs from the compiled engine's")
    print("   both engines give the same eligibility", flush=True)
    return results


def bench_size(policy: itvrules.Policy, size: int, seed: int, repeat: int) -> list[Measure]:
    print(f"\n== N = {size:,}", flush=True)
    results = bench_fees(policy, size, seed, repeat)
    gc.collect()  # the enrolments are gone before the subscribers are made
    results += bench_eligibility(policy, size, seed + 1, repeat)
    gc.collect()
    return results


# -- report -------------------------------------------------------------------------------------


def print_table(results: list[Measure]) -> None:
    header = (f"{'N':>9}  {'approach':<28} {'decisions/s':>11} {'x plain':>7} {'(wall/s)':>9} "
              f"{'py peak KB':>10} {'RSS +MB':>7} {'RSS MB/1M':>9}")
    print("\n" + header)
    print("-" * len(header))
    baseline = {r.size: r.rate for r in results if r.name.startswith("plain")}
    for r in results:
        ratio = f"{r.rate / baseline[r.size]:.2f}x" if r.table == "fees" else "-"
        print(f"{r.size:>9,}  {r.name:<28} {r.rate:>11,.0f} {ratio:>7} {r.wall_rate:>9,.0f} "
              f"{r.traced_peak / 1024:>10.1f} {r.rss_growth / MB:>7.1f} {r.growth_per_million_mb:>9.1f}")
    print("decisions/s: per second of CPU time, fastest pass; wall/s: fastest pass by the clock;\n"
          "py peak: tracemalloc peak while deciding; RSS +MB: resident growth over all timed passes.")


def print_verdicts(results: list[Measure], quick: bool) -> None:
    largest = max(r.size for r in results)
    at = {r.name: r for r in results if r.size == largest}
    plain = at["plain loop (baseline)"]
    fees = next(r for name, r in at.items() if name.startswith("fees()"))
    durable = [at["fee() durable"], at["eligibility() durable"]]

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    print(f"\nTargets at N = {largest:,}" + (" (smoke run: figures are not meaningful)" if quick else ""))
    for r in durable:
        print(f"  {verdict(r.rate >= DURABLE_MIN_RATE)}  {r.name} >= {DURABLE_MIN_RATE:,} decisions/s: "
              f"{r.rate:,.0f}/s")
    for r in durable:
        growth = r.growth_per_million_mb
        print(f"  {verdict(growth < DURABLE_MAX_GROWTH_MB_PER_MILLION)}  {r.name} memory growth < "
              f"{DURABLE_MAX_GROWTH_MB_PER_MILLION:.0f} MB per million decisions: {growth:.1f} MB")
    ratio = fees.rate / plain.rate
    print(f"  {verdict(ratio >= FEES_MIN_RATIO)}  {fees.name} >= {FEES_MIN_RATIO:.1f}x the plain loop: "
          f"{ratio:.2f}x")
    compiled = at["fee() compiled"].rate / at["fee() durable"].rate
    print(f"\nfee() compiled is {compiled:.1f}x fee() durable; fees() is "
          f"{fees.rate / at['fee() durable'].rate:.1f}x fee() durable; eligibility() compiled is "
          f"{at['eligibility() compiled'].rate / at['eligibility() durable'].rate:.1f}x durable.")


def machine() -> str:
    return (f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
            f"{os.cpu_count()} CPUs; itvrules {itvrules.__version__}, "
            f"durable-rules {metadata.version('durable-rules')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES),
                        help="comma-separated numbers of decisions (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke run at N = {', '.join(map(str, QUICK_SIZES))} only")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed passes per approach, the fastest kept (default: %(default)s; "
                             "1 with --quick)")
    parser.add_argument("--seed", type=int, default=2025, help="random seed (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        sizes = QUICK_SIZES if args.quick else tuple(int(s.replace("_", "")) for s in args.sizes.split(","))
    except ValueError:
        parser.error(f"--sizes: expected comma-separated integers, got {args.sizes!r}")
    if any(s < 1 for s in sizes):
        parser.error("--sizes: every size must be at least 1")
    if args.repeat < 1:
        parser.error("--repeat: must be at least 1")
    repeat = 1 if args.quick else args.repeat

    print(machine())
    policy = itvrules.load_policy()
    print(f"policy {policy.id} {policy.version}; default engine {itvrules.DEFAULT_ENGINE}; "
          f"seed {args.seed}; fastest of {repeat} timed pass{'es' if repeat > 1 else ''}")
    results: list[Measure] = []
    for size in sizes:
        results += bench_size(policy, size, args.seed, repeat)
    print_table(results)
    print_verdicts(results, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
