"""Policy.explain: every rule in order, why each failed, the deciding rule and its notice text."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

import itvrules

POLICY = itvrules.load_policy()


def enrollments() -> list[itvrules.Enrollment]:
    out = []
    for completed, requested, effective, switched in itertools.product(
            [None, date(2025, 3, 31)], [None, date(2025, 5, 30), date(2025, 7, 2)],
            [None, date(2025, 6, 15), date(2025, 9, 1)], [None, "basic"]):
        if effective is not None and (requested is None or effective < requested):
            continue
        out.append(itvrules.Enrollment(account_id="A1", product="brand",
                                       accepted_on=date(2025, 3, 25), completed_on=completed,
                                       cancel_requested_on=requested,
                                       cancel_effective_on=effective, switched_to=switched))
    out.append(itvrules.Enrollment(account_id="R1", product="brand", accepted_on=date(2025, 3, 25),
                                   returned=True, return_reason="no line"))
    return out


@pytest.mark.parametrize("engine", ["compiled", "durable"])
def test_explanations_agree_with_fee_decisions(engine: str) -> None:
    reached = set()
    for enr in enrollments():
        for month in ("2025-02", "2025-04", "2025-06", "2025-07", "2025-10"):
            why = POLICY.explain(enr, month, engine=engine)
            decision = POLICY.fee(enr, month, engine=engine)
            assert why.decision == decision and why.decided_by == decision.rule
            outcomes = [c.outcome for c in why.checks]
            decided_at = outcomes.index("decided")
            assert outcomes[:decided_at] == ["did not match"] * decided_at
            assert set(outcomes[decided_at + 1:]) <= {"not reached"}
            assert all(c.failed for c in why.checks[:decided_at])
            reached.add(why.decided_by)
    assert reached == {r.id for r in POLICY.rules("fees")}


def test_explanation_names_facts_clause_and_chinese_text() -> None:
    sub = itvrules.Subscriber(account_id="S1", plan="e8-58", product="brand")
    why = POLICY.explain(sub, accepted_on=date(2025, 4, 1))
    assert why.decided_by == "elig.plan_below_threshold"
    assert why.facts["accepted_day"] == "2025-04-01"
    legacy = next(c for c in why.checks if c.rule == "elig.legacy_plan")
    (reason,) = legacy.failed
    assert reason.startswith("none of: ")
    assert "plan_tier >= 68, but plan_tier is 58" in reason
    assert "plan_family == 'e9', but plan_family is 'e8'" in reason
    text = why.render()
    assert "=> 10. elig.plan_below_threshold [§二(二)] decided" in text
    assert "e8-68、e9-79 及以上" in text


def test_explain_needs_its_inputs() -> None:
    sub = itvrules.Subscriber(account_id="S1", plan="e8-58", product="brand")
    with pytest.raises(itvrules.InputError, match="accepted_on"):
        POLICY.explain(sub)
    with pytest.raises(itvrules.InputError, match="month"):
        POLICY.explain(enrollments()[0])
    with pytest.raises(itvrules.InputError, match="subject"):
        POLICY.explain("A1", "2025-06")  # type: ignore[arg-type]
