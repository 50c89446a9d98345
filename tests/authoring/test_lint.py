"""Policy lint: exhaustive checks with witnesses; the shipped policy lints clean."""

from __future__ import annotations

from pathlib import Path

import itvrules
from itvrules.policy._resources import default_policy_path

SHIPPED = default_policy_path().read_text(encoding="utf-8")


#: The kinds of finding that report what the policy's ``assumptions:`` mark, not a fault.
MARKS = ("assumption", "placeholder")


def edited_policy(tmp_path: Path, old: str, new: str) -> itvrules.Policy:
    assert SHIPPED.count(old) == 1, old
    path = tmp_path / "edited.yaml"
    path.write_text(SHIPPED.replace(old, new), encoding="utf-8")
    return itvrules.load_policy(path)


def lint_text(tmp_path: Path, old: str, new: str) -> list[str]:
    """The errors and warnings of an edited shipped policy, besides the values it marks."""
    return [str(f) for f in edited_policy(tmp_path, old, new).lint()
            if f.severity != "info" and f.kind not in MARKS]


def line_of(text: str, anchor: str) -> int:
    """The 1-based line of the shipped policy that holds ``anchor`` (once)."""
    lines = [n for n, line in enumerate(text.splitlines(), 1) if anchor in line]
    assert len(lines) == 1, anchor
    return lines[0]


def test_shipped_policy_lints_clean_but_for_the_values_it_marks() -> None:
    findings = itvrules.load_policy().lint()
    assert [str(f) for f in findings if f.severity != "info" and f.kind not in MARKS] == []
    overlaps = [f for f in findings if f.kind == "overlap"]
    assert overlaps and all(f.witness for f in overlaps)


def test_every_marked_value_of_the_shipped_policy_is_a_warning_at_its_line() -> None:
    found = {(f.kind, f.table, f.line) for f in itvrules.load_policy().lint() if f.kind in MARKS}
    assert found == {
        ("assumption", "campaign.first_day", line_of(SHIPPED, "  first_day: 2025-03-20")),
        ("assumption", "campaign.last_day", line_of(SHIPPED, "  last_day: 2025-05-31")),
        ("assumption", "packages.quanneng.tariff.annual", line_of(SHIPPED, '  annual: "35.00"')),
        ("assumption", "packages.quanneng.tariff.single_monthly",
         line_of(SHIPPED, '  single_monthly: "35.00"')),
        ("placeholder", "packages.basic", line_of(SHIPPED, "  basic:")),
        ("placeholder", "packages.hd", line_of(SHIPPED, "  hd:")),
        ("assumption", "parameters.cancellation_step_days",
         line_of(SHIPPED, "  cancellation_step_days: 7")),
    }
    marks = [f for f in itvrules.load_policy().lint() if f.kind in MARKS]
    assert {f.severity for f in marks} == {"warning"}
    basic = next(f for f in marks if f.table == "packages.basic")
    assert "placeholder (other-packages, §三)" in basic.message
    assert "codes and tariffs are placeholders" in basic.message  # the entry's note
    assert "set the real one before billing" in basic.message
    year = next(f for f in marks if f.table == "campaign.first_day")
    assert year.message.startswith("assumed (campaign-year, §一): campaign year")


def test_a_plain_sentence_assumption_is_a_warning_at_its_own_line(tmp_path: Path) -> None:
    old = "  - id: campaign-year\n"
    sentence = '  - "the campaign office is assumed open on Saturdays."\n'
    policy = edited_policy(tmp_path, old, sentence + old)
    (found,) = [f for f in policy.lint() if f.table == "assumptions[0]"]
    assert (found.severity, found.kind) == ("warning", "assumption")
    assert found.line == line_of(SHIPPED.replace(old, sentence + old), "open on Saturdays")
    assert "names no value it covers" in found.message
    assert policy.assumptions[0] == "the campaign office is assumed open on Saturdays."


def test_a_policy_that_marks_nothing_has_no_such_warning(tmp_path: Path) -> None:
    start = SHIPPED.index("assumptions:\n")
    end = SHIPPED.index("\ncampaign:\n")
    path = tmp_path / "unmarked.yaml"
    path.write_text(SHIPPED[:start] + SHIPPED[end + 1:], encoding="utf-8")
    policy = itvrules.load_policy(path)
    assert policy.assumption_entries == ()
    assert [f for f in policy.lint() if f.severity != "info"] == []


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
