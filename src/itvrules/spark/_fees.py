"""Fees for a Spark DataFrame of enrolments: the columnar backend's decisions on a cluster.

The same facts and decisions as ``_frames`` (Polars), written as Spark SQL
columns: month offsets from the completion month, the fee table compiled to
one ``CASE WHEN`` (``_engines._spark``), prices in integer fen from the
policy's tariffs, yuan as ``decimal(12,2)``. Every step is a built-in Spark
expression, so executors run JVM code only and never start a Python worker.
``_bill.bill_spark`` bills a month from rows that may be bad.

``pyspark`` is imported when a function here runs, not when the library is
imported: it is the optional ``spark`` extra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .._errors import EngineError, InputError
from ..model._money import to_fen
from ..model._months import parse_month

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from ..policy._policy import Policy

#: Columns an enrolment DataFrame has, with their Spark SQL types (dates as ``date``).
ENROLLMENT_COLUMNS: Mapping[str, str] = {
    "account_id": "string",
    "product": "string",
    "accepted_on": "date",
    "completed_on": "date",
    "returned": "boolean",
    "cancel_requested_on": "date",
    "cancel_effective_on": "date",
    "switched_to": "string",
}

#: The enrolment schema as a DDL string, for ``spark.read.schema(...)`` or ``createDataFrame``.
ENROLLMENT_DDL = ", ".join(f"{name} {kind}" for name, kind in ENROLLMENT_COLUMNS.items())

#: Columns of the decided DataFrame, in order, with their Spark SQL types (as ``_frames``).
DECISION_TYPES: Mapping[str, str] = {
    "account_id": "string",
    "month": "string",
    "code": "string",
    "gross": "decimal(12,2)",
    "waived": "decimal(12,2)",
    "amount": "decimal(12,2)",
    "amount_fen": "bigint",
    "rule": "string",
    "clause": "string",
    "package": "string",
    "follow_up": "boolean",
    "policy_id": "string",
    "policy_version": "string",
    "policy_hash": "string",
}

_MONEY = "decimal(12,2)"
#: Columns of ``bill_spark``'s ``decided`` DataFrame, in order: the bill export's
#: (``_run_common.BILL_COLUMNS``), with the Parquet export's types (``_parquet.EXPORT_SCHEMA``).
EXPORT_TYPES: Mapping[str, str] = {
    "record_id": "string",
    "account_id": "string",
    "billing_month": "string",
    "billing_cycle": "string",
    "code": "string",
    "gross": _MONEY,
    "waived": _MONEY,
    "amount": _MONEY,
    "amount_fen": "bigint",
    "package": "string",
    "follow_up": "boolean",
    "rule": "string",
    "clause": "string",
    "policy_id": "string",
    "policy_version": "string",
    "policy_hash": "string",
    "source": "string",
    "source_row": "bigint",
}
#: The export's ``source`` when the frame has no ``source`` column and none is given.

_INSTALL_HINT = "the Spark backend needs pyspark: pip install 'itvrules[spark]'"


def _require_pyspark() -> None:
    """Fail with an install hint, not a bare ModuleNotFoundError deep in a stack."""
    try:
        import pyspark.sql  # noqa: F401
    except ImportError as exc:
        raise EngineError(_INSTALL_HINT) from exc


def _month_index(column: str) -> Column:
    from pyspark.sql import functions as F

    return F.year(column) * 12 + F.month(column) - 1


def fee_facts(df: DataFrame, month: int) -> DataFrame:
    """Add the fee fact columns (``_facts.FEE_FIELDS``) to an enrolment DataFrame."""
    from pyspark.sql import functions as F

    # An effective date with no request date counts as requested that day.
    df = df.withColumn("cancel_requested_on",
                       F.coalesce(F.col("cancel_requested_on"), F.col("cancel_effective_on")))
    completed = _month_index("completed_on")
    requested = _month_index("cancel_requested_on")
    effective = _month_index("cancel_effective_on")
    base = F.coalesce(completed, F.lit(month))
    zero = F.lit(0)
    return df.withColumns({
        "returned": F.coalesce(F.col("returned"), F.lit(False)),
        "completed": F.col("completed_on").isNotNull(),
        "month_offset": F.lit(month) - base,
        "cancel_requested": F.col("cancel_requested_on").isNotNull(),
        "cancel_requested_offset": F.coalesce(requested - base, zero),
        "cancel_effective": F.col("cancel_effective_on").isNotNull(),
        "cancel_effective_offset": F.coalesce(effective - base, zero),
        "months_after_effective": F.coalesce(F.lit(month) - effective, zero),
        "switched": F.col("switched_to").isNotNull(),
    })


def _per_rule(rule: Column, values: Sequence[Any], kind: str) -> Column:
    """``values[rule]`` as a column of type ``kind``, null for -1: one array lookup.

    A lookup, not a ``CASE`` per rule, because Catalyst substitutes a column's
    whole expression wherever a later filter reads it (predicate pushdown): nested
    ``CASE`` chains then multiply until the generated Java exceeds the JVM's 64 KB
    method limit and Spark falls back to slow interpreted evaluation.
    """
    from pyspark.sql import Column
    from pyspark.sql import functions as F

    # Only a null needs a cast: a Python str or bool literal already has its type.
    items = [value if isinstance(value, Column) else F.lit(value) if value is not None
             else F.lit(None).cast(kind) for value in values]
    return F.get(F.array(*items), rule)


def _yuan(fen: Column) -> Column:
    """Integer fen as exact yuan with two decimals (a decimal product, no division, no float)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DecimalType

    return (fen.cast(DecimalType(14, 0)) * F.lit(Decimal("0.01"))).cast(DecimalType(12, 2))


