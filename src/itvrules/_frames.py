"""Fees for a whole table of enrolments at once: facts and decisions as Polars columns.

The same facts as ``_facts.fee_facts`` (month offsets from the completion
month, cancellation offsets), computed a column at a time, decided by the
policy's fee table compiled to one expression (``_engines._polars``), priced
in integer fen from the policy's tariffs. A differential test holds it equal
to ``Policy.fee`` row by row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import polars as pl

from ._engines._polars import first_hit
from ._errors import InputError
from ._money import to_fen
from ._months import parse_month

if TYPE_CHECKING:
    from ._policy import Policy

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


def _month_index(column: str) -> pl.Expr:
    return pl.col(column).dt.year().cast(pl.Int32) * 12 + pl.col(column).dt.month().cast(pl.Int32) - 1


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
        # SPEC §5: an effective date with no request date counts as requested that day.
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


def decide_fees(policy: Policy, frame: pl.DataFrame | pl.LazyFrame, month: str) -> pl.DataFrame:
    """One decision row per enrolment row, in input order (columns ``DECISION_COLUMNS``).

    The frame must hold valid enrolments (``ENROLLMENT_COLUMNS``); a gap in the
    fee table or an unknown ``switched_to`` package raises :class:`InputError`
    naming the first such account.
    """
    index = parse_month(month)
    lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    missing = [c for c in ENROLLMENT_COLUMNS if c not in lazy.collect_schema()]
    if missing:
        raise InputError("(columns)", missing, "the enrolment frame lacks these columns")
    rules = policy.rules("fees")
    document = policy.document
    default = str(document.parameters["default_package"])
    rule = pl.col("_rule")

    def per_rule(values: list[Any], dtype: Any) -> pl.Expr:
        return rule.replace_strict(list(range(len(rules))), values, default=None, return_dtype=dtype)

    charge = per_rule([str(r.then["charge"]) for r in rules], pl.String)
    package = (pl.when(charge == "default_package").then(pl.lit(default))
               .when(charge == "switched_to").then(pl.col("switched_to"))
               .otherwise(pl.lit(None, dtype=pl.String)))
    price: Any = pl
    for code, pkg in document.packages.items():
        for product, amount in pkg.tariff.items():
            price = price.when((pl.col("_package") == code) & (pl.col("product") == product)) \
                .then(pl.lit(to_fen(amount), dtype=pl.Int64))
    fen_price = price.otherwise(pl.lit(None, dtype=pl.Int64))
    decided = (
        fee_facts(lazy, index)
        .with_columns(first_hit(rules).alias("_rule"))
        .with_columns(package.alias("_package"))
        .with_columns(fen_price.alias("_fen"))
        .collect()
    )
    _check(decided)
    gross = pl.col("_fen").fill_null(0)
    waived = pl.when(per_rule([bool(r.then.get("waive", False)) for r in rules], pl.Boolean)) \
        .then(gross).otherwise(0)
    return decided.select(
        "account_id",
        pl.lit(month).alias("month"),
        per_rule([str(r.then["code"]) for r in rules], pl.String).alias("code"),
        _yuan(gross).alias("gross"),
        _yuan(waived).alias("waived"),
        _yuan(gross - waived).alias("amount"),
        (gross - waived).alias("amount_fen"),
        per_rule([r.id for r in rules], pl.String).alias("rule"),
        per_rule([r.clause for r in rules], pl.String).alias("clause"),
        pl.col("_package").alias("package"),
        per_rule([bool(r.then.get("follow_up", False)) for r in rules], pl.Boolean).alias("follow_up"),
        pl.lit(document.id).alias("policy_id"),
        pl.lit(document.version).alias("policy_version"),
        pl.lit(document.content_hash[:12]).alias("policy_hash"),
    )


def _yuan(fen: pl.Expr) -> pl.Expr:
    """Integer fen as exact yuan with two decimals."""
    return (fen.cast(pl.Decimal(14, 0)).cast(pl.Decimal(14, 2)) / 100).cast(pl.Decimal(12, 2))


def _check(decided: pl.DataFrame) -> None:
    gaps = decided.filter(pl.col("_rule") < 0)
    if gaps.height:
        first: dict[str, Any] = gaps.row(0, named=True)
        raise InputError("(row)", first["account_id"], "no fee rule matches this enrolment")
    unknown = decided.filter(pl.col("_package").is_not_null() & pl.col("_fen").is_null())
    if unknown.height:
        first = unknown.row(0, named=True)
        if first["product"] not in ("brand", "annual", "single_monthly"):
            raise InputError("product", first["product"],
                             f"unknown broadband product for account {first['account_id']}")
        raise InputError("switched_to", first["switched_to"],
                         f"unknown iTV package for account {first['account_id']}")
