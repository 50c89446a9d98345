"""The columnar engine: each decision table becomes one Polars expression.

``when(rule 0).then(0).when(rule 1).then(1)…otherwise(-1)`` over fact columns
is first hit, evaluated a column at a time by Polars' native engine, so a
batch of millions of rows is decided without a Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from ..policy._conditions import AllOf, AnyOf, Compare, Condition
from ..policy._document import Rule


def polars_expression(cond: Condition) -> pl.Expr:
    """A boolean Polars expression for ``cond`` over columns named like the fact fields."""
    if isinstance(cond, Compare):
        column = pl.col(cond.field)
        value: Any = cond.value
        if cond.op == "eq":
            return column.eq(value)
        if cond.op == "ne":
            return column.ne(value)
        if cond.op == "lt":
            return column.lt(value)
        if cond.op == "le":
            return column.le(value)
        if cond.op == "gt":
            return column.gt(value)
        if cond.op == "ge":
            return column.ge(value)
        if cond.op == "in":
            return column.is_in(list(value))
        return ~column.is_in(list(value))
    if isinstance(cond, AllOf):
        if not cond.parts:
            return pl.lit(True)
        expr = polars_expression(cond.parts[0])
        for part in cond.parts[1:]:
            expr = expr & polars_expression(part)
        return expr
    if isinstance(cond, AnyOf):
        if not cond.parts:
            return pl.lit(False)
        expr = polars_expression(cond.parts[0])
        for part in cond.parts[1:]:
            expr = expr | polars_expression(part)
        return expr
    raise TypeError(cond)


def first_hit(rules: Sequence[Rule]) -> pl.Expr:
    """The index of the first rule whose condition holds, or -1 (a gap), as an Int32 column."""
    expr: Any = pl
    for index, rule in enumerate(rules):
        expr = expr.when(polars_expression(rule.when)).then(pl.lit(index, dtype=pl.Int32))
    if expr is pl:
        return pl.lit(-1, dtype=pl.Int32)
    return expr.otherwise(pl.lit(-1, dtype=pl.Int32))  # type: ignore[no-any-return]
