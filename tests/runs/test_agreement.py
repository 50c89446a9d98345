"""Every backend decides alike: fees and eligibility on durable, compiled, columnar and Spark (SPEC §10).

One differential test holds all the ways the library decides a fee against
each other, on the same data: hypothesis-generated enrolments (``strategies``)
and 100,000 seeded random ones spread over the campaign, each billed for fixed
months so that Spark, which pays a job per billed month, decides them all in a
few jobs. Each hypothesis example is first compared on the backends that are
quick on small batches; then all the pairs go through every backend at once.
The durable-rules engine and the compiled evaluator
decide one enrolment at a time (``Policy.fee``), the columnar backend one
month's frame at a time (``Policy.fees_frame``), ``bill_parquet`` a Parquet
feed and Spark (``decide_fees_spark``, the tests' one local session) a
DataFrame read from Parquet. Decisions are compared as (code, gross, waived,
amount, rule); the random set must fire every fee rule, so the comparison is
not vacuous.

A second test does the same for eligibility: hypothesis-generated subscribers
with acceptance days and 100,000 seeded random ones (``bench_eligibility``),
decided by both engines (``Policy.eligibility``), the columnar backend
(``Policy.eligibility_frame``) and Spark (``Policy.eligibility_spark``), compared
on every output and its provenance; the random set must fire every
eligibility rule.
"""

from __future__ import annotations

import importlib.util
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import itvrules
from itvrules.frames._fees import ENROLLMENT_COLUMNS
from itvrules.policy._resources import default_policy_path
from itvrules.runs._bulk_arrow import bill_parquet
from itvrules.spark._fees import decide_fees_spark
from paths import ROOT
from samples import random_enrolments
from strategies import accepted_dates, enrollments, subscribers

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

