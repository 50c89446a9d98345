"""The names SPEC §10 promises are importable and shaped as promised."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import itvrules


def test_all_is_sorted_and_importable() -> None:
    assert list(itvrules.__all__) == sorted(itvrules.__all__, key=lambda n: (not n.isupper(), n))
    for name in itvrules.__all__:
        assert hasattr(itvrules, name), name


def test_error_hierarchy() -> None:
    assert issubclass(itvrules.PolicyError, itvrules.ItvRulesError)
    assert issubclass(itvrules.InputError, itvrules.ItvRulesError)
    assert issubclass(itvrules.PolicyError, ValueError)
    assert issubclass(itvrules.InputError, ValueError)


def test_policy_attributes() -> None:
    policy = itvrules.load_policy()
    assert policy.id == "itv-trial"
    assert isinstance(policy.version, str)
    assert policy.campaign_window == (date(2025, 3, 20), date(2025, 5, 31))
    assert policy.tariffs["quanneng"] == Decimal("35.00")
    assert all(isinstance(v, Decimal) for v in policy.tariffs.values())


def test_unknown_engine_is_a_value_error() -> None:
    policy = itvrules.load_policy()
    sub = itvrules.Subscriber(account_id="A1", plan="e8-68", product="brand")
    with pytest.raises(ValueError, match="engine"):
        policy.eligibility(sub, accepted_on=date(2025, 4, 1), engine="drools")
    with pytest.raises(ValueError, match="engine"):
        itvrules.load_policy(engine="nope")
