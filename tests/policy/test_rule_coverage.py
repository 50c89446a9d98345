"""Every rule of the shipped policy is exercised by an example, and says where it comes from.

A rule added to the policy without an example in the table tests fails here;
so does an example that expects a rule the policy no longer has.
"""

from __future__ import annotations

import re

import pytest
from test_eligibility_table import CASES as ELIGIBILITY_CASES
from test_fee_table import CASES as FEE_CASES

import itvrules

TABLES = ("eligibility", "fees")
EXERCISED: dict[str, set[str]] = {
    "eligibility": {case.rule for case in ELIGIBILITY_CASES},
    "fees": {case.rule for case in FEE_CASES},
}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def policy() -> itvrules.Policy:
    return itvrules.load_policy()


@pytest.mark.parametrize("table", TABLES)
def test_every_rule_has_an_example(policy: itvrules.Policy, table: str) -> None:
    rule_ids = {rule.id for rule in policy.rules(table)}
    assert rule_ids, table
    assert sorted(rule_ids - EXERCISED[table]) == [], "rules without an example"
    assert sorted(EXERCISED[table] - rule_ids) == [], "examples expecting a rule the policy lacks"


@pytest.mark.parametrize("table", TABLES)
def test_every_rule_cites_the_notice(policy: itvrules.Policy, table: str) -> None:
    for rule in policy.rules(table):
        assert rule.clause.startswith("§"), rule.id
        assert len(rule.clause) > 1, rule.id
        assert rule.text.strip(), rule.id
        assert CHINESE.search(rule.text), rule.id


def test_rule_ids_are_unique_and_name_their_table(policy: itvrules.Policy) -> None:
    ids = [rule.id for table in TABLES for rule in policy.rules(table)]
    assert len(ids) == len(set(ids))
    assert all(rule.id.startswith("elig.") for rule in policy.rules("eligibility"))
    assert all(rule.id.startswith("fee.") for rule in policy.rules("fees"))
