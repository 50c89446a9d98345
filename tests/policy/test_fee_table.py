"""SPEC §5, rule by rule and decision by decision: what billing charges for one month.

Every case names the SPEC §5 rule (1-8) that must decide it; the rule fixes
the code, the policy rule id and the notice clause. Amounts are checked as
exact Decimals. Each case runs on both engines.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import itvrules

ENGINES = ("compiled", "durable")

#: SPEC §5 table: rule number -> (code, policy rule id, notice clause)
SPEC_RULES: dict[int, tuple[str, str, str]] = {
    1: ("not_installed", "fee.not_installed", "§四(二)2"),
    2: ("not_started", "fee.not_started", "§三"),
    3: ("cancelled", "fee.cancelled", "§四(五)2"),
    4: ("trial", "fee.trial", "§三"),
    5: ("late_cancel_waiver", "fee.late_cancel_waiver", "§四(五)2"),
    6: ("cancellation_overdue", "fee.cancellation_overdue", "§四(五)2"),
    7: ("switched", "fee.switched", "§三"),
    8: ("default_paid", "fee.default_paid", "§四(二)2"),
}

#: Completed 2025-03-31: trial months 2025-03, 04, 05; the trial ends 2025-05-31;
#: month(C)+3 is 2025-06.
BASE: dict[str, Any] = {
    "account_id": "A001", "product": "brand",
    "accepted_on": date(2025, 3, 25), "completed_on": date(2025, 3, 31),
}


def enr(**changes: Any) -> dict[str, Any]:
    """The base enrolment's fields with ``changes`` applied."""
    return {**BASE, **changes}


RETURNED = {"returned": True, "return_reason": "线路不具备安装条件", "completed_on": None}
LATE = {"cancel_requested_on": date(2025, 5, 28)}  # registered in time, never effective


class FeeCase(NamedTuple):
    """One enrolment and billing month, the SPEC rule that must decide it, the money."""

    id: str
    rule_no: int
    enrollment: dict[str, Any]
    month: str
    gross: str
    waived: str
    amount: str
    follow_up: bool = False

    @property
    def rule(self) -> str:
        return SPEC_RULES[self.rule_no][1]


