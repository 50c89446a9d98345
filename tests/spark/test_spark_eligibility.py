"""The Spark eligibility backend decides exactly as Policy.eligibility, row by row.

It uses the tests' one local Spark session (the ``spark`` fixture of tests/conftest.py:
``local[2]``, skipped without Java outside CI). Frames are small: each Spark
job costs about a second whatever the row count.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import itvrules
from itvrules.policy._resources import default_policy_path
from itvrules.spark._eligibility import (
    ELIGIBILITY_TYPES,
    SUBSCRIBER_DDL,
    decide_eligibility_spark,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

POLICY = itvrules.load_policy()
FIRST, LAST = date(2025, 3, 20), date(2025, 5, 31)  # the shipped policy's campaign window
# Codes as a CRM writes them: canonical, other case, spaces, full-width, other dashes,
# bundled e9 tiers, unknown families, malformed codes, empty text.
PLANS = ("e8-68", "e8-58", "e8-88", "e9-79", "e9-99", "e9-129", "e9-139", "e9-199", "e6-49",
         "E8-68", " e9-79 ", "ｅ９－１３９", "e8–68", "e9—78", "x1-10", "e8", "68", "", "e10-200")
# Products and communities by value, in other cases, padded, by Chinese name; null community.
PRODUCTS = ("brand", "annual", "single_monthly", "Brand", " ANNUAL ", "包年", "单宽月租")
COMMUNITIES = ("none", "upgrading", "upgraded", None, "Upgraded", "已提速", "正在提速 ")


def random_subscribers(n: int, seed: int) -> list[tuple[Any, ...]]:
    """``n`` subscriber rows (``SUBSCRIBER_DDL`` order): every eligibility rule reachable.

    Booleans and community are sometimes null (the ``Subscriber`` default applies);
    acceptance days span the campaign window, its edges and days outside it.
    """
    rng = random.Random(seed)
    edges = (FIRST - timedelta(days=1), FIRST, LAST, LAST + timedelta(days=1))
    rows = []
    for i in range(n):
        accepted = (rng.choice(edges) if rng.random() < 0.15
                    else FIRST + timedelta(days=rng.randint(-20, 90)))

        def flag(p_true: float) -> bool | None:
            return None if rng.random() < 0.1 else rng.random() < p_true

        rows.append((f"S{i:05d}", rng.choice(PLANS), rng.choice(PRODUCTS),
                     rng.choice(COMMUNITIES), flag(0.3), flag(0.1), flag(0.9), accepted))
    return rows


def expected(policy: itvrules.Policy, row: tuple[Any, ...],
             default_day: date | None = None) -> itvrules.Eligibility:
    """What the row path decides for a frame row (null cells take ``Subscriber``'s defaults)."""
    names = ("account_id", "plan", "product", "community", "new_install", "has_itv", "line_ready")
    given = {name: value for name, value in zip(names, row, strict=False) if value is not None}
    day = row[7] if row[7] is not None else default_day
    assert day is not None
    return policy.eligibility(itvrules.Subscriber(**given), accepted_on=day)


def as_tuple(decided: Any) -> tuple[Any, ...]:
    return tuple(decided[name] for name in ELIGIBILITY_TYPES)


def decision_tuple(result: itvrules.Eligibility) -> tuple[Any, ...]:
    return tuple(getattr(result, name) for name in ELIGIBILITY_TYPES)


def test_spark_agrees_with_eligibility_row_by_row(spark: SparkSession) -> None:
    rows = random_subscribers(400, seed=20250320)
    decided = decide_eligibility_spark(POLICY, spark.createDataFrame(rows, schema=SUBSCRIBER_DDL))
    assert tuple(decided.columns) == tuple(ELIGIBILITY_TYPES)
    assert {f.name: f.dataType.simpleString() for f in decided.schema.fields} == dict(ELIGIBILITY_TYPES)
    out = decided.collect()
    assert len(out) == len(rows)
    for row, got in zip(rows, out, strict=True):
        assert as_tuple(got) == decision_tuple(expected(POLICY, row)), row
    # Not a vacuous match: every rule of the table decides some rows.
    assert {got["rule"] for got in out} == {rule.id for rule in POLICY.rules("eligibility")}


def test_accepted_on_is_the_day_of_a_frame_without_the_column(spark: SparkSession) -> None:
    rows = random_subscribers(60, seed=7)
    frame = spark.createDataFrame(rows, schema=SUBSCRIBER_DDL)
    bare = frame.drop("accepted_on")
    for day in (FIRST - timedelta(days=1), FIRST, date(2025, 4, 15), LAST):
        out = POLICY.eligibility_spark(bare, accepted_on=day).collect()
        assert [as_tuple(got) for got in out] == [
            decision_tuple(expected(POLICY, (*row[:7], day))) for row in rows]
    out = POLICY.eligibility_spark(bare, accepted_on=LAST + timedelta(days=1)).collect()
    assert {got["reason"] for got in out} == {"outside_campaign"}
    # The day is given one way, not both.
    with pytest.raises(itvrules.InputError, match=r"one way, not both"):
        POLICY.eligibility_spark(frame, accepted_on=LAST)


def test_the_plan_is_jvm_expressions_only(spark: SparkSession, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    spark.createDataFrame(random_subscribers(200, seed=3), schema=SUBSCRIBER_DDL) \
        .write.parquet(str(tmp_path / "subscribers"))
    subscribers = spark.read.parquet(str(tmp_path / "subscribers"))
    decided = POLICY.eligibility_spark(subscribers)
    capsys.readouterr()
    decided.explain(mode="extended")
    plan = capsys.readouterr().out
    assert "CASE WHEN" in plan
    assert "python" not in plan.lower()
    # A narrow projection of the scan: no join, no exchange.
    physical = plan.split("== Physical Plan ==")[1]
    assert "Exchange" not in physical and "Join" not in physical
    assert decided.count() == 200


def test_bad_columns_are_input_errors(spark: SparkSession) -> None:
    from pyspark.sql import functions as F

    frame = spark.createDataFrame(random_subscribers(3, seed=1), schema=SUBSCRIBER_DDL)
    with pytest.raises(itvrules.InputError, match=r"lacks these columns.*plan.*line_ready") as caught:
        decide_eligibility_spark(POLICY, frame.drop("plan", "line_ready"))
    assert caught.value.value == ["plan", "line_ready"]
    with pytest.raises(itvrules.InputError, match=r"accepted_on"):
        decide_eligibility_spark(POLICY, frame.drop("accepted_on"))
    wrong = frame.withColumn("accepted_on", frame["accepted_on"].cast("string")) \
        .withColumn("has_itv", frame["has_itv"].cast("int"))
    with pytest.raises(itvrules.InputError, match=r"wrong type") as caught:
        decide_eligibility_spark(POLICY, wrong)
    assert caught.value.value == ["has_itv is int, not boolean", "accepted_on is string, not date"]
    # A day given makes the column unneeded, not the others.
    with pytest.raises(itvrules.InputError, match=r"wrong type") as caught:
        decide_eligibility_spark(POLICY, wrong.drop("accepted_on"), date(2025, 4, 1))
    assert caught.value.value == ["has_itv is int, not boolean"]
    assert decide_eligibility_spark(POLICY, frame.withColumn("account_id", F.lit("S1").cast(
        "string collate UTF8_LCASE")).drop("accepted_on"), date(2025, 4, 1)).count() == 3
    with pytest.raises(itvrules.InputError, match=r"accepted_on.*datetime.date"):
        POLICY.eligibility_spark(frame, accepted_on="2025-04-01")  # type: ignore[arg-type]


def _frame(session: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    return session.createDataFrame(rows, schema=SUBSCRIBER_DDL)


def test_rows_that_cannot_be_decided_name_the_smallest_account(spark: SparkSession,
                                                              tmp_path: Path) -> None:
    day = date(2025, 4, 1)
    good = ("S1", "e8-68", "brand", None, None, None, None, day)
    bad_product = [("S9", "e8-68", "gold", None, None, None, None, day), good,
                   ("S3", "e8-68", " platinum", None, None, None, None, day)]
    with pytest.raises(itvrules.InputError,
                       match=r"expected one of: brand, annual, single_monthly \(account S3; "
                             r"2 rows refused in all\)") as caught:
        decide_eligibility_spark(POLICY, _frame(spark, bad_product))
    assert (caught.value.field, caught.value.value) == ("product", " platinum")
    # The row path's field and words, with the account; a refused row is told before a gap.
    cases: list[tuple[tuple[Any, ...], str, str]] = [
        (("S2", None, "brand", None, None, None, None, day), "plan", r"plan code.*\(account S2\)"),
        (("S2", "e8-68", "brand", "fast", None, None, None, day), "community",
         r"none, upgrading, upgraded \(account S2\)"),
        (("S2", "e8-68", "brand", None, None, None, None, None), "accepted_on",
         r"datetime.date \(account S2\)"),
        ((" \u3000", "e8-68", "brand", None, None, None, None, day), "account_id", r"non-empty text"),
        ((None, "e8-68", "brand", None, None, None, None, day), "account_id", r"non-empty text"),
    ]
    for bad, field, words in cases:
        with pytest.raises(itvrules.InputError, match=words) as caught:
            decide_eligibility_spark(POLICY, _frame(spark, [good, bad]))
        assert caught.value.field == field

    # A gap in the table: the smallest account no rule decides is named, with the count.
    text = default_policy_path().read_text(encoding="utf-8")
    catch_all = "    when: {}\n    then: {eligible: false, reason: plan_below_threshold}\n"
    assert catch_all in text
    (tmp_path / "gap.yaml").write_text(text.replace(
        catch_all, "    when: {plan_family: e6}\n"
                   "    then: {eligible: false, reason: plan_below_threshold}\n"), encoding="utf-8")
    gap = itvrules.load_policy(tmp_path / "gap.yaml")
    low = [("S8", "e8-58", "brand", None, None, None, None, day), good,
           ("S5", "e9-78", "brand", None, None, None, None, day)]
    with pytest.raises(itvrules.InputError, match=r"no eligibility rule.*\(2 rows in all\)") as caught:
        decide_eligibility_spark(gap, _frame(spark, low))
    assert caught.value.value == "S5"
    with pytest.raises(itvrules.InputError, match=r"expected one of.*account S9"):
        decide_eligibility_spark(gap, _frame(spark, [*low, bad_product[0]]))
    assert decide_eligibility_spark(gap, _frame(spark, [good])).collect()[0]["segment"] == "legacy_plan"