def check_columns(df: DataFrame) -> None:
    """Every enrolment column is present with its type, or one InputError lists what is wrong."""
    present = {field.name: field.dataType.simpleString() for field in df.schema.fields}
    missing = [name for name in ENROLLMENT_COLUMNS if name not in present]
    if missing:
        raise InputError("(columns)", missing, "the enrolment frame lacks these columns")
    wrong = [f"{name} is {present[name]}, not {kind}" for name, kind in ENROLLMENT_COLUMNS.items()
             # A collated string prints as "string collate X" and is still a string.
             if present[name].split(" ")[0] != kind]
    if wrong:
        raise InputError("(columns)", wrong,
                         "the enrolment frame has columns of the wrong type (cast dates to date)")


def decide_fees_spark(policy: Policy, df: DataFrame, month: str) -> DataFrame:
    """One decision row per enrolment row (columns and types ``DECISION_TYPES``), lazily.

    The DataFrame must hold valid enrolments (``ENROLLMENT_COLUMNS``). Before
    returning, one Spark job looks for rows that cannot be decided: a gap in the
    fee table, an unknown ``switched_to`` package or a product without a tariff
    raises ``InputError`` naming the smallest offending account id. The returned
    DataFrame is not computed until it is written or collected; it is a narrow
    projection of ``df``, so its partitions follow the input's, row for row.
    Deciding thus reads the input twice (check, then output): ``persist`` an
    input that is expensive to recompute. ``_bill.bill_spark`` bills rows that
    may be bad.
    """
    index = parse_month(month)
    _require_pyspark()
    check_columns(df)
    return _decide(policy, df, month, index)