POLICY = itvrules.load_policy()
MONTHS = ("2025-02", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-10", "2026-03")
RANDOM_ROWS = 100_000
BATCH = 40
EXAMPLES = 20

View = tuple[str, Decimal, Decimal, Decimal, str]
Pairs = list[tuple[itvrules.Enrollment, str]]
pytestmark = pytest.mark.slow  # 100,000 rows through five backends, Spark among them


# -- the backends: each decides a list of (enrolment, month) pairs, in order ----------------


def view(code: str, gross: Decimal, waived: Decimal, amount: Decimal, rule: str) -> View:
    return code, gross, waived, amount, rule


def by_engine(engine: str) -> Callable[[Pairs, Path], list[View]]:
    def decide(pairs: Pairs, _tmp: Path) -> list[View]:
        fees = (POLICY.fee(enr, month, engine=engine) for enr, month in pairs)
        return [view(f.code, f.gross, f.waived, f.amount, f.rule) for f in fees]
    return decide


def by_month(pairs: Pairs) -> dict[str, pl.DataFrame]:
    """One enrolment frame per billed month; ``account_id`` is the pair's position."""
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for position, (enr, month) in enumerate(pairs):
        rows[month].append({
            "account_id": str(position), "product": enr.product.value,
            "accepted_on": enr.accepted_on, "completed_on": enr.completed_on,
            "returned": enr.returned, "cancel_requested_on": enr.cancel_requested_on,
            "cancel_effective_on": enr.cancel_effective_on, "switched_to": enr.switched_to,
            # a CRM feed says why an order was returned; without it the bill rejects the row
            "return_reason": enr.return_reason})
    schema = {**ENROLLMENT_COLUMNS, "return_reason": pl.String}
    return {month: pl.DataFrame(items, schema=schema) for month, items in rows.items()}


def in_order(count: int, decided: pl.DataFrame) -> list[View]:
    """Decision rows keyed by position (``account_id``) back in pair order."""
    found: list[View | None] = [None] * count
    for row in decided.select("account_id", "code", "gross", "waived", "amount", "rule").iter_rows():
        found[int(row[0])] = view(*row[1:])
    assert None not in found, "a backend lost rows"
    return [v for v in found if v is not None]


def columnar(pairs: Pairs, _tmp: Path) -> list[View]:
    decided = [POLICY.fees_frame(frame, month) for month, frame in by_month(pairs).items()]
    return in_order(len(pairs), pl.concat(decided))


def open_window(tmp: Path) -> itvrules.Policy:
    """The shipped policy with a campaign window of every day: a bill run rejects an order taken
    outside the window (tests/contract/test_contract.py), and the generated enrolments span years to reach
    every month edge of the fee table, which does not read the acceptance day."""
    text = default_policy_path().read_text(encoding="utf-8")
    for old, new in (("first_day: 2025-03-20", "first_day: 1900-01-01"),
                     ("last_day: 2025-05-31", "last_day: 2999-12-31"),
                     ("  from: 2025-03-01", "  from: 1900-01-01")):
        assert old in text
        text = text.replace(old, new)
    (tmp / "open-window.yaml").write_text(text, encoding="utf-8")
    return itvrules.load_policy(tmp / "open-window.yaml")


def parquet(pairs: Pairs, tmp: Path) -> list[View]:
    decided = []
    policy = open_window(tmp)
    for month, frame in by_month(pairs).items():
        frame.write_parquet(tmp / f"feed-{month}.parquet")
        summary = bill_parquet(policy, month, str(tmp / f"feed-{month}.parquet"),
                               str(tmp / f"bill-{month}.parquet"))
        assert (summary.decided, summary.rejected) == (frame.height, 0)
        decided.append(pl.read_parquet(tmp / f"bill-{month}.parquet")
                       .rename({"billing_month": "month"}))
    return in_order(len(pairs), pl.concat(decided))


def on_spark(session: SparkSession) -> Callable[[Pairs, Path], list[View]]:
    def decide(pairs: Pairs, tmp: Path) -> list[View]:
        parts = []
        for month, frame in by_month(pairs).items():
            frame.write_parquet(tmp / f"spark-{month}.parquet")
            parts.append(decide_fees_spark(POLICY, session.read.parquet(str(tmp / f"spark-{month}.parquet")),
                                           month))
        decided = reduce(lambda a, b: a.unionByName(b), parts)
        return in_order(len(pairs), pl.DataFrame(pl.from_arrow(decided.toArrow())))
    return decide


# -- the data ---------------------------------------------------------------------------------


def random_pairs(count: int, seed: int) -> Pairs:
    """``count`` campaign enrolments (``samples.random_enrolments``), each billed for one of ``MONTHS``."""
    months = random.Random(seed)
    return [(enr, months.choice(MONTHS)) for enr in random_enrolments(POLICY, count, seed)]


# -- the test ---------------------------------------------------------------------------------


def assert_agree(cases: list[Any], backends: dict[str, Callable[[Any, Path], list[Any]]],
                 tmp: Path) -> list[Any]:
    """Every backend's decisions equal the compiled engine's, case by case; those decisions."""
    results = {name: decide(cases, tmp) for name, decide in backends.items()}
    reference = results["compiled"]
    assert len(reference) == len(cases)
    for name, found in results.items():
        for case, got, expected in zip(cases, found, reference, strict=True):
            assert got == expected, f"{name} decides {got}, compiled {expected}: {case!r}"
    return reference


@pytest.mark.durable
def test_every_backend_decides_alike(spark: SparkSession, tmp_path: Path) -> None:
    backends = {"compiled": by_engine("compiled"), "durable": by_engine("durable"),
                "columnar": columnar}
    generated: Pairs = []

    @settings(max_examples=EXAMPLES, deadline=None, phases=(Phase.explicit, Phase.generate),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(st.lists(enrollments(), min_size=BATCH, max_size=BATCH))
    def check(batch: list[itvrules.Enrollment]) -> None:
        pairs = [(enr, month) for enr in batch for month in MONTHS]
        assert_agree(pairs, backends, tmp_path)
        generated.extend(pairs)

    check()
    assert len(generated) == EXAMPLES * BATCH * len(MONTHS)
    # The hypothesis pairs and 100,000 random ones, through every backend at once (Spark pays a
    # job per billed month, so it sees both sets together).
    pairs = generated + random_pairs(RANDOM_ROWS, seed=20250320)
    decided = assert_agree(pairs, {**backends, "parquet": parquet, "spark": on_spark(spark)}, tmp_path)
    assert {rule for *_, rule in decided[len(generated):]} == {rule.id for rule in POLICY.rules("fees")}


# -- eligibility: each backend decides a list of (subscriber, acceptance day) cases, in order ---

Cases = list[tuple[itvrules.Subscriber, date]]
#: What an eligibility decision says: eligible, segment, reason, rule, clause, review, provenance.
Said = tuple[Any, ...]
SAID = ("eligible", "segment", "reason", "rule", "clause", "review", "policy_id", "policy_version",
        "policy_hash")


def eligibility_by_engine(engine: str) -> Callable[[Cases, Path], list[Said]]:
    def decide(cases: Cases, _tmp: Path) -> list[Said]:
        found = (POLICY.eligibility(sub, accepted_on=day, engine=engine) for sub, day in cases)
        return [tuple(getattr(e, name) for name in SAID) for e in found]
    return decide


def subscriber_frame(cases: Cases) -> pl.DataFrame:
    """The cases as a subscriber frame; ``account_id`` is the case's position."""
    return pl.DataFrame([
        {"account_id": str(position), "plan": sub.plan, "product": sub.product.value,
         "community": sub.community.value, "new_install": sub.new_install, "has_itv": sub.has_itv,
         "line_ready": sub.line_ready, "accepted_on": day}
        for position, (sub, day) in enumerate(cases)],
        schema={"account_id": pl.String, "plan": pl.String, "product": pl.String,
                "community": pl.String, "new_install": pl.Boolean, "has_itv": pl.Boolean,
                "line_ready": pl.Boolean, "accepted_on": pl.Date})


def said_in_order(count: int, decided: pl.DataFrame) -> list[Said]:
    rows = decided.select("account_id", *SAID).rows()
    found: list[Said | None] = [None] * count
    for row in rows:
        found[int(row[0])] = tuple(row[1:])
    assert None not in found and len(rows) == count, "a backend lost or repeated rows"
    return [s for s in found if s is not None]


def eligibility_columnar(cases: Cases, _tmp: Path) -> list[Said]:
    return said_in_order(len(cases), POLICY.eligibility_frame(subscriber_frame(cases)))


def eligibility_on_spark(session: SparkSession) -> Callable[[Cases, Path], list[Said]]:
    def decide(cases: Cases, tmp: Path) -> list[Said]:
        subscriber_frame(cases).write_parquet(tmp / "subscribers.parquet")
        decided = POLICY.eligibility_spark(session.read.parquet(str(tmp / "subscribers.parquet")))
        return said_in_order(len(cases), pl.DataFrame(pl.from_arrow(decided.toArrow())))
    return decide


def random_cases(count: int, seed: int) -> Cases:
    """``count`` subscribers of ``bench_eligibility.make_subscribers`` with their acceptance days."""
    frame = _bench_eligibility().make_subscribers(count, POLICY, seed=seed)
    cases = []
    for row in frame.iter_rows(named=True):
        day = row.pop("accepted_on")
        given = {name: value for name, value in row.items() if value is not None}
        cases.append((itvrules.Subscriber(**given), day))
    return cases


def _bench_eligibility() -> Any:
    path = ROOT / "benchmarks" / "bench_eligibility.py"
    spec = importlib.util.spec_from_file_location("bench_eligibility", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.durable
def test_every_backend_decides_eligibility_alike(spark: SparkSession, tmp_path: Path) -> None:
    backends = {"compiled": eligibility_by_engine("compiled"),
                "durable": eligibility_by_engine("durable"), "columnar": eligibility_columnar}
    generated: Cases = []

    @settings(max_examples=EXAMPLES, deadline=None, phases=(Phase.explicit, Phase.generate),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(subscribers(), accepted_dates()), min_size=BATCH, max_size=BATCH))
    def check(batch: Cases) -> None:
        assert_agree(batch, backends, tmp_path)
        generated.extend(batch)

    check()
    assert len(generated) == EXAMPLES * BATCH
    cases = generated + random_cases(RANDOM_ROWS, seed=20250320)
    said = assert_agree(cases, {**backends, "spark": eligibility_on_spark(spark)}, tmp_path)
    assert {s[3] for s in said[len(generated):]} == {rule.id for rule in POLICY.rules("eligibility")}
