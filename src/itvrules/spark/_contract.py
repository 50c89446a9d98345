"""The contract's checks compiled to Spark SQL columns: the bulk checks of a cluster run.

The same first hit as ``_polars``, as Catalyst expressions: executors run no
Python. Only the driver imports this module; it needs ``pyspark``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pyspark.sql import Column
from pyspark.sql import functions as F

from ..contract._document import Check, Step, placeholders
from ..policy import _patterns
from ..policy._conditions import PATTERN_OPERATORS, AllOf, AnyOf, Compare, Condition, FieldRef

#: Unicode NFKC of a Java string: ICU4J, which Spark (4 and later) ships, called on the executors.
_NFKC = (F.lit("com.ibm.icu.text.Normalizer"), F.lit("compose"))
_NOT_ASCII = "[^\\x00-\\x7f]"

_SPARK_OP = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "le": "__le__", "gt": "__gt__",
             "ge": "__ge__"}


def spark_condition(cond: Condition, kind: Callable[[str], str],
                    column: Callable[[str], Column]) -> Column:
    """A Boolean column for ``cond`` that is never null (an empty side makes a comparison false)."""
    if isinstance(cond, AllOf):
        expr = F.lit(True)
        for part in cond.parts:
            expr = expr & spark_condition(part, kind, column)
        return expr
    if isinstance(cond, AnyOf):
        expr = F.lit(False)
        for part in cond.parts:
            expr = expr | spark_condition(part, kind, column)
        return expr
    assert isinstance(cond, Compare)
    left = column(cond.field)
    if cond.op == "empty":
        empty = left.isNull() | (left == F.lit("")) if kind(cond.field) == "text" else left.isNull()
        return empty if cond.value else ~empty
    if cond.op in PATTERN_OPERATORS:
        if not isinstance(cond.value, str):
            raise ValueError(f"{cond.describe()}: bind the check to a policy's parameters first")
        found = left.rlike(_patterns.java(cond.value))
        found = found if cond.op == "matches" else ~found
        return F.coalesce(~(left.isNull() | (left == F.lit(""))) & found, F.lit(False))
    right: Any = column(cond.value.field) if isinstance(cond.value, FieldRef) else F.lit(cond.value)
    if cond.op in ("in", "not_in"):
        found = left.isin(list(cond.value))
        compared = found if cond.op == "in" else ~found
    else:
        compared = getattr(left, _SPARK_OP[cond.op])(right)
    return F.coalesce(compared, F.lit(False))


def first_failed(checks: Sequence[Check], kind: Callable[[str], str],
                 column: Callable[[str], Column]) -> Column:
    """The index of the first check that holds, or null when none does."""
    first: Any = F
    for index, check in enumerate(checks):
        first = first.when(spark_condition(check.when, kind, column), F.lit(index))
    return first if first is not F else F.lit(None).cast("int")


def message(check: Check, constants: Mapping[str, str], column: Callable[[str], Column]) -> Column:
    """The check's words with each ``{name}`` filled from its column (or a constant)."""
    pieces: list[Column] = []
    rest = check.message
    for name in placeholders(check.message):
        before, rest = rest.split("{" + name + "}", 1)
        pieces.append(F.lit(before))
        value = F.lit(constants[name]) if name in constants else column(name).cast("string")
        pieces.append(F.coalesce(value, F.lit("none")))
    pieces.append(F.lit(rest))
    return F.concat(*pieces)


def spark_normal(text: Column, steps: Sequence[Step], strip: Callable[[Column], Column]) -> Column:
    """``text`` in the normal form ``steps`` describe (the contract's ``normal_form``), in order;
    ``strip`` removes whitespace at both ends as Python does.

    ``nfkc`` is ICU's, only for text that is not ASCII (ASCII is its own NFKC form); ICU knows a
    later Unicode than Python may, so a character Python does not know yet may read otherwise.
    """
    for step in steps:
        if step.kind == "remove":
            assert step.pattern is not None
            text = F.regexp_replace(text, _patterns.java_anywhere(step.pattern), "")
        elif step.kind == "nfkc":
            text = F.when(text.rlike(_NOT_ASCII), F.reflect(*_NFKC, text, F.lit(True))) \
                .otherwise(text)
        else:
            text = strip(text)
    return text
