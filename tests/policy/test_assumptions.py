"""The policy's `assumptions:` entries: values marked as assumptions or placeholders, as data."""

from __future__ import annotations

from pathlib import Path

import pytest

import itvrules
from itvrules.policy._resources import default_policy_path

SHIPPED = default_policy_path().read_text(encoding="utf-8")
PRODUCTS = ("brand", "annual", "single_monthly")
FEES = len(itvrules.load_policy().rules("fees"))


def edited(tmp_path: Path, old: str, new: str) -> itvrules.Policy:
    assert SHIPPED.count(old) == 1, old
    path = tmp_path / "edited.yaml"
    path.write_text(SHIPPED.replace(old, new), encoding="utf-8")
    return itvrules.load_policy(path)


def test_the_shipped_entries_say_what_they_cover_and_where() -> None:
    policy = itvrules.load_policy()
    entries = {entry.id: entry for entry in policy.assumption_entries}
    assert {name: entry.kind for name, entry in entries.items()} == {
        "campaign-year": "assumption", "quanneng-other-products": "assumption",
        "other-packages": "placeholder", "cancellation-step-days": "assumption"}
    lines = SHIPPED.splitlines()
    for entry in entries.values():
        assert isinstance(entry, itvrules.Assumption)
        assert entry.clause.startswith("§")
        assert lines[entry.line - 1].strip() == f"- id: {entry.id}"
        for path, line in entry.covers.items():
            assert line is not None
            assert lines[line - 1].strip().startswith(path.split(".")[-1] + ":"), path
    assert list(entries["other-packages"].covers) == ["packages.basic", "packages.hd"]
    assert policy.assumptions == tuple(entry.text for entry in entries.values())


def test_a_placeholder_package_marks_each_of_its_tariffs() -> None:
    policy = itvrules.load_policy()
    for product in PRODUCTS:
        assert policy.placeholder_tariff("quanneng", product) is None  # assumed, not a placeholder
        for package in ("basic", "hd"):
            entry = policy.placeholder_tariff(package, product)
            assert entry is not None and entry.id == "other-packages"


def test_a_placeholder_may_cover_one_tariff_only(tmp_path: Path) -> None:
    policy = edited(tmp_path, "    covers: [packages.basic, packages.hd]",
                    "    covers: [packages.basic.tariff.annual]")
    assert [p for p in PRODUCTS if policy.placeholder_tariff("basic", p)] == ["annual"]
    assert not any(policy.placeholder_tariff("hd", p) for p in PRODUCTS)


def test_a_placeholder_of_a_packages_name_is_no_tariff(tmp_path: Path) -> None:
    policy = edited(tmp_path, "    covers: [packages.basic, packages.hd]",
                    "    covers: [packages.basic.name]")
    assert not any(policy.placeholder_tariff(code, p) for code in policy.packages for p in PRODUCTS)
    assert [f.table for f in policy.lint() if f.kind == "placeholder"] == ["packages.basic.name"]


def test_plain_sentences_still_load_as_assumptions(tmp_path: Path) -> None:
    """Policy files written before entries had ids load unchanged: each sentence an assumption."""
    start, end = SHIPPED.index("assumptions:\n"), SHIPPED.index("\ncampaign:\n")
    old = SHIPPED[start:end]
    sentences = 'assumptions:\n  - "the year is 2025."\n  - "basic and hd are placeholders."\n'
    policy = edited(tmp_path, old, sentences)
    assert policy.assumptions == ("the year is 2025.", "basic and hd are placeholders.")
    assert [(e.id, e.kind, dict(e.covers)) for e in policy.assumption_entries] == [
        ("", "assumption", {}), ("", "assumption", {})]
    assert not any(policy.placeholder_tariff(code, p) for code in policy.packages for p in PRODUCTS)


@pytest.mark.parametrize(("covers", "says"), [
    ('["fees[30]"]', f"fees has {FEES} item(s), [0] to [{FEES - 1}]"),
    ('["fees[3].then"]', None),
    ("[parameters.tax]", "parameters has: "),
    ("[packages.basic.tarif]", "packages.basic has: clause, name, tariff, text"),
])
def test_a_covered_path_must_name_a_value_of_the_file(tmp_path: Path, covers: str,
                                                      says: str | None) -> None:
    old = "    covers: [packages.basic, packages.hd]"
    if says is None:
        policy = edited(tmp_path, old, f"    covers: {covers}")
        assert "fees[3].then" in policy.assumption_entries[2].covers
        return
    with pytest.raises(itvrules.PolicyError) as info:
        edited(tmp_path, old, f"    covers: {covers}")
    (problem,) = info.value.problems
    assert problem.field == "assumptions[2].covers[0]"
    assert problem.line == SHIPPED.splitlines().index(old) + 1
    assert "no such value in the policy" in problem.message and says in problem.message