CASES: list[FeeCase] = [
    # rule 1: returned, never installed
    FeeCase("r1-returned", 1, enr(**RETURNED), "2025-04", "0", "0", "0"),
    FeeCase("r1-returned-later-month", 1, enr(**RETURNED), "2026-01", "0", "0", "0"),
    FeeCase("r1-returned-with-switch", 1, enr(**RETURNED, switched_to="basic"), "2025-07", "0", "0", "0"),
    # rule 2: not completed, or before the completion month
    FeeCase("r2-not-completed", 2, enr(completed_on=None), "2025-04", "0", "0", "0"),
    FeeCase("r2-not-completed-long-after", 2, enr(completed_on=None), "2025-09", "0", "0", "0"),
    FeeCase("r2-before-completion-month", 2, enr(completed_on=date(2025, 4, 2)), "2025-03", "0", "0", "0"),
    # rule 3: a cancellation took effect, months after its month
    FeeCase("r3-effective-in-trial-next-trial-month", 3,
            enr(cancel_requested_on=date(2025, 4, 8), cancel_effective_on=date(2025, 4, 10)),
            "2025-05", "0", "0", "0"),
    FeeCase("r3-effective-in-trial-after-trial", 3,
            enr(cancel_requested_on=date(2025, 4, 8), cancel_effective_on=date(2025, 4, 10)),
            "2025-06", "0", "0", "0"),
    FeeCase("r3-effective-at-trial-end", 3, enr(cancel_effective_on=date(2025, 5, 31)),
            "2025-06", "0", "0", "0"),
    FeeCase("r3-late-cancel-effective-next-month", 3,
            enr(**LATE, cancel_effective_on=date(2025, 6, 3)), "2025-07", "0", "0", "0"),
    FeeCase("r3-switched-then-cancelled", 3,
            enr(switched_to="basic", cancel_requested_on=date(2025, 6, 5),
                cancel_effective_on=date(2025, 8, 1)), "2025-09", "0", "0", "0"),
    # rule 4: the three trial months, waived in full
    FeeCase("r4-completion-month", 4, enr(), "2025-03", "35.00", "35.00", "0.00"),
    FeeCase("r4-second-month", 4, enr(), "2025-04", "35.00", "35.00", "0.00"),
    FeeCase("r4-third-month", 4, enr(), "2025-05", "35.00", "35.00", "0.00"),
    FeeCase("r4-effective-month-is-still-trial", 4,
            enr(cancel_requested_on=date(2025, 4, 8), cancel_effective_on=date(2025, 4, 10)),
            "2025-04", "35.00", "35.00", "0.00"),
    FeeCase("r4-switched-user-in-trial", 4, enr(switched_to="hd"), "2025-05", "35.00", "35.00", "0.00"),
    # rule 5: registered in time, not effective by the trial end: month(C)+3 waived
    FeeCase("r5-late-cancel-no-effective-date", 5, enr(**LATE), "2025-06", "35.00", "35.00", "0.00"),
    FeeCase("r5-late-cancel-effective-next-month", 5,
            enr(**LATE, cancel_effective_on=date(2025, 6, 3)), "2025-06", "35.00", "35.00", "0.00"),
    FeeCase("r5-registered-first-trial-month", 5,
            enr(cancel_requested_on=date(2025, 3, 31)), "2025-06", "35.00", "35.00", "0.00"),
    FeeCase("r5-switched-and-cancelled-in-time", 5,
            enr(**LATE, switched_to="basic"), "2025-06", "35.00", "35.00", "0.00"),
    # rule 6: later months still not effective: charged, followed up
    FeeCase("r6-second-month-after-trial", 6, enr(**LATE), "2025-07", "35.00", "0", "35.00", True),
    FeeCase("r6-many-months-after-trial", 6, enr(**LATE), "2026-01", "35.00", "0", "35.00", True),
    FeeCase("r6-effective-during-the-month", 6,
            enr(**LATE, cancel_effective_on=date(2025, 8, 5)), "2025-08", "35.00", "0", "35.00", True),
    FeeCase("r6-switched-and-cancelled-in-time", 6,
            enr(**LATE, switched_to="hd"), "2025-07", "35.00", "0", "35.00", True),
    # rule 7: switched to another package at trial end
    FeeCase("r7-switched-basic", 7, enr(switched_to="basic"), "2025-06", "20.00", "0", "20.00"),
    FeeCase("r7-switched-hd", 7, enr(switched_to="hd"), "2025-07", "30.00", "0", "30.00"),
    FeeCase("r7-switched-annual-user", 7, enr(switched_to="basic", product="annual"),
            "2025-06", "20.00", "0", "20.00"),
    FeeCase("r7-switched-late-registration-effective-month", 7,
            enr(switched_to="basic", cancel_requested_on=date(2025, 6, 5),
                cancel_effective_on=date(2025, 8, 1)), "2025-08", "20.00", "0", "20.00"),
    # rule 8: no cancellation means the user pays the 全能包
    FeeCase("r8-first-month-after-trial", 8, enr(), "2025-06", "35.00", "0", "35.00"),
    FeeCase("r8-a-year-later", 8, enr(), "2026-06", "35.00", "0", "35.00"),
    FeeCase("r8-annual-user", 8, enr(product="annual"), "2025-06", "35.00", "0", "35.00"),
    FeeCase("r8-single-monthly-user", 8, enr(product="single_monthly"), "2025-06", "35.00", "0", "35.00"),
    # a cancellation registered after the trial end: charged up to and including its month
    FeeCase("r8-registered-after-trial-month-registered", 8,
            enr(cancel_requested_on=date(2025, 6, 10), cancel_effective_on=date(2025, 7, 20)),
            "2025-06", "35.00", "0", "35.00"),
    FeeCase("r8-registered-after-trial-effective-month", 8,
            enr(cancel_requested_on=date(2025, 6, 10), cancel_effective_on=date(2025, 7, 20)),
            "2025-07", "35.00", "0", "35.00"),
    FeeCase("r3-registered-after-trial-month-after-effective", 3,
            enr(cancel_requested_on=date(2025, 6, 10), cancel_effective_on=date(2025, 7, 20)),
            "2025-08", "0", "0", "0"),
    FeeCase("r8-registered-after-trial-not-yet-effective", 8,
            enr(cancel_requested_on=date(2025, 6, 1)), "2025-09", "35.00", "0", "35.00"),
    # an effective date without a request date counts as requested that day
    FeeCase("r3-effective-only-in-trial", 3, enr(cancel_effective_on=date(2025, 5, 10)),
            "2025-06", "0", "0", "0"),
    FeeCase("r8-effective-only-after-trial-is-a-late-registration", 8,
            enr(cancel_effective_on=date(2025, 6, 15)), "2025-06", "35.00", "0", "35.00"),
    FeeCase("r3-effective-only-after-trial-next-month", 3,
            enr(cancel_effective_on=date(2025, 6, 15)), "2025-07", "0", "0", "0"),
]


