"""SPEC §10: a bad policy file is one PolicyError listing every problem, with file, line and field.

The broken files are copies of the shipped policy with edits from the table
below, so the tests follow the shipped file as it evolves. A valid edit shows
the other side: decisions change with the file, not with code.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import pytest

import itvrules
from words import repr_found

ENGINES = ("compiled", "durable")


class Break(NamedTuple):
    """One edit that breaks the policy, and the problem the loader must report for it."""

    id: str
    old: str
    new: str
    field: str  # the path the problem names
    anchor: str  # text on the line the problem must point at
    says: str  # a word the message must contain
    nth: int = 1  # which occurrence of ``anchor`` (after the edits) marks the line


BREAKS: list[Break] = [
    Break("unknown-field-in-when", "    when: {line_ready: false}", "    when: {line_redy: false}",
          "eligibility[1].when.line_redy", "line_redy", "unknown field"),
    Break("bad-operator-for-bool", "    when: {has_itv: true}", "    when: {has_itv: {gt: true}}",
          "eligibility[2].when.has_itv.gt", "has_itv: {gt", "operator"),
    Break("unknown-parameter", "      month_offset: {lt: {param: trial_months}}",
          "      month_offset: {lt: {param: trial_monthz}}",
          "fees[3].when.month_offset.lt", "trial_monthz", "unknown parameter"),
    Break("campaign-ends-before-it-starts", "  last_day: 2025-05-31", "  last_day: 2025-03-01",
          "campaign.last_day", "last_day: 2025-03-01", "before"),
    Break("float-tariff", '      brand: "20.00"', "      brand: 20.5",
          "packages.basic.tariff.brand", "brand: 20.5", "20.5"),
    Break("duplicate-rule-id", "  - id: fee.switched", "  - id: fee.trial",
          "fees[6].id", "- id: fee.trial", "twice", nth=2),
    Break("missing-clause", "    clause: §二(一)\n", "",
          "eligibility[7]", "- id: elig.upgraded_community", "clause"),
    Break("duplicate-yaml-key", "  install_days: 7 ", "  install_days: 7\n  install_days: 8 ",
          "parameters.install_days", "install_days: 8", "duplicate"),
    Break("default-package-unknown", "  default_package: quanneng", "  default_package: premium",
          "parameters.default_package", "default_package: premium", "premium"),
    # The `assumptions:` entries that mark values as assumptions or placeholders.
    Break("assumption-covers-no-such-value", "covers: [packages.basic, packages.hd]",
          "covers: [packages.basci, packages.hd]", "assumptions[2].covers[0]", "packages.basci",
          "no such value"),
    Break("assumption-unknown-kind", "    kind: placeholder\n", "    kind: guess\n",
          "assumptions[2].kind", "kind: guess", "guess"),
    Break("assumption-id-twice", "  - id: quanneng-other-products", "  - id: campaign-year",
          "assumptions[1].id", "- id: campaign-year", "twice", nth=2),
    Break("assumption-covers-nothing", "    covers: [campaign.first_day, campaign.last_day]\n", "",
          "assumptions[0]", "- id: campaign-year", "covers"),
    Break("assumption-path-malformed", "packages.quanneng.tariff.single_monthly]",
          "packages..single_monthly]", "assumptions[1].covers[1]", "packages..single_monthly",
          "not a path"),
]


def shipped_text() -> str:
    return Path(itvrules.load_policy().source).read_text(encoding="utf-8")


def apply(text: str, breaks: list[Break]) -> str:
    for edit in breaks:
        assert text.count(edit.old) == 1, f"{edit.id}: the shipped policy changed; update the edit"
        text = text.replace(edit.old, edit.new)
    return text


def line_of(text: str, anchor: str, nth: int = 1) -> int:
    """1-based line of the ``nth`` occurrence of ``anchor``."""
    at = -1
    for _ in range(nth):
        at = text.index(anchor, at + 1)
    return text.count("\n", 0, at) + 1


def load_error(path: Path) -> itvrules.PolicyError:
    with pytest.raises(itvrules.PolicyError) as info:
        itvrules.load_policy(path)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, itvrules.ItvRulesError)
    return info.value


def check_reported(err: itvrules.PolicyError, path: Path, text: str, breaks: list[Break]) -> None:
    """Every break is reported at its line and field, and nothing is reported elsewhere."""
    expected = {(line_of(text, b.anchor, b.nth), b.field) for b in breaks}
    assert {(p.line, p.field) for p in err.problems} == expected
    assert all(p.source.endswith(path.name) for p in err.problems)
    message = str(err)
    for edit in breaks:
        line = line_of(text, edit.anchor, edit.nth)
        assert f"{path.name}:{line}: {edit.field}: " in message, edit.id
        found = [p for p in err.problems if (p.line, p.field) == (line, edit.field)]
        assert any(edit.says in p.message for p in found), (edit.id, found)


def test_the_shipped_policy_loads() -> None:
    """The edits below break a file that is valid to begin with."""
    text = shipped_text()
    for edit in BREAKS:
        assert text.count(edit.old) == 1, edit.id
    assert itvrules.load_policy().id == "itv-trial"


def test_one_error_lists_every_problem(tmp_path: Path) -> None:
    text = apply(shipped_text(), BREAKS)
    path = tmp_path / "broken-policy.yaml"
    path.write_text(text, encoding="utf-8")
    check_reported(load_error(path), path, text, BREAKS)


@pytest.mark.parametrize("edit", BREAKS, ids=[b.id for b in BREAKS])
def test_each_problem_alone(tmp_path: Path, edit: Break) -> None:
    text = apply(shipped_text(), [edit])
    path = tmp_path / f"{edit.id}.yaml"
    path.write_text(text, encoding="utf-8")
    check_reported(load_error(path), path, text, [edit])


def test_invalid_yaml_syntax_names_the_line(tmp_path: Path) -> None:
    old = "title: iTV 体验营销活动 — county iTV free-trial campaign"
    text = shipped_text()
    assert text.count(old) == 1
    text = text.replace(old, "title: iTV: county: trial")
    path = tmp_path / "syntax.yaml"
    path.write_text(text, encoding="utf-8")
    err = load_error(path)
    assert [(p.line, p.field) for p in err.problems] == [(line_of(text, "title: iTV: county"), "(syntax)")]
    assert "syntax.yaml" in str(err)


def test_missing_file(tmp_path: Path) -> None:
    err = load_error(tmp_path / "no-such-policy.yaml")
    assert "no-such-policy.yaml" in str(err)


def test_a_policy_file_must_be_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gb18030.yaml"
    path.write_bytes(shipped_text().encode("gb18030"))
    err = load_error(path)
    assert "gb18030.yaml" in str(err)
    assert "UTF-8" in str(err)


def test_a_policy_file_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- id: itv-trial\n", encoding="utf-8")
    assert "mapping" in str(load_error(path))


# -- a valid edit changes decisions, no code involved --------------------------------------
EDITS = [
    ('      brand: "35.00"', '      brand: "40.00"'),
    ("  trial_months: 3 ", "  trial_months: 4 "),
    ("  last_day: 2025-05-31", "  last_day: 2025-06-30"),
]


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> itvrules.Policy:
    text = shipped_text()
    for old, new in EDITS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path_factory.mktemp("edited") / "itv-trial-edited.yaml"
    path.write_text(text, encoding="utf-8")
    return itvrules.load_policy(path)


def test_edited_policy_values(edited: itvrules.Policy) -> None:
    assert edited.tariffs["quanneng"] == Decimal("40.00")
    assert edited.campaign_window == (date(2025, 3, 20), date(2025, 6, 30))
    assert edited.trial_window(date(2025, 3, 31)).months == ("2025-03", "2025-04", "2025-05", "2025-06")
    assert edited.trial_window(date(2025, 3, 31)).end == date(2025, 6, 30)


@pytest.mark.parametrize("engine", ENGINES)
def test_edited_policy_decides_differently(edited: itvrules.Policy, engine: str) -> None:
    shipped = itvrules.load_policy()
    plain = itvrules.Enrollment(account_id="E1", product="brand",
                                accepted_on=date(2025, 3, 25), completed_on=date(2025, 3, 31))
    late = itvrules.Enrollment(account_id="E2", product="brand", accepted_on=date(2025, 3, 25),
                               completed_on=date(2025, 3, 31), cancel_requested_on=date(2025, 6, 20))

    def codes(policy: itvrules.Policy, enrollment: itvrules.Enrollment) -> list[tuple[str, Decimal]]:
        return [(d.code, d.amount) for d in
                (policy.fee(enrollment, m, engine=engine) for m in ("2025-06", "2025-07", "2025-08"))]

    assert codes(shipped, plain) == [("default_paid", Decimal("35.00"))] * 3
    assert codes(edited, plain) == [("trial", Decimal("0"))] + [("default_paid", Decimal("40.00"))] * 2
    # A request in June is in time only when June is a trial month.
    assert codes(shipped, late) == [("default_paid", Decimal("35.00"))] * 3
    assert codes(edited, late) == [("trial", Decimal("0")), ("late_cancel_waiver", Decimal("0")),
                                   ("cancellation_overdue", Decimal("40.00"))]
    sub = itvrules.Subscriber(account_id="S1", plan="e8-68", product="brand")
    june = date(2025, 6, 15)
    assert shipped.eligibility(sub, accepted_on=june, engine=engine).reason == "outside_campaign"
    assert edited.eligibility(sub, accepted_on=june, engine=engine).reason == "legacy_plan"


def test_broken_parameters_do_not_hide_rule_problems(tmp_path: Path) -> None:
    """A schema error in one section must not stop the checks of the others."""
    text = shipped_text()
    text = text.replace("  trial_months: 3 ", "  trial_months: three ")
    text = text.replace("    when: {line_ready: false}", "    when: {line_redy: false}")
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(itvrules.PolicyError) as err:
        itvrules.load_policy(path)
    fields = {p.field for p in err.value.problems}
    assert fields == {"parameters.trial_months", "eligibility[1].when.line_redy"}


@pytest.mark.parametrize(("old", "new", "message"), [
    ("  trial_months: 3 ", "  trial_months: [3] ", "[3] is not a whole number"),
    ("  install_days: 7 ", "  install_days: {days: 7} ", "{days: 7} is not a whole number"),
    ("  trial_months: 3 ", "  trial_months: three ", "'three' is not a whole number"),
    ("then: {code: not_installed, charge: none}", "then: {code: not_installed, charge: nothing}",
     "'nothing' is not one of: none, default_package, switched_to"),
    ("then: {code: not_installed, charge: none}",
     "then: {code: not_installed, charge: none, waive: [1, on]}", "[1, true] is not true or false"),
], ids=["list-for-a-number", "mapping-for-a-number", "text-for-a-number", "not-one-of", "list-for-a-flag"])
def test_schema_problems_read_as_yaml_not_python(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = shipped_text()
    assert text.count(old) == 1
    path = tmp_path / "policy.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    err = load_error(path)
    assert [p.message for p in err.problems] == [message]
    assert not repr_found(str(err))
