"""Versions of a policy in force on different days; decisions say which version decided."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import itvrules
from itvrules.policy._resources import default_policy_path

SHIPPED = default_policy_path().read_text(encoding="utf-8")
ENR = itvrules.Enrollment(account_id="A1", product="brand", accepted_on=date(2025, 3, 25),
                          completed_on=date(2025, 3, 31))


def version(folder: Path, name: str, ver: str, in_force: str, tariff: str = "35.00",
            policy_id: str = "itv-trial") -> None:
    text = SHIPPED.replace('version: "2025.1"', f'version: "{ver}"')
    text = text.replace("in_force:              # the days this version decides; a later version "
                        "starts the day after `until`\n  from: 2025-03-01\n", f"in_force: {in_force}\n")
    text = text.replace('      brand: "35.00"', f'      brand: "{tariff}"')
    text = text.replace("id: itv-trial", f"id: {policy_id}", 1)
    (folder / name).write_text(text, encoding="utf-8")


def test_the_version_in_force_decides(tmp_path: Path) -> None:
    version(tmp_path, "a.yaml", "2025.1", "{from: 2025-03-01, until: 2025-12-31}")
    version(tmp_path, "b.yaml", "2026.1", "{from: 2026-01-01}", tariff="40.00")
    old = itvrules.load_policy(tmp_path, on=date(2025, 12, 31))
    new = itvrules.load_policy(tmp_path, on=date(2026, 1, 1))
    assert (old.version, new.version) == ("2025.1", "2026.1")
    assert old.fee(ENR, "2025-07").amount == Decimal("35.00")
    assert new.fee(ENR, "2025-07").amount == Decimal("40.00")


def test_a_single_file_checks_its_own_range(tmp_path: Path) -> None:
    version(tmp_path, "a.yaml", "2025.1", "{from: 2025-03-01, until: 2025-12-31}")
    assert itvrules.load_policy(tmp_path / "a.yaml", on=date(2025, 6, 1)).version == "2025.1"
    with pytest.raises(itvrules.PolicyError, match="not on 2026-01-01"):
        itvrules.load_policy(tmp_path / "a.yaml", on=date(2026, 1, 1))


@pytest.mark.parametrize(("second", "says"), [
    ("{from: 2025-12-31}", "overlaps"),
    ("{from: 2026-01-05}", "no version is in force from 2026-01-01 to 2026-01-04"),
])
def test_overlaps_and_gaps_are_policy_errors(tmp_path: Path, second: str, says: str) -> None:
    version(tmp_path, "a.yaml", "2025.1", "{from: 2025-03-01, until: 2025-12-31}")
    version(tmp_path, "b.yaml", "2026.1", second)
    with pytest.raises(itvrules.PolicyError, match=says) as err:
        itvrules.load_policy(tmp_path, on=date(2025, 6, 1))
    assert err.value.problems[0].source.endswith("b.yaml")
    assert err.value.problems[0].field == "in_force.from"


def test_folder_needs_a_day_a_single_id_and_a_version_in_force(tmp_path: Path) -> None:
    version(tmp_path, "a.yaml", "2025.1", "{from: 2025-03-01, until: 2025-12-31}")
    version(tmp_path, "b.yaml", "2026.1", "{from: 2026-01-01}")
    with pytest.raises(itvrules.PolicyError, match="say which day"):
        itvrules.load_policy(tmp_path)
    with pytest.raises(itvrules.PolicyError, match="no version of the policy is in force on 2025-01-01"):
        itvrules.load_policy(tmp_path, on=date(2025, 1, 1))
    with pytest.raises(itvrules.InputError, match="on"):
        itvrules.load_policy(tmp_path, on="2025-06-01")  # type: ignore[arg-type]
    version(tmp_path, "c.yaml", "9", "{from: 2027-01-01}", policy_id="other")
    with pytest.raises(itvrules.PolicyError, match="one policy"):
        itvrules.load_policy(tmp_path, on=date(2025, 6, 1))


def test_bad_range_in_one_file(tmp_path: Path) -> None:
    version(tmp_path, "a.yaml", "2025.1", "{from: 2025-03-01, until: 2025-01-31}")
    with pytest.raises(itvrules.PolicyError, match="ends") as err:
        itvrules.load_policy(tmp_path / "a.yaml")
    assert err.value.problems[0].field == "in_force.until"


def test_decisions_carry_policy_id_version_and_hash() -> None:
    policy = itvrules.load_policy()
    fee = policy.fee(ENR, "2025-07")
    (batch,) = policy.fees([ENR], "2025-07")
    sub = itvrules.Subscriber(account_id="A1", plan="e8-68", product="brand")
    elig = policy.eligibility(sub, accepted_on=date(2025, 4, 1))
    for decision in (fee, batch, elig):
        assert (decision.policy_id, decision.policy_version) == ("itv-trial", "2025.1")
        assert decision.policy_hash == policy.content_hash[:12]
