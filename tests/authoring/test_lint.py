"""Policy lint: exhaustive checks with witnesses; the shipped policy lints clean."""

from __future__ import annotations

from pathlib import Path

import itvrules
from itvrules.policy._resources import default_policy_path

SHIPPED = default_policy_path().read_text(encoding="utf-8")


def lint_text(tmp_path: Path, old: str, new: str) -> list[str]:
    assert SHIPPED.count(old) == 1, old
    path = tmp_path / "edited.yaml"
    path.write_text(SHIPPED.replace(old, new), encoding="utf-8")
    return [str(f) for f in itvrules.load_policy(path).lint() if f.severity != "info"]


def test_shipped_policy_lints_clean() -> None:
    findings = itvrules.load_policy().lint()
    assert [str(f) for f in findings if f.severity != "info"] == []
    overlaps = [f for f in findings if f.kind == "overlap"]
    assert overlaps and all(f.witness for f in overlaps)


def test_a_gap_is_an_error_with_a_witness(tmp_path: Path) -> None:
    found = lint_text(tmp_path, "    when: {}\n    then: {code: default_paid, charge: default_package}",
                      "    when: {product: brand}\n"
                      "    then: {code: default_paid, charge: default_package}")
    assert len(found) == 1 and "[gap] fees" in found[0]
    assert "witness:" in found[0] and "product='brand'" not in found[0]


def test_a_shadowed_rule_is_an_error(tmp_path: Path) -> None:
    found = lint_text(tmp_path, "    when: {switched: true}\n    then: {code: switched, charge: switched_to}",
                      "    when: {switched: true, product: brand, month_offset: {lt: 2}}\n"
                      "    then: {code: switched, charge: switched_to}")
    assert len(found) == 1 and "[shadowed] fees fee.switched" in found[0]
    assert "never decides" in found[0]


def test_an_unreachable_rule_is_an_error(tmp_path: Path) -> None:
    found = lint_text(tmp_path, "    when: {line_ready: false}\n",
                      "    when: {line_ready: false, plan_tier: {lt: -5}}\n")
    assert any("[unreachable] eligibility elig.no_line" in f for f in found)


def test_parameters_out_of_range(tmp_path: Path) -> None:
    found = lint_text(tmp_path, "  contract_start_offset: 3 ", "  contract_start_offset: 2 ")
    assert found and "[parameter] parameters contract_start_offset" in found[0]
    assert found[0].startswith("error")
    found = lint_text(tmp_path, '      brand: "20.00"', '      brand: "0.00"')
    assert found and found[0].startswith("warning") and "basic.brand" in found[0]


def test_lifecycle_gaps_are_rejections_by_design() -> None:
    findings = itvrules.load_policy().lint()
    assert not [f for f in findings if f.table == "lifecycle" and f.kind == "gap"]
