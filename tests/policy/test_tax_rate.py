"""``parameters.tax_rate``: optional, a decimal in [0, 1); a bad one names file, line and field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import itvrules

ANCHOR = "\n  default_package: "


def with_tax_rate(tmp_path: Path, written: str) -> Path:
    """The shipped policy with ``tax_rate: <written>`` after its last parameter."""
    text = Path(itvrules.load_policy().source).read_text(encoding="utf-8")
    assert text.count(ANCHOR) == 1, "the shipped policy changed; move the anchor"
    end = text.index("\n", text.index(ANCHOR) + 1) + 1
    path = tmp_path / "taxed.yaml"
    path.write_text(f"{text[:end]}  tax_rate: {written}\n{text[end:]}", encoding="utf-8")
    return path


def test_the_shipped_policy_names_no_tax_rate() -> None:
    policy = itvrules.load_policy()
    assert "tax_rate" not in policy.parameters
    assert policy.tax_rate is None


@pytest.mark.parametrize(("written", "expected"), [
    ('"0.06"', Decimal("0.06")), ('"0.09"', Decimal("0.09")), ('"0"', Decimal("0")),
    ('"0.065"', Decimal("0.065")),
])
def test_a_tax_rate_is_an_exact_decimal(tmp_path: Path, written: str, expected: Decimal) -> None:
    policy = itvrules.load_policy(with_tax_rate(tmp_path, written))
    assert policy.tax_rate == expected
    assert isinstance(policy.tax_rate, Decimal)
    assert policy.parameters["tax_rate"] == expected


@pytest.mark.parametrize(("written", "shown"), [
    ("0.06", "0.06"),          # a YAML float: money and rates are never floats
    ('"1"', '"1"'),            # a rate of 100 % is not a rate
    ('"1.5"', '"1.5"'),
    ('"-0.1"', '"-0.1"'),
    ('"6%"', '"6%"'),
    ('"0.06.1"', '"0.06.1"'),
    ("[0.06]", "[0.06]"),
])
def test_a_bad_tax_rate_names_file_line_and_field(tmp_path: Path, written: str, shown: str) -> None:
    path = with_tax_rate(tmp_path, written)
    with pytest.raises(itvrules.PolicyError) as caught:
        itvrules.load_policy(path)
    (problem,) = caught.value.problems
    text = path.read_text(encoding="utf-8")
    line = text[: text.index("  tax_rate:")].count("\n") + 1
    assert (problem.source, problem.line, problem.field) == (str(path), line, "parameters.tax_rate")
    assert problem.message.startswith(f"{shown} is not a tax rate")
    assert f"{path}:{line}: parameters.tax_rate: {shown} is not a tax rate" in str(caught.value)
    assert "'" not in problem.message and "Decimal" not in problem.message
