"""The cluster engine: each decision table becomes one Spark SQL ``Column``.

``when(rule 0, 0).when(rule 1, 1)…otherwise(-1)`` over fact columns is first
hit as a Catalyst expression: Spark compiles it to JVM code on every executor,
so no Python runs per row (no UDF, no pickling of rows to a Python worker).
Only the driver imports this module; it needs ``pyspark`` (the ``spark`` extra).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyspark.sql import Column
from pyspark.sql import functions as F

from ..policy._conditions import AllOf, AnyOf, Compare, Condition
from ..policy._document import Rule


def spark_expression(cond: Condition) -> Column:
    """A boolean Spark column for ``cond`` over columns named like the fact fields."""
    if isinstance(cond, Compare):
        column = F.col(cond.field)
        value: Any = cond.value
        if cond.op == "eq":
            return column == F.lit(value)
        if cond.op == "ne":
            return column != F.lit(value)
        if cond.op == "lt":
            return column < F.lit(value)
        if cond.op == "le":
            return column <= F.lit(value)
        if cond.op == "gt":
            return column > F.lit(value)
        if cond.op == "ge":
            return column >= F.lit(value)
        if cond.op == "in":
            return column.isin(list(value))
        return ~column.isin(list(value))
    if isinstance(cond, AllOf):
        if not cond.parts:
            return F.lit(True)
        expr = spark_expression(cond.parts[0])
        for part in cond.parts[1:]:
            expr = expr & spark_expression(part)
        return expr
    if isinstance(cond, AnyOf):
        if not cond.parts:
            return F.lit(False)
        expr = spark_expression(cond.parts[0])
        for part in cond.parts[1:]:
            expr = expr | spark_expression(part)
        return expr
    raise TypeError(cond)


def first_hit(rules: Sequence[Rule]) -> Column:
    """The index of the first rule whose condition holds, or -1 (a gap), as an int column."""
    if not rules:
        return F.lit(-1)
    expr = F.when(spark_expression(rules[0].when), F.lit(0))
    for index, rule in enumerate(rules[1:], start=1):
        expr = expr.when(spark_expression(rule.when), F.lit(index))
    return expr.otherwise(F.lit(-1))