@pytest.fixture(scope="module")
def policy() -> itvrules.Policy:
    return itvrules.load_policy()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_spec_rule(policy: itvrules.Policy, case: FeeCase, engine: str) -> None:
    code, rule, clause = SPEC_RULES[case.rule_no]
    decision = policy.fee(itvrules.Enrollment(**case.enrollment), case.month, engine=engine)
    assert decision.month == case.month
    assert decision.account_id == case.enrollment["account_id"]
    assert decision.code == code
    assert decision.rule == rule
    assert decision.clause == clause
    for name in ("gross", "waived", "amount"):
        value = getattr(decision, name)
        assert isinstance(value, Decimal), name
        assert value == Decimal(getattr(case, name)), name
    assert decision.amount == decision.gross - decision.waived
    assert decision.amount_fen == int(Decimal(case.amount) * 100)
    assert decision.follow_up is case.follow_up


def test_every_rule_has_a_case() -> None:
    assert {c.rule_no for c in CASES} == set(SPEC_RULES)


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


def test_effective_date_alone_is_taken_as_the_request_date() -> None:
    enrollment = itvrules.Enrollment(**enr(cancel_effective_on=date(2025, 6, 15)))
    assert enrollment.cancel_requested_on == date(2025, 6, 15)


@pytest.mark.parametrize("engine", ENGINES)
def test_registered_in_time_vs_after_the_trial(policy: itvrules.Policy, engine: str) -> None:
    """The same effective date: in-time registration is waived, a late one is charged."""
    in_time = itvrules.Enrollment(**enr(cancel_requested_on=date(2025, 5, 31),
                                        cancel_effective_on=date(2025, 6, 15)))
    too_late = itvrules.Enrollment(**enr(cancel_requested_on=date(2025, 6, 1),
                                         cancel_effective_on=date(2025, 6, 15)))
    assert policy.fee(in_time, "2025-06", engine=engine).amount == Decimal("0")
    assert policy.fee(too_late, "2025-06", engine=engine).amount == Decimal("35.00")
    assert policy.fee(in_time, "2025-07", engine=engine).code == "cancelled"
    assert policy.fee(too_late, "2025-07", engine=engine).code == "cancelled"


@pytest.mark.parametrize("engine", ENGINES)
def test_only_one_month_after_the_trial_is_waived(policy: itvrules.Policy, engine: str) -> None:
    enrollment = itvrules.Enrollment(**enr(**LATE))
    months = ["2025-06", "2025-07", "2025-08", "2025-09", "2025-12", "2026-03"]
    decisions = [policy.fee(enrollment, m, engine=engine) for m in months]
    assert [d.code for d in decisions] == ["late_cancel_waiver"] + ["cancellation_overdue"] * 5
    assert [d.amount for d in decisions] == [Decimal("0")] + [Decimal("35.00")] * 5
    assert [d.follow_up for d in decisions] == [False] + [True] * 5


