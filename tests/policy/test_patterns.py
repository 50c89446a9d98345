"""Portable patterns: the subset of regular expressions Python, Polars and Spark read alike.

Patterns outside the subset are refused with the reason and the place; inside
it, Python's ``fullmatch`` and Polars' (Rust) match agree on every pattern and
text hypothesis builds, and Spark (Java) on a fixed table of both.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import itvrules
from itvrules.policy import _patterns
from paths import ROOT

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SHIPPED = ROOT / "rulesets" / "itv-trial.yaml"


@pytest.mark.parametrize(("pattern", "why"), [
    ("^A[0-9]+", "leave out ^ and $"),
    ("A[0-9]+$", "leave out ^ and $"),
    ("A\\d+", "write [0-9]"),
    ("\\w+", "write the class"),
    ("A\\s", "write the characters"),
    ("\\bA", "\\b differs"),
    ("(?=A)A", "only (?: ) groups"),
    ("(?<!B)A", "only (?: ) groups"),
    ("(?P<x>A)", "only (?: ) groups"),
    ("(?i)a", "only (?: ) groups"),
    ("(A)\\1", "back references"),
    ("A++", "possessive"),
    ("A{2}+", "possessive"),
    ("(A+)+", "exponential"),
    ("(?:A|AB)*", "exponential"),
    ("(?:(?:A+))*", "exponential"),
    ("[[:alpha:]]", "nested classes"),
    ("[A-Z&&[^E]]", "set operation"),
    ("[A-Z--E]", "set operation"),
    ("[a-z-0]", "a - in a class is a range"),
    ("[z-a]", "ends before it starts"),
    ("[]A]", "an empty class"),
    ("[A", "a [ without its ]"),
    ("(A", "a ( without its )"),
    ("A)", "a ) without its ("),
    ("A{", "a { starts a count"),
    ("A{,3}", "a { starts a count"),
    ("A{3,2}", "ends before it starts"),
    ("A{1001}", "a count is at most 1000"),
    ("A}", "escape a literal }"),
    ("*A", "needs something before it"),
    ("\\x4", "exactly 2 hex digits"),
    ("\\uD800", "not a Unicode character"),
    ("\\U00110000", "not a Unicode character"),
    ("A\\", "cannot end in a single"),
    ("\\v", "not a portable escape"),
    ("A\u200bB", "write the character U+200B as an escape"),
    ("", "an empty pattern"),
    ("A" * 201, "at most 200 characters"),
])
def test_a_pattern_outside_the_portable_subset_is_refused_with_why(pattern: str, why: str) -> None:
    said = _patterns.problem(pattern)
    assert said is not None and why in said, said
    if pattern:
        assert f"of {pattern}" in said or "at most" in said  # the pattern is named


@pytest.mark.parametrize("pattern", [
    "[A-Za-z0-9@._-]+", "[0-9]{8}", "[A-Z]{2}[0-9]{6,10}", "(?:AD|BB)[0-9]+", "A(?:-[0-9]+)?",
    ".*[\\x00-\\x1f].*", "[^\\u4e00-\\u9fff]*", "\\U0001F600+", "[\\-\\]\\[\\\\]", "a+?b*?c??",
    "[-a]", "[a-]", "[^-]", "\\.\\+\\*\\?\\(\\)\\|\\{\\}\\^\\$\\-", "A\\tB\\nC\\r",
])
def test_a_portable_pattern_is_accepted(pattern: str) -> None:
    assert _patterns.problem(pattern) is None


def test_words_say_a_class_and_its_count() -> None:
    assert _patterns.words("[A-Za-z0-9@._-]+") == "one or more of A-Z, a-z, 0-9, @, ., _ and -"
    assert _patterns.words("[0-9]{8}") == "exactly 8 of 0-9"
    assert _patterns.words("[A-Z0-9]{6,12}") == "6 to 12 of A-Z and 0-9"
    assert _patterns.words("[^ \\t]*") == "any number of any character but space and U+0009"
    assert _patterns.words("[0-9]") == "exactly 1 of 0-9"
    assert _patterns.words("AD[0-9]+") == "text that matches the pattern AD[0-9]+ as a whole"


# -- Python and Rust (Polars) agree on every pattern of the subset ---------------------------------

ALPHABET = "aAb0-.\n\u200b𠮷"
CHARS = st.sampled_from(["a", "A", "b", "0", "\\-", "\\.", "\\n", "\\u200b", "\\U00020bb7", "."])
CLASS_MEMBERS = st.sampled_from(["a", "A-Z", "0-9", "\\-", "\\.", "\\n", "\\u200b", "\\U00020bb7",
                                 "a-b"])
QUANTIFIERS = st.sampled_from(["", "", "*", "+", "?", "{2}", "{0,2}", "{1,}", "*?", "+?"])


@st.composite
def atoms(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["char", "class", "group"] if depth < 2 else ["char", "class"]))
    if kind == "char":
        return draw(CHARS)
    if kind == "class":
        negated = draw(st.sampled_from(["", "^"]))
        return "[" + negated + "".join(draw(st.lists(CLASS_MEMBERS, min_size=1, max_size=3))) + "]"
    inner = draw(patterns(depth + 1))
    return f"(?:{inner})"


@st.composite
def patterns(draw: st.DrawFn, depth: int = 0) -> str:
    branches = []
    for _ in range(draw(st.integers(1, 2))):
        pieces = [draw(atoms(depth)) + draw(QUANTIFIERS)
                  for _ in range(draw(st.integers(1, 3)))]
        branches.append("".join(pieces))
    return "|".join(branches)


@given(st.lists(patterns(), min_size=1, max_size=5),
       st.lists(st.text(alphabet=ALPHABET, max_size=6), min_size=1, max_size=20))
def test_python_and_polars_match_alike(found: list[str], texts: list[str]) -> None:
    portable = [p for p in found if _patterns.problem(p) is None]
    frame = pl.DataFrame({"text": texts})
    for pattern in portable:
        in_polars = frame.select(pl.col("text").str.contains(_patterns.rust(pattern))).to_series()
        in_python = [_patterns.python(pattern).fullmatch(t) is not None for t in texts]
        assert in_polars.to_list() == in_python, pattern


SPARK_PATTERNS = [
    "[A-Za-z0-9@._-]+", "[0-9]{8}", "(?:AD|BB)[0-9]+", ".*[\\x00-\\x1f\\u200b].*", "a.b",
    "[^a]*", "\\U00020bb7+", "A(?:-[0-9]+)?", "a+?b", " *[=+\\-@].*",
    "[+\\-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)[eE][+\\-]?[0-9]+",
]
SPARK_TEXTS = ["A001", "12345678", "1234567", "AD12", "BB", "a\nb", "a\u200bb", "a𠮷b", "𠮷𠮷",
               "", "A-12", "A-", "aab", "=1", " @x", "1E5", "-3e2", ".5e1", "1.e+07", "e5",
               "bbb", "A001\n", "\nA001"]


def test_spark_matches_as_python_does(spark: SparkSession) -> None:
    from pyspark.sql import functions as F

    frame = spark.createDataFrame([(t,) for t in SPARK_TEXTS], "text string")
    found = frame.select("text", *(F.col("text").rlike(_patterns.java(p)).alias(f"p{at}")
                                   for at, p in enumerate(SPARK_PATTERNS))).collect()
    for row in found:
        for at, pattern in enumerate(SPARK_PATTERNS):
            expected = _patterns.python(pattern).fullmatch(row["text"]) is not None
            assert row[f"p{at}"] is expected, (pattern, row["text"])


# -- the policy parameter ----------------------------------------------------------------------------


def with_pattern(tmp_path: Path, line: str) -> Path:
    shipped = SHIPPED.read_text(encoding="utf-8")
    old = next(x for x in shipped.splitlines() if x.strip().startswith("account_id_pattern:"))
    path = tmp_path / "policy.yaml"
    path.write_text(shipped.replace(old, line), encoding="utf-8")
    return path


def test_the_shipped_policy_states_its_account_id_pattern() -> None:
    assert itvrules.load_policy().parameters["account_id_pattern"] == "[A-Za-z0-9@._-]+"


def test_a_policy_without_the_parameter_gets_the_default(tmp_path: Path) -> None:
    policy = itvrules.load_policy(with_pattern(tmp_path, ""))
    assert policy.parameters["account_id_pattern"] == "[A-Za-z0-9@._-]+"


@pytest.mark.parametrize(("value", "why"), [
    ('"(?=A)[A-Z]+"', "only (?: ) groups"),
    ('"[A-Z"', "a [ without its ]"),
    ('"' + "A" * 201 + '"', "at most 200 characters"),
    ("12345", "12345 is not text"),
])
def test_a_bad_pattern_is_a_policy_error_naming_file_line_and_field(
        tmp_path: Path, value: str, why: str) -> None:
    path = with_pattern(tmp_path, f"  account_id_pattern: {value}")
    line = 1 + next(at for at, x in enumerate(path.read_text(encoding="utf-8").splitlines())
                    if "account_id_pattern" in x)
    with pytest.raises(itvrules.PolicyError) as caught:
        itvrules.load_policy(path)
    problems = [p for p in caught.value.problems if p.field == "parameters.account_id_pattern"]
    assert len(problems) == 1, caught.value.problems
    assert problems[0].line == line and problems[0].source == str(path)
    assert why in problems[0].message
    assert f"{path}:{line}: parameters.account_id_pattern: " in str(caught.value)
