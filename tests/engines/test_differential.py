"""The durable-rules engine and the compiled evaluator must decide alike (SPEC §10).

Both engines run the same policy tables, so any difference is a bug in one of
them (a condition translated wrongly, a lost first-hit order, a fact the
durable message left out). Each hypothesis example carries a large batch, so
one run compares well over 10,000 decisions per table while staying quick; the
count is asserted, so a run that silently generated less fails.

Batches are not shrunk: a fixed-size batch of 200 cannot lose elements, so
shrinking would only polish each element, for minutes. The assertion message
names the one subscriber or enrolment and month the engines disagree on instead.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import itvrules
from strategies import accepted_dates, anchor_of, enrollments, month_after, subscribers

POLICY = itvrules.load_policy()
REQUIRED = 10_000
SUBSCRIBER_BATCH = 200
ENROLLMENT_BATCH = 50
#: Every enrolment is billed for each month from two before its completion month to eight after.
MONTH_OFFSETS = range(-2, 9)
SLOW_BATCHES = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


def _examples(per_example: int) -> int:
    """Enough examples to reach REQUIRED decisions; more only under the ``deep`` profile."""
    return max(-(-REQUIRED // per_example), settings().max_examples // 8)


def eligibility_view(e: itvrules.Eligibility) -> tuple[Any, ...]:
    return e.eligible, e.segment, e.reason, e.rule


def fee_view(f: itvrules.FeeDecision) -> tuple[Any, ...]:
    return f.code, f.gross, f.waived, f.amount, f.rule


@pytest.mark.durable
def test_engines_agree_on_eligibility() -> None:
    compared = 0
    fired: set[str] = set()

    @settings(max_examples=_examples(SUBSCRIBER_BATCH), suppress_health_check=SLOW_BATCHES,
              phases=NO_SHRINK)
    @given(st.lists(st.tuples(subscribers(), accepted_dates()),
                    min_size=SUBSCRIBER_BATCH, max_size=SUBSCRIBER_BATCH))
    def check(batch: list[tuple[itvrules.Subscriber, Any]]) -> None:
        nonlocal compared
        for sub, accepted_on in batch:
            compiled = POLICY.eligibility(sub, accepted_on=accepted_on, engine="compiled")
            durable = POLICY.eligibility(sub, accepted_on=accepted_on, engine="durable")
            assert eligibility_view(durable) == eligibility_view(compiled), \
                f"engines disagree on {sub!r} accepted on {accepted_on}"
            assert durable == compiled
            fired.add(compiled.rule)
            compared += 1

    check()
    assert compared >= REQUIRED
    # The comparison is only as good as the data: every rule must have decided some of it.
    assert fired == {rule.id for rule in POLICY.rules("eligibility")}


@pytest.mark.durable
def test_engines_agree_on_fees_and_batches_match_single_decisions() -> None:
    compared = 0
    batch_checked = 0
    fired: set[str] = set()

    @settings(max_examples=_examples(ENROLLMENT_BATCH * len(MONTH_OFFSETS)),
              suppress_health_check=SLOW_BATCHES, phases=NO_SHRINK)
    @given(st.lists(enrollments(), min_size=ENROLLMENT_BATCH, max_size=ENROLLMENT_BATCH))
    def check(batch: list[itvrules.Enrollment]) -> None:
        nonlocal compared, batch_checked
        by_month: dict[str, list[tuple[itvrules.Enrollment, itvrules.FeeDecision]]] = defaultdict(list)
        for enr in batch:
            for k in MONTH_OFFSETS:
                month = month_after(anchor_of(enr), k)
                compiled = POLICY.fee(enr, month, engine="compiled")
                durable = POLICY.fee(enr, month, engine="durable")
                assert fee_view(durable) == fee_view(compiled), \
                    f"engines disagree on {enr!r} billed for {month}"
                assert durable == compiled
                by_month[month].append((enr, compiled))
                fired.add(compiled.rule)
                compared += 1
        for month, pairs in by_month.items():
            items = [enr for enr, _ in pairs]
            singles = [decision for _, decision in pairs]
            for engine in itvrules.ENGINES:
                batched = list(POLICY.fees(iter(items), month, engine=engine))
                assert [fee_view(f) for f in batched] == [fee_view(f) for f in singles], \
                    f"fees() differs from fee() with engine={engine} for {month}"
                assert batched == singles
                batch_checked += len(batched)

    check()
    assert compared >= REQUIRED
    assert batch_checked == 2 * compared
    assert fired == {rule.id for rule in POLICY.rules("fees")}


@pytest.mark.durable
def test_durable_engine_survives_many_decisions_and_policy_reloads() -> None:
    """Far more decisions than durable-rules' 1024 sessions per ruleset, over two loads of a policy.

    A leaked session or a ruleset registered twice under one name would fail here.
    """
    other = itvrules.load_policy()
    sub = itvrules.Subscriber(account_id="0001", plan="e9-79", product="annual")
    enr = itvrules.Enrollment(account_id="0001", product="brand",
                              accepted_on=POLICY.campaign_window[0],
                              completed_on=POLICY.campaign_window[0],
                              cancel_requested_on=POLICY.campaign_window[1])
    expected_fee = POLICY.fee(enr, month_after(POLICY.campaign_window[0], 3), engine="compiled")
    for i in range(3000):
        policy = POLICY if i % 2 else other
        elig = policy.eligibility(sub, accepted_on=POLICY.campaign_window[i % 2], engine="durable")
        assert (elig.eligible, elig.segment) == (True, "legacy_plan")
        fee = policy.fee(enr, month_after(POLICY.campaign_window[0], 3), engine="durable")
        assert fee == expected_fee
    assert expected_fee.code == "late_cancel_waiver"