@pytest.mark.parametrize("engine", ENGINES)
def test_switched_user_pays_the_switched_package(policy: itvrules.Policy, engine: str) -> None:
    for package in policy.tariffs:
        decision = policy.fee(itvrules.Enrollment(**enr(switched_to=package)), "2025-06", engine=engine)
        assert decision.code == "switched"
        assert decision.package == package
        assert decision.amount == policy.tariffs[package]


@pytest.mark.parametrize("engine", ENGINES)
def test_non_brand_tariffs_come_from_the_policy(tmp_path: Path, engine: str) -> None:
    """Tariffs per broadband product are policy data: edit them and the charge follows."""
    text = Path(itvrules.load_policy().source).read_text(encoding="utf-8")
    for old, new in (('annual: "35.00"           # assumed', 'annual: "38.00"  # assumed'),
                     ('single_monthly: "35.00"   # assumed', 'single_monthly: "41.50"  # assumed'),
                     ('annual: "20.00"', 'annual: "22.00"')):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "non-brand.yaml"
    path.write_text(text, encoding="utf-8")
    edited = itvrules.load_policy(path)

    def fee(month: str, **changes: Any) -> itvrules.FeeDecision:
        return edited.fee(itvrules.Enrollment(**enr(**changes)), month, engine=engine)

    assert fee("2025-06", product="brand").amount == Decimal("35.00")
    assert fee("2025-06", product="annual").amount == Decimal("38.00")
    assert fee("2025-06", product="single_monthly").amount == Decimal("41.50")
    assert fee("2025-06", product="annual", switched_to="basic").amount == Decimal("22.00")
    trial = fee("2025-04", product="single_monthly")
    assert (trial.code, trial.gross, trial.waived, trial.amount) == \
        ("trial", Decimal("41.50"), Decimal("41.50"), Decimal("0"))
    overdue = fee("2025-07", product="annual", **LATE)
    assert (overdue.code, overdue.amount) == ("cancellation_overdue", Decimal("38.00"))


@pytest.mark.parametrize("engine", ENGINES)
def test_fees_agrees_with_fee_per_item(policy: itvrules.Policy, engine: str) -> None:
    enrollments = [itvrules.Enrollment(**{**c.enrollment, "account_id": f"A{i:03d}"})
                   for i, c in enumerate(CASES)]
    for month in sorted({c.month for c in CASES}):
        streamed = list(policy.fees(enrollments, month, engine=engine))
        assert streamed == [policy.fee(e, month, engine=engine) for e in enrollments], month


@pytest.mark.parametrize("engine", ENGINES)
def test_fees_streams_an_endless_generator(policy: itvrules.Policy, engine: str) -> None:
    produced = 0

    def endless() -> Iterator[itvrules.Enrollment]:
        nonlocal produced
        for n in itertools.count():
            # A safety net so a non-streaming fees() fails instead of hanging.
            assert n < 10_000, "fees() kept pulling from an endless input: it does not stream"
            produced += 1
            yield itvrules.Enrollment(**enr(account_id=f"G{n:06d}"))

    first = list(itertools.islice(policy.fees(endless(), "2025-06", engine=engine), 5))
    assert [d.account_id for d in first] == [f"G{n:06d}" for n in range(5)]
    assert all(d.code == "default_paid" and d.amount == Decimal("35.00") for d in first)
    assert produced <= 6


def test_fees_hands_bad_items_to_on_error_and_goes_on() -> None:
    policy = itvrules.load_policy()
    good = itvrules.Enrollment(account_id="G1", product="brand", accepted_on=date(2025, 3, 25),
                               completed_on=date(2025, 3, 31))
    bad = itvrules.Enrollment(account_id="B1", product="brand", accepted_on=date(2025, 3, 25),
                              completed_on=date(2025, 3, 31), switched_to="platinum")
    seen: list[tuple[object, str]] = []
    out = list(policy.fees([bad, good, "not an enrolment", good], "2025-07",
                           on_error=lambda item, err: seen.append((item, err.field))))
    assert [f.account_id for f in out] == ["G1", "G1"]
    assert seen == [(bad, "switched_to"), ("not an enrolment", "enrollment")]
    with pytest.raises(itvrules.InputError, match="switched_to"):
        list(policy.fees([good, bad], "2025-07"))
