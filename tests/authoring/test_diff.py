"""policy diff: structural changes and their impact on a real set of enrolments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import itvrules
from itvrules.policy._resources import default_policy_path

SHIPPED = default_policy_path().read_text(encoding="utf-8")


def edited(tmp_path: Path, *edits: tuple[str, str], name: str = "new.yaml") -> itvrules.Policy:
    text = SHIPPED
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return itvrules.load_policy(path)


def enrollments() -> list[itvrules.Enrollment]:
    return [
        itvrules.Enrollment(account_id="P1", product="brand", accepted_on=date(2025, 3, 25),
                            completed_on=date(2025, 3, 31)),  # default paid in July
        itvrules.Enrollment(account_id="T1", product="brand", accepted_on=date(2025, 5, 2),
                            completed_on=date(2025, 5, 3)),   # in trial in July
        itvrules.Enrollment(account_id="A1", product="annual", accepted_on=date(2025, 3, 25),
                            completed_on=date(2025, 3, 31)),  # default paid, annual tariff
        itvrules.Enrollment(account_id="S1", product="brand", accepted_on=date(2025, 3, 25),
                            completed_on=date(2025, 3, 31), switched_to="basic"),
    ]


def test_same_policy_has_no_changes() -> None:
    policy = itvrules.load_policy()
    diff = itvrules.diff_policies(policy, policy)
    assert diff.changes == ()
    impact = itvrules.diff_impact(policy, policy, enrollments(), "2025-07")
    assert (impact.accounts, impact.changed, impact.delta) == (4, 0, Decimal("0.00"))


def test_tariff_change_and_its_impact(tmp_path: Path) -> None:
    old = itvrules.load_policy()
    new = edited(tmp_path, ('      brand: "35.00"', '      brand: "40.00"'),
                 ('version: "2025.1"', 'version: "2025.2"'))
    diff = itvrules.diff_policies(old, new)
    assert [(c.what, c.key, c.change) for c in diff.changes] == [("package", "quanneng", "changed")]
    impact = itvrules.diff_impact(old, new, enrollments(), "2025-07")
    assert (impact.accounts, impact.changed) == (4, 1)
    assert impact.delta == Decimal("5.00")
    assert impact.examples[0].account_id == "P1"
    text = itvrules.PolicyDiff(diff.policy_id, diff.old_version, diff.new_version, diff.changes,
                               impact).render()
    assert "2025.1 -> 2025.2" in text and "change +5.00" in text and "P1" in text


def test_rule_parameter_and_order_changes(tmp_path: Path) -> None:
    old = itvrules.load_policy()
    new = edited(tmp_path, ("  trial_months: 3 ", "  trial_months: 4 "),
                 ("    when: {switched: true}\n", "    when: {switched: true, product: brand}\n"))
    diff = itvrules.diff_policies(old, new)
    found = {(c.what, c.key, c.change) for c in diff.changes}
    assert ("parameter", "trial_months", "changed") in found
    assert ("fees rule", "fee.switched", "changed") in found
    impact = itvrules.diff_impact(old, new, enrollments(), "2025-06")
    assert impact.changed == 3  # June becomes a fourth free month for the March installs


def test_diff_of_two_different_policies_is_an_error(tmp_path: Path) -> None:
    other = edited(tmp_path, ("id: itv-trial", "id: other-campaign"))
    with pytest.raises(itvrules.PolicyError, match="cannot compare"):
        itvrules.diff_policies(itvrules.load_policy(), other)
