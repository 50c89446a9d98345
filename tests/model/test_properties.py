"""Properties of trial windows and fees at the edge dates, for both engines (SPEC §3-§5).

Each property is a sentence of the SPEC that must hold for every valid input,
checked through the public API only. The strategies aim at month ends, leap
days, year ends and every cancellation timing, where calendar arithmetic breaks.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import itvrules
from strategies import (
    accepted_dates,
    anchor_of,
    billing_months,
    canonical_plans,
    completion_dates,
    enrollment_months,
    enrollments,
    last_of,
    month_after,
    month_of,
    shift_month,
    spellings,
    subscribers,
    trial_end,
)

POLICY = itvrules.load_policy()
TRIAL_MONTHS = int(POLICY.parameters["trial_months"])
WAIVED_AFTER_TRIAL = int(POLICY.parameters["waived_months_after_trial"])
QUANNENG = POLICY.tariffs[str(POLICY.parameters["default_package"])]
#: Months billed from the completion month on: the trial, the waived month and a year of paying.
SWEEP = range(0, 13)

engines = pytest.mark.parametrize("engine", itvrules.ENGINES)


def sweep(policy: itvrules.Policy, enr: itvrules.Enrollment, engine: str,
          offsets: range = SWEEP) -> list[tuple[int, itvrules.FeeDecision]]:
    """(offset from the anchor month, decision) for each month of ``offsets``."""
    anchor = anchor_of(enr)
    return [(k, policy.fee(enr, month_after(anchor, k), engine=engine)) for k in offsets]


def test_the_shipped_policy_has_the_notice_parameters() -> None:
    """SPEC §4-§5: three trial months, one waived month after them, 全能包 at 35 CNY."""
    assert TRIAL_MONTHS == 3
    assert WAIVED_AFTER_TRIAL == 1
    assert Decimal("35.00") == QUANNENG


@given(completed_on=completion_dates())
def test_trial_is_three_calendar_months_ending_on_a_month_end(completed_on: date) -> None:
    window = POLICY.trial_window(completed_on)
    assert window.start == completed_on
    assert len(window.months) == TRIAL_MONTHS
    assert window.months[0] == month_of(completed_on)
    assert window.months == tuple(month_after(completed_on, k) for k in range(TRIAL_MONTHS))
    assert window.end == trial_end(completed_on, TRIAL_MONTHS)
    assert window.end == last_of(window.end.year, window.end.month)
    assert (window.end + timedelta(days=1)).day == 1
    assert month_of(window.end) == window.months[-1]
    assert window.end >= completed_on


@engines
@given(pair=enrollment_months())
def test_amounts_are_two_place_decimals_and_gross_minus_waived(
        engine: str, pair: tuple[itvrules.Enrollment, str]) -> None:
    enr, month = pair
    fee = POLICY.fee(enr, month, engine=engine)
    assert fee.month == month
    assert fee.account_id == enr.account_id
    for value in (fee.gross, fee.waived, fee.amount):
        assert isinstance(value, Decimal)
        assert value.as_tuple().exponent == -2, value
        assert value >= 0
    assert fee.amount == fee.gross - fee.waived
    assert fee.waived <= fee.gross
    assert isinstance(fee.amount_fen, int)
    assert Decimal(fee.amount_fen) == fee.amount * 100


@engines
@given(enr=enrollments())
def test_trial_is_free_and_at_most_one_month_after_it_is_waived(
        engine: str, enr: itvrules.Enrollment) -> None:
    decisions = sweep(POLICY, enr, engine, range(-2, 13))
    after_trial = [f for k, f in decisions if k >= TRIAL_MONTHS]
    assert sum(f.code == "late_cancel_waiver" for f in after_trial) <= WAIVED_AFTER_TRIAL
    assert sum(f.waived > 0 for f in after_trial) <= WAIVED_AFTER_TRIAL
    for k, fee in decisions:
        if k < TRIAL_MONTHS:  # before and during the trial nothing is charged
            assert fee.amount == 0, (k, fee)
        if 0 <= k < TRIAL_MONTHS and enr.completed_on is not None:
            assert fee.waived == fee.gross, (k, fee)
            assert fee.code in ("trial", "cancelled"), (k, fee)
    if enr.completed_on is None:  # never installed: never charged
        assert all(f.amount == 0 for _, f in decisions)
        assert all(f.code in ("not_started", "not_installed") for _, f in decisions)


def _cancelled_in_time(enr: itvrules.Enrollment) -> bool:
    """Registered on or before the trial end and not effective by then (SPEC §5 rule 5)."""
    if enr.returned or enr.completed_on is None or enr.cancel_requested_on is None:
        return False
    end = trial_end(enr.completed_on, TRIAL_MONTHS)
    effective = enr.cancel_effective_on
    return enr.cancel_requested_on <= end and (effective is None or effective > end)


@engines
@given(enr=enrollments().filter(_cancelled_in_time))
def test_a_cancellation_registered_in_time_waives_the_month_after_the_trial(
        engine: str, enr: itvrules.Enrollment) -> None:
    decisions = dict(sweep(POLICY, enr, engine))
    waived = decisions[TRIAL_MONTHS]
    assert waived.code == "late_cancel_waiver"
    assert (waived.gross, waived.waived, waived.amount) == (QUANNENG, QUANNENG, 0)
    assert decisions[TRIAL_MONTHS + 1].code in ("cancelled", "cancellation_overdue")


def _billed_after_trial(enr: itvrules.Enrollment) -> bool:
    return not enr.returned and enr.completed_on is not None and not _cancelled_in_time(enr)


@engines
@given(enr=enrollments().filter(_billed_after_trial))
def test_after_the_trial_the_user_pays_until_a_cancellation_takes_effect(
        engine: str, enr: itvrules.Enrollment) -> None:
    """Default to paid, or the switched package; a late cancellation is charged up to its month."""
    package = enr.switched_to or str(POLICY.parameters["default_package"])
    tariff = POLICY.packages[package].tariff[enr.product.value]
    effective = enr.cancel_effective_on
    for k, fee in sweep(POLICY, enr, engine):
        if k < TRIAL_MONTHS or (effective is not None and fee.month > month_of(effective)):
            continue
        assert fee.code == ("switched" if enr.switched_to else "default_paid"), (k, fee)
        assert (fee.gross, fee.waived, fee.amount) == (tariff, 0, tariff), (k, fee)


@engines
@given(enr=enrollments().filter(lambda e: e.cancel_effective_on is not None))
def test_nothing_is_charged_after_the_cancellation_took_effect(
        engine: str, enr: itvrules.Enrollment) -> None:
    assert enr.cancel_effective_on is not None
    effective_month = month_of(enr.cancel_effective_on)
    for _, fee in sweep(POLICY, enr, engine, range(-2, 16)):
        if fee.month > effective_month:
            assert fee.amount == 0, fee
            assert fee.code in ("cancelled", "not_started", "not_installed"), fee


@engines
@given(enrs=st.lists(enrollments(), max_size=25), data=st.data())
def test_fees_preserves_order_and_count(engine: str, enrs: list[itvrules.Enrollment],
                                       data: st.DataObject) -> None:
    anchor = anchor_of(enrs[0]) if enrs else POLICY.campaign_window[0]
    month = data.draw(billing_months(anchor), label="month")
    numbered = [attrs.evolve(e, account_id=f"{i:05d}") for i, e in enumerate(enrs)]
    batched = list(POLICY.fees(iter(numbered), month, engine=engine))
    assert len(batched) == len(numbered)
    assert [f.account_id for f in batched] == [e.account_id for e in numbered]
    assert batched == [POLICY.fee(e, month, engine=engine) for e in numbered]


@engines
@given(sub=subscribers(), accepted_on=accepted_dates())
def test_outside_the_campaign_window_is_decided_first(
        engine: str, sub: itvrules.Subscriber, accepted_on: date) -> None:
    first, last = POLICY.campaign_window
    decision = POLICY.eligibility(sub, accepted_on=accepted_on, engine=engine)
    assert (decision.reason == "outside_campaign") == (not first <= accepted_on <= last)
    if decision.reason == "outside_campaign":
        assert not decision.eligible and decision.segment is None


@engines
@given(pair=canonical_plans().flatmap(lambda code: st.tuples(st.just(code), spellings(code))),
       sub=subscribers(), accepted_on=accepted_dates())
def test_odd_spellings_of_a_plan_decide_as_the_canonical_code(
        engine: str, pair: tuple[str, str], sub: itvrules.Subscriber, accepted_on: date) -> None:
    canonical, spelled = pair
    expected = POLICY.eligibility(attrs.evolve(sub, plan=canonical), accepted_on=accepted_on,
                                  engine=engine)
    actual = POLICY.eligibility(attrs.evolve(sub, plan=spelled), accepted_on=accepted_on,
                                engine=engine)
    assert actual == expected
    assert actual.reason != "unknown_plan"


def test_december_completion_runs_through_february_of_a_leap_year() -> None:
    """The SPEC §4 examples, as fixed points of the properties above."""
    assert POLICY.trial_window(date(2025, 3, 31)).end == date(2025, 5, 31)
    assert POLICY.trial_window(date(2025, 12, 15)).months == ("2025-12", "2026-01", "2026-02")
    assert POLICY.trial_window(date(2025, 12, 15)).end == date(2026, 2, 28)
    assert POLICY.trial_window(date(2027, 12, 1)).end == date(2028, 2, 29)
    assert shift_month(2027, 12, 2) == (2028, 2)
