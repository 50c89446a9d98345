"""SPEC §4: the free months of a trial and the 2-year agreement after it.

The examples are the SPEC's own (a month end, a year end, a leap February).
The agreement runs ``contract_months`` (24) starting month(C)+3 (SPEC §5).
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

import pytest

import itvrules

ENGINES = ("compiled", "durable")


class WindowCase(NamedTuple):
    id: str
    completed_on: date
    months: tuple[str, str, str]
    end: date
    contract_start: str
    contract_end: str


CASES: list[WindowCase] = [
    WindowCase("month-end-2025-03-31", date(2025, 3, 31), ("2025-03", "2025-04", "2025-05"),
               date(2025, 5, 31), "2025-06", "2027-05"),
    WindowCase("year-end-2025-12-15", date(2025, 12, 15), ("2025-12", "2026-01", "2026-02"),
               date(2026, 2, 28), "2026-03", "2028-02"),
    WindowCase("leap-february-2027-12-01", date(2027, 12, 1), ("2027-12", "2028-01", "2028-02"),
               date(2028, 2, 29), "2028-03", "2030-02"),
    WindowCase("first-of-month-2025-04-01", date(2025, 4, 1), ("2025-04", "2025-05", "2025-06"),
               date(2025, 6, 30), "2025-07", "2027-06"),
    WindowCase("november-2025-11-30", date(2025, 11, 30), ("2025-11", "2025-12", "2026-01"),
               date(2026, 1, 31), "2026-02", "2028-01"),
]


@pytest.fixture(scope="module")
def policy() -> itvrules.Policy:
    return itvrules.load_policy()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_spec_example(policy: itvrules.Policy, case: WindowCase) -> None:
    window = policy.trial_window(case.completed_on)
    assert window.start == case.completed_on
    assert window.months == case.months
    assert window.end == case.end
    assert window.contract_start == case.contract_start
    assert window.contract_end == case.contract_end


def test_the_trial_length_is_the_policy_parameter(policy: itvrules.Policy) -> None:
    assert policy.parameters["trial_months"] == 3
    assert policy.parameters["contract_months"] == 24
    assert policy.parameters["contract_start_offset"] == 3


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_billing_agrees_with_the_window(policy: itvrules.Policy, case: WindowCase, engine: str) -> None:
    """Billing waives exactly the window's months and charges from the contract's first month."""
    enrollment = itvrules.Enrollment(account_id="W1", product="brand",
                                     accepted_on=case.completed_on, completed_on=case.completed_on)
    for month in case.months:
        assert policy.fee(enrollment, month, engine=engine).code == "trial", month
    first_paid = policy.fee(enrollment, case.contract_start, engine=engine)
    assert first_paid.code == "default_paid"
    assert first_paid.amount == policy.tariffs["quanneng"]
