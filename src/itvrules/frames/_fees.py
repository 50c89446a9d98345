"""Fees for a whole table of enrolments at once: facts and decisions as Polars columns.

The same facts as ``_facts.fee_facts`` (month offsets from the completion
month, cancellation offsets), computed a column at a time, decided by the
policy's fee table compiled to one expression (``_engines._polars``), priced
in integer fen from the policy's tariffs. A differential test holds it equal
to ``Policy.fee`` row by row.

Two things keep it fast (docs/performance.md "Scale"): month indexes are read
from a table of the frame's days (the calendar's ``dt.year()``/``dt.month()``
cost four times as much), and the decision itself is integers only (rule,
package and product numbers, fen looked up in a small price table); the text
columns are read from per-rule tables at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from .._errors import InputError
from ..model._enums import Product
from ..model._money import to_fen
from ..model._months import parse_month
from ._tables import first_hit

if TYPE_CHECKING:
    from ..policy._policy import Policy

#: Columns an enrolment frame has; dates are Polars ``Date``, flags ``Boolean``.
ENROLLMENT_COLUMNS = {
    "account_id": pl.String,
    "product": pl.String,
    "accepted_on": pl.Date,
    "completed_on": pl.Date,
    "returned": pl.Boolean,
    "cancel_requested_on": pl.Date,
    "cancel_effective_on": pl.Date,
    "switched_to": pl.String,
}

#: Columns of the decided frame, in order.
DECISION_COLUMNS = ("account_id", "month", "code", "gross", "waived", "amount", "amount_fen",
                    "rule", "clause", "package", "follow_up", "policy_id", "policy_version",
                    "policy_hash")


#: Frames whose dates span more days than this get their month indexes from the calendar.
LOOKUP_DAYS = 100_000
_DATES = ("completed_on", "cancel_requested_on", "cancel_effective_on")
#: Rules, packages and products are numbered in these columns of ``decide_fen``'s result.
RULE, PACKAGE, GROSS, WAIVED = "_rule", "_package", "_gross", "_waived"


def _month_index(column: str) -> pl.Expr:
    """``year * 12 + month - 1`` of a date column, by the calendar."""
    return pl.col(column).dt.year().cast(pl.Int32) * 12 + pl.col(column).dt.month().cast(pl.Int32) - 1


def month_indexes(frame: pl.DataFrame) -> Callable[[str], pl.Expr]:
    """The month index of a date column of ``frame``: read from a table of its span of days.

    Null dates stay null. A gather with null positions is three times slower
    than one without, so nulls are gathered as the first day and masked after.
    """
    present = [c for c in _DATES if c in frame.columns]
    if not present:
        return _month_index
    low, high = frame.select(
        pl.min_horizontal(pl.col(present).min().cast(pl.Int32)).alias("low"),
        pl.max_horizontal(pl.col(present).max().cast(pl.Int32)).alias("high")).row(0)
    if low is None or high is None or high - low > LOOKUP_DAYS:
        return _month_index
    days = np.arange(low, high + 1).astype("datetime64[D]")
    table = pl.Series(days.astype("datetime64[M]").astype(np.int32) + 1970 * 12, dtype=pl.Int32)

    def index(column: str) -> pl.Expr:
        at = (pl.col(column).cast(pl.Int32) - low).fill_null(0)
        return pl.when(pl.col(column).is_not_null()).then(pl.lit(table).gather(at))

    return index


def fee_facts(frame: pl.LazyFrame, month: int,
              month_index: Callable[[str], pl.Expr] = _month_index) -> pl.LazyFrame:
    """Add the fee fact columns (``_facts.FEE_FIELDS``) to an enrolment frame.

    ``month_index`` turns a date column into month indexes (a benchmark swaps in
    a table lookup to measure it).
    """
    completed = month_index("completed_on")
    requested = month_index("cancel_requested_on")
    effective = month_index("cancel_effective_on")
    base = completed.fill_null(month)
    return frame.with_columns(
        # An effective date with no request date counts as requested that day.
        pl.coalesce("cancel_requested_on", "cancel_effective_on").alias("cancel_requested_on"),
    ).with_columns(
        pl.col("returned").fill_null(False).alias("returned"),
        pl.col("completed_on").is_not_null().alias("completed"),
        (pl.lit(month, dtype=pl.Int32) - base).alias("month_offset"),
        pl.col("cancel_requested_on").is_not_null().alias("cancel_requested"),
        (requested - base).fill_null(0).alias("cancel_requested_offset"),
        pl.col("cancel_effective_on").is_not_null().alias("cancel_effective"),
        (effective - base).fill_null(0).alias("cancel_effective_offset"),
        (pl.lit(month, dtype=pl.Int32) - effective).fill_null(0).alias("months_after_effective"),
        pl.col("switched_to").is_not_null().alias("switched"),
    )


def decide_fen(policy: Policy, frame: pl.DataFrame, month: str) -> pl.DataFrame:
    """The decision of every row of ``frame`` as integers, row for row: the columnar backend's work.

    ``_rule`` is the position of the deciding fee rule (-1: none matches),
    ``_package`` the position of the charged package in ``policy.packages``
    (null: nothing charged; one past the end: a ``switched_to`` the policy does
    not know), ``_gross`` its tariff in fen for the row's product (null when
    nothing is charged or no tariff applies), ``_waived`` whether the rule
    waives it. ``frame`` holds valid enrolments (``ENROLLMENT_COLUMNS``).
    """
    rules = policy.rules("fees")
    packages = list(policy.packages)
    products = [p.value for p in Product]
    default = packages.index(str(policy.parameters["default_package"]))
    # Per rule, and one more entry read by rows no rule matches: charge nothing, waive nothing.
    charges = pl.Series([_CHARGES.get(str(r.then["charge"]), 2) for r in rules] + [0], dtype=pl.Int8)
    waives = pl.Series([bool(r.then.get("waive", False)) for r in rules] + [False])
    fen = _price_table(policy, packages, products)
    rule = pl.col(RULE)
    slot = pl.when(rule >= 0).then(rule).otherwise(len(rules))
    charge = pl.col("_charge")
    package = pl.col(PACKAGE)
    price_at = package * (len(products) + 1) + pl.col("_product")
    # Each select's expressions run side by side; the next select needs the previous one's.
    return (
        fee_facts(frame.lazy(), parse_month(month), month_indexes(frame))
        .select(first_hit(rules).alias(RULE), _positions(pl.col("product"), products).alias("_product"),
                _positions(pl.col("switched_to"), packages).alias("_switched"))
        .with_columns(pl.lit(charges).gather(slot).alias("_charge"),
                      pl.lit(waives).gather(slot).alias(WAIVED))
        .with_columns(pl.when(charge == 1).then(pl.lit(default, dtype=pl.UInt32))
                      .when(charge == 2).then(pl.col("_switched")).alias(PACKAGE))
        .select(RULE, PACKAGE,
                pl.when(package.is_not_null()).then(pl.lit(fen).gather(price_at.fill_null(0)))
                .alias(GROSS),
                WAIVED)
        .collect()
    )


def _price_table(policy: Policy, packages: list[str], products: list[str]) -> pl.Series:
    """Fen by ``package * (len(products) + 1) + product``; the last of each: unknown (null)."""
    fen: list[int | None] = []
    for code in packages:
        tariff = policy.packages[code].tariff
        fen += [to_fen(tariff[p]) if p in tariff else None for p in products] + [None]
    fen += [None] * (len(products) + 1)
    return pl.Series(fen, dtype=pl.Int64)


#: A rule's ``charge`` as a number: 0 nothing, 1 the default package, 2 the package switched to.
_CHARGES = {"none": 0, "default_package": 1}


def _positions(column: pl.Expr, values: list[str]) -> pl.Expr:
    """The position of each cell in ``values`` (UInt32), ``len(values)`` for others, null for null.

    A chain of equality tests: cheaper than hashing for the handful of products
    and packages, and the same for text and Enum columns.
    """
    expr: Any = pl
    for at, value in enumerate(values):
        expr = expr.when(column == value).then(pl.lit(at, dtype=pl.UInt32))
    other = pl.when(column.is_not_null()).then(pl.lit(len(values), dtype=pl.UInt32))
    return other if expr is pl else expr.otherwise(other)


def decide_fees(policy: Policy, frame: pl.DataFrame | pl.LazyFrame, month: str) -> pl.DataFrame:
    """One decision row per enrolment row, in input order (columns ``DECISION_COLUMNS``).

    The frame must hold valid enrolments (``ENROLLMENT_COLUMNS``); a gap in the
    fee table or an unknown ``switched_to`` package raises ``InputError``
    naming the first such account.
    """
    parse_month(month)
    eager = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    missing = [c for c in ENROLLMENT_COLUMNS if c not in eager.columns]
    if missing:
        raise InputError("(columns)", missing, "the enrolment frame lacks these columns")
    decided = decide_fen(policy, eager, month)
    _check(policy, eager, decided)
    rules = policy.rules("fees")
    document = policy.document
    slot = pl.when(pl.col(RULE) >= 0).then(pl.col(RULE)).otherwise(len(rules))

    def per_rule(values: list[Any], dtype: Any) -> pl.Expr:
        return pl.lit(pl.Series([*values, None], dtype=dtype)).gather(slot)

    packages = pl.Series([*policy.packages, None], dtype=pl.String)
    gross = pl.col(GROSS).fill_null(0)
    waived = pl.when(pl.col(WAIVED)).then(gross).otherwise(0)
    return pl.concat([eager.select("account_id"), decided], how="horizontal").select(
        "account_id",
        pl.lit(month).alias("month"),
        per_rule([str(r.then["code"]) for r in rules], pl.String).alias("code"),
        _yuan(gross).alias("gross"),
        _yuan(waived).alias("waived"),
        _yuan(gross - waived).alias("amount"),
        (gross - waived).alias("amount_fen"),
        per_rule([r.id for r in rules], pl.String).alias("rule"),
        per_rule([r.clause for r in rules], pl.String).alias("clause"),
        pl.lit(packages).gather(pl.col(PACKAGE).fill_null(len(packages) - 1)).alias("package"),
        per_rule([bool(r.then.get("follow_up", False)) for r in rules], pl.Boolean).alias("follow_up"),
        pl.lit(document.id).alias("policy_id"),
        pl.lit(document.version).alias("policy_version"),
        pl.lit(document.content_hash[:12]).alias("policy_hash"),
    )


#: Column types that hold text as far as an input frame goes.
TEXT_TYPES = (pl.String, pl.Categorical, pl.Enum, pl.Null)


def wrong_types(schema: pl.Schema, wanted: dict[str, Any]) -> dict[str, str]:
    """Columns of ``schema`` whose type does not fit ``wanted`` (text: any of ``TEXT_TYPES``;
    others: that type, or all-null), with the type found."""
    wrong = {}
    for name, kind in wanted.items():
        have = schema[name]
        fits = isinstance(have, TEXT_TYPES) if kind == pl.String else have in (kind, pl.Null)
        if not fits:
            wrong[name] = str(have)
    return wrong


def _yuan(fen: pl.Expr) -> pl.Expr:
    """Integer fen as exact yuan with two decimals."""
    return (fen.cast(pl.Decimal(14, 0)).cast(pl.Decimal(14, 2)) / 100).cast(pl.Decimal(12, 2))


def _check(policy: Policy, frame: pl.DataFrame, decided: pl.DataFrame) -> None:
    """A gap in the fee table, or a charge with no tariff: an InputError naming the first account."""
    gaps = decided.get_column(RULE) < 0
    if gaps.any():
        account = frame.get_column("account_id").filter(gaps)[0]
        raise InputError("(row)", account, "no fee rule matches this enrolment")
    unpriced = decided.get_column(PACKAGE).is_not_null() & decided.get_column(GROSS).is_null()
    if unpriced.any():
        first: dict[str, Any] = frame.filter(unpriced).row(0, named=True)
        if first["product"] not in [p.value for p in Product]:
            raise InputError("product", first["product"],
                             f"unknown broadband product for account {first['account_id']}")
        raise InputError("switched_to", first["switched_to"],
                         f"unknown iTV package for account {first['account_id']}")
