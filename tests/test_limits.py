"""The limits table: defaults, overrides from the environment, and words that say how to raise."""

from __future__ import annotations

import pytest

import itvrules


def limit(name: str) -> itvrules.Limit:
    return next(item for item in itvrules.LIMITS if item.name == name)


def test_every_limit_has_its_own_environment_variable() -> None:
    names = [item.env for item in itvrules.LIMITS]
    assert len(set(names)) == len(names)
    assert all(name.startswith("ITVRULES_LIMIT_") for name in names)


def test_a_breach_names_the_limit_what_was_found_and_how_to_raise_it() -> None:
    depth = limit("yaml_depth")
    with pytest.raises(itvrules.LimitExceeded) as caught:
        depth.check(depth.default + 1, "policy.yaml")
    words = str(caught.value)
    assert words.startswith("policy.yaml: ")
    assert "yaml_depth" in words and "ITVRULES_LIMIT_YAML_DEPTH=N" in words
    assert f"{depth.default + 1:,} levels found" in words
    assert isinstance(caught.value, itvrules.ItvRulesError)


def test_the_environment_raises_a_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    depth = limit("yaml_depth")
    monkeypatch.setenv(depth.env, "1_000")
    assert depth.value() == 1000
    depth.check(999, "x")


@pytest.mark.parametrize("raw", ["-1", "0", "many", "1.5"])
def test_a_bad_override_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    depth = limit("yaml_depth")
    monkeypatch.setenv(depth.env, raw)
    with pytest.raises(itvrules.ItvRulesError, match="ITVRULES_LIMIT_YAML_DEPTH: must be a positive"):
        depth.value()
