"""The contract's checks compiled to Polars expressions, for every bulk path that holds rows in Polars.

Columns are named like the contract's fields and facts: text stripped (null
or "" when empty), dates as ``Date`` or day numbers, booleans as ``Boolean``.
``first_failed`` is first hit over the checks, as the fee table's expression
is over its rules; ``message`` renders the first failing check's words.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl

from ..contract._document import Check, Step, placeholders
from ..model._parse import WHITESPACE
from ..policy import _patterns
from ..policy._conditions import PATTERN_OPERATORS, AllOf, AnyOf, Compare, Condition, FieldRef


def _empty(name: str, kind: str) -> pl.Expr:
    column = pl.col(name)
    return column.is_null() | (column == "") if kind == "text" else column.is_null()


def polars_condition(cond: Condition, kind: Callable[[str], str]) -> pl.Expr:
    """A Boolean expression for ``cond`` that is never null (an empty side makes a comparison false)."""
    if isinstance(cond, AllOf):
        expr = pl.lit(True)
        for part in cond.parts:
            expr = expr & polars_condition(part, kind)
        return expr
    if isinstance(cond, AnyOf):
        expr = pl.lit(False)
        for part in cond.parts:
            expr = expr | polars_condition(part, kind)
        return expr
    assert isinstance(cond, Compare)
    if cond.op == "empty":
        empty = _empty(cond.field, kind(cond.field))
        return empty if cond.value else ~empty
    left = pl.col(cond.field)
    if cond.op in PATTERN_OPERATORS:
        if not isinstance(cond.value, str):
            raise ValueError(f"{cond.describe()}: bind the check to a policy's parameters first")
        found = left.str.contains(_patterns.rust(cond.value))
        found = found if cond.op == "matches" else ~found
        return (~_empty(cond.field, "text") & found).fill_null(False)
    right: Any = pl.col(cond.value.field) if isinstance(cond.value, FieldRef) else cond.value
    if cond.op in ("in", "not_in"):
        found = left.is_in(list(right))
        compared = found if cond.op == "in" else ~found
    else:
        compared = getattr(left, cond.op)(right)
    return compared.fill_null(False)


def first_failed(checks: Sequence[Check], kind: Callable[[str], str]) -> pl.Expr:
    """The index of the first check that holds, or -1, as an Int32 column."""
    expr: Any = pl
    for index, check in enumerate(checks):
        expr = expr.when(polars_condition(check.when, kind)).then(pl.lit(index, pl.Int32))
    if expr is pl:
        return pl.lit(-1, pl.Int32)
    return expr.otherwise(pl.lit(-1, pl.Int32))  # type: ignore[no-any-return]


def any_failed(checks: Sequence[Check], kind: Callable[[str], str]) -> pl.Expr:
    """True where any check holds: what a path that only sorts rows needs (cheaper than the
    index of the first, which the words need)."""
    return pl.any_horizontal([polars_condition(check.when, kind) for check in checks]) \
        if checks else pl.lit(False)


def message(check: Check, constants: Mapping[str, str]) -> pl.Expr:
    """The check's words with each ``{name}`` filled from its column (or a constant)."""
    pieces: list[pl.Expr] = []
    rest = check.message
    for name in placeholders(check.message):
        before, rest = rest.split("{" + name + "}", 1)
        pieces.append(pl.lit(before))
        value = pl.lit(constants[name]) if name in constants else pl.col(name).cast(pl.String)
        pieces.append(value.fill_null("none"))
    pieces.append(pl.lit(rest))
    return pl.concat_str(pieces)


def campaign_days(windows: Sequence[Any], accepted: pl.Expr,
                  day: Callable[[Any], Any]) -> tuple[pl.Expr, pl.Expr]:
    """The first and last campaign day of the version in force on each ``accepted`` day (null: none).

    ``windows`` are the policy's ``CampaignWindow`` s; ``day`` spells a date as ``accepted`` holds
    days (a ``date`` for a Date column, a day number for an Int32 one).
    """
    first: Any = pl
    last: Any = pl
    for window in windows:
        inside = pl.lit(True)
        if window.in_force_from is not None:
            inside = inside & (accepted >= day(window.in_force_from))
        if window.in_force_until is not None:
            inside = inside & (accepted <= day(window.in_force_until))
        first = first.when(inside).then(pl.lit(day(window.first_day)))
        last = last.when(inside).then(pl.lit(day(window.last_day)))
    if first is pl:
        return pl.lit(None), pl.lit(None)
    return first.otherwise(None), last.otherwise(None)


def polars_normal(text: pl.Expr, steps: Sequence[Step]) -> pl.Expr:
    """``text`` in the normal form ``steps`` describe (the contract's ``normal_form``), in their order.

    ``remove`` and ``strip`` are Polars string expressions; ``nfkc`` is Python's, applied once to
    each distinct value that is not ASCII (ASCII is its own NFKC form), so a character newer
    than the library's Unicode version reads as on the row path, not as Polars' Unicode tables
    would read it.
    """
    for step in steps:
        if step.kind == "remove":
            assert step.pattern is not None
            text = text.str.replace_all(_patterns.rust_anywhere(step.pattern), "")
        elif step.kind == "nfkc":
            text = text.map_batches(nfkc_series, return_dtype=pl.String, is_elementwise=True)
        else:
            text = text.str.strip_chars(WHITESPACE)
    return text


def nfkc_series(cells: pl.Series) -> pl.Series:
    """Python's NFKC of every cell of a text series, computed once per distinct non-ASCII cell."""
    cells = cells.cast(pl.String)
    others = cells.filter(cells.str.len_bytes() != cells.str.len_chars()).unique()
    if not len(others):
        return cells
    texts = others.to_list()
    return cells.replace(texts, [unicodedata.normalize("NFKC", t) for t in texts])