def _decide(policy: Policy, df: DataFrame, month: str, index: int, *,
            checked: DataFrame | None = None, only: Column | None = None,
            keep: Sequence[str] = ()) -> DataFrame:
    """The decided frame of ``df``'s rows, after the checking job (``_check``) has passed.

    The job checks the rows of ``checked`` (default ``df``) where ``only`` holds:
    enrolments of the same columns that include every row of ``df``. Columns
    ``keep`` of ``df`` follow the decision's, as they are.
    """
    from pyspark.sql import functions as F

    rules = policy.rules("fees")
    document = policy.document
    _check(_ruled(policy, df if checked is None else checked, index), set(document.packages), only)
    decided = _ruled(policy, df, index)
    rule = F.col("_rule")
    gross = F.coalesce(F.col("_fen"), F.lit(0).cast("bigint"))
    waive = _per_rule(rule, [bool(r.then.get("waive", False)) for r in rules], "boolean")
    waived = F.when(waive, gross).otherwise(F.lit(0).cast("bigint"))
    return decided.select(
        F.col("account_id"),
        F.lit(month).alias("month"),
        _per_rule(rule, [str(r.then["code"]) for r in rules], "string").alias("code"),
        _yuan(gross).alias("gross"),
        _yuan(waived).alias("waived"),
        _yuan(gross - waived).alias("amount"),
        (gross - waived).cast("bigint").alias("amount_fen"),
        _per_rule(rule, [r.id for r in rules], "string").alias("rule"),
        _per_rule(rule, [r.clause for r in rules], "string").alias("clause"),
        F.col("_package").alias("package"),
        _per_rule(rule, [bool(r.then.get("follow_up", False)) for r in rules],
                  "boolean").alias("follow_up"),
        F.lit(document.id).alias("policy_id"),
        F.lit(document.version).alias("policy_version"),
        F.lit(document.content_hash[:12]).alias("policy_hash"),
        *[F.col(name) for name in keep],
    )


def _ruled(policy: Policy, df: DataFrame, index: int) -> DataFrame:
    """``df`` with its fee facts, the deciding rule's index ``_rule``, ``_package`` and ``_fen``."""
    from pyspark.sql import functions as F

    from ._tables import first_hit

    rules = policy.rules("fees")
    document = policy.document
    default = str(document.parameters["default_package"])
    charges = [str(r.then["charge"]) for r in rules]
    package = _per_rule(F.col("_rule"), [F.lit(default) if c == "default_package"
                                         else F.col("switched_to") if c == "switched_to"
                                         else None for c in charges], "string")
    # package -> product -> fen, as one map literal: a missing key is null (an unknown package).
    tariffs = F.create_map(*[
        part for code, pkg in document.packages.items()
        for part in (F.lit(code), F.create_map(*[
            item for product, amount in pkg.tariff.items()
            for item in (F.lit(product), F.lit(to_fen(amount)).cast("bigint"))]))])
    fen = F.try_element_at(F.try_element_at(tariffs, F.col("_package")), F.col("product"))
    return (
        fee_facts(df, index)
        .withColumn("_rule", first_hit(rules))
        .withColumn("_package", package)
        .withColumn("_fen", fen)
    )


def _check(decided: DataFrame, packages: set[str], only: Column | None = None) -> None:
    """One aggregate job over every row (where ``only`` holds): undecidable rows become an InputError.

    An aggregate rather than ``limit(1)``: a limit scans partitions in growing
    waves, one job after another, while the aggregate reads each partition once
    in parallel; and the smallest offending account id is the same on every run,
    however the input is partitioned.
    """
    from pyspark.sql import functions as F

    problem = (F.when(F.col("_rule") < 0, F.lit("gap"))
               .when(F.col("_package").isNotNull() & F.col("_fen").isNull(), F.lit("unpriced")))
    if only is not None:
        problem = F.when(only, problem)
    # Aggregates over the problem column, not a filter: Catalyst pushes a filter
    # below the projections by substituting their expressions, which would
    # evaluate the fee table several times a row instead of once.
    row = F.struct("account_id", "_problem", "product", "switched_to", "_package")
    found = (decided.withColumn("_problem", problem)
             .agg(F.count("_problem").alias("rows"),
                  F.min(F.when(F.col("_problem").isNotNull(), row)).alias("first"))
             .collect()[0])
    if not found["rows"]:
        return
    first = found["first"].asDict()
    account = first["account_id"]
    also = "" if found["rows"] == 1 else f" ({found['rows']} rows in all)"
    if first["_problem"] == "gap":
        raise InputError("(row)", account, f"no fee rule matches this enrolment{also}")
    if first["_package"] not in packages:
        raise InputError("switched_to", first["switched_to"],
                         f"unknown iTV package for account {account}{also}")
    raise InputError("product", first["product"],
                     f"package {first['_package']} has no tariff for account {account}{also}")
