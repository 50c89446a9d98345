"""Fees for a Spark DataFrame of enrolments: the columnar backend's decisions on a cluster.

The same facts and decisions as ``_frames`` (Polars), written as Spark SQL
columns: month offsets from the completion month, the fee table compiled to
one ``CASE WHEN`` (``_engines._spark``), prices in integer fen from the
policy's tariffs, yuan as ``decimal(12,2)``. Every step is a built-in Spark
expression, so executors run JVM code only and never start a Python worker.
``bill_spark`` also reads and checks rows as the row path does and sets aside
those it cannot decide, with the row path's field and words, instead of raising;
the rows it decides are the bill export's lines (``EXPORT_TYPES``), record ids
included, as the CSV and Parquet exports write them.

``pyspark`` is imported when a function here runs, not when the library is
imported: it is the optional ``spark`` extra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, overload

import attrs

from .._errors import EngineError, InputError, UsageError
from ..contract import load_contract
from ..model._enums import PriorModem, Product
from ..model._inputs import PRIOR_MODEM_ALIASES, PRODUCT_ALIASES
from ..model._money import to_fen
from ..model._months import parse_month
from ..model._parse import WHITESPACE
from ..runs import _common as _run_common
from ..runs._common import billing_cycle as cycle_of

if TYPE_CHECKING:
    import pluggy
    from pyspark.sql import Column, DataFrame

    from ..policy._policy import Policy
    from ..policy._versions import CampaignWindow

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
#: Columns of :func:`bill_spark`'s ``decided`` DataFrame, in order: the bill export's
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
DEFAULT_SOURCE = "spark"

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

    # SPEC §5: an effective date with no request date counts as requested that day.
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


@overload
def decide_fees_spark(policy: Policy, df: DataFrame, month: str, *,
                      rejects: Literal[False] = False, billing_cycle: str | None = None,
                      source: str | None = None) -> DataFrame: ...
@overload
def decide_fees_spark(policy: Policy, df: DataFrame, month: str, *,
                      rejects: Literal[True], billing_cycle: str | None = None,
                      source: str | None = None) -> SparkBill: ...
@overload
def decide_fees_spark(policy: Policy, df: DataFrame, month: str, *,
                      rejects: bool, billing_cycle: str | None = None,
                      source: str | None = None) -> DataFrame | SparkBill: ...


def decide_fees_spark(policy: Policy, df: DataFrame, month: str, *,
                      rejects: bool = False, billing_cycle: str | None = None,
                      source: str | None = None) -> DataFrame | SparkBill:
    """One decision row per enrolment row (columns and types ``DECISION_TYPES``), lazily.

    The DataFrame must hold valid enrolments (``ENROLLMENT_COLUMNS``). Before
    returning, one Spark job looks for rows that cannot be decided: a gap in the
    fee table, an unknown ``switched_to`` package or a product without a tariff
    raises :class:`InputError` naming the smallest offending account id. The returned
    DataFrame is not computed until it is written or collected; it is a narrow
    projection of ``df``, so its partitions follow the input's, row for row.
    Deciding thus reads the input twice (check, then output): ``persist`` an
    input that is expensive to recompute.

    ``rejects=True`` is :func:`bill_spark`: bad rows are set aside, not raised, and
    the decided rows are the bill export's, with ``billing_cycle`` and ``source``
    (export columns, so given only then).
    """
    if rejects:
        return bill_spark(policy, df, month, billing_cycle=billing_cycle,
                          source=DEFAULT_SOURCE if source is None else source)
    if billing_cycle is not None or source is not None:
        raise UsageError("billing_cycle and source are columns of the bill export: "
                         "pass rejects=True for it")
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


# -- bad rows -----------------------------------------------------------------------------------

#: Input columns the checks of :func:`bill_spark` read when the frame has them, with their types.
OPTIONAL_COLUMNS: Mapping[str, str] = {
    "source_row": "an integer type",
    "return_reason": "string",
    "prior_modem": "string",
}
#: A rejected row's first columns (``string``, ``bigint``); every other input column follows.
REJECT_SOURCE = ("source", "source_row")
#: Columns a rejected row has after the input's own (both ``string``).
REJECT_FIELDS = ("field", "error")
_INTEGERS = ("tinyint", "smallint", "int", "bigint")
#: ``Enrollment``'s words for a return without a reason.
#: Columns added while checking carry this prefix; none reaches an output.
_PREFIX = "__itv_"
#: Every whitespace character Python's ``str.strip()`` removes, at either end, as a Java regex.
_CLASS = "".join(f"\\u{ord(c):04x}" for c in WHITESPACE)
_STRIP = f"\\A[{_CLASS}]+|[{_CLASS}]+\\z"


@attrs.frozen
class SparkBill:
    """A month billed for a Spark DataFrame, split into rows decided and rows rejected; both lazy.

    ``decided`` is the bill export (``EXPORT_TYPES``: the CSV export's columns
    with the Parquet export's types), one row per valid input row; its
    ``account_id`` is unique (a repeated account is rejected). ``rejected`` has
    ``source``, ``source_row``, every other input column as it was, then
    ``field`` and ``error``. Every input row is in exactly one of the two.
    """

    decided: DataFrame
    rejected: DataFrame


def bill_spark(policy: Policy, df: DataFrame, month: str, *, billing_cycle: str | None = None,
               source: str = DEFAULT_SOURCE, pm: pluggy.PluginManager | None = None) -> SparkBill:
    """Bill ``month`` for the rows of ``df`` that can be decided; reject the others, with why.

    ``decided`` holds the export lines the row path writes for the same rows,
    cell for cell: ``record_id`` (``_run_common.record_id``, as a Spark expression),
    ``billing_cycle`` (default: what the plug-ins of ``pm`` say, else YYYYMM),
    ``source`` (the frame's ``source`` column when it has one, else ``source``)
    and ``source_row`` (the frame's ``source_row`` column when it has one, else
    the row's number from 1 in the input's order; one more job counts the rows
    of each input partition).

    A row is rejected for what the row path rejects it for, in the same order and
    words: a missing account, product or acceptance date, an unknown product or
    (when ``df`` has the column) ``prior_modem``; then the input contract's
    checks compiled to Spark columns: a returned order without a reason (also
    when ``df`` has no ``return_reason`` column) or with an installation or
    cancellation date, dates out of order, an order accepted outside the
    campaign window in force that day, a repeated account (an earlier row has
    the same id; earlier means a smaller ``source_row`` when ``df`` has that
    column, else earlier in the input), an unknown ``switched_to`` package. Values are read as the row
    path reads them: text stripped of Python's whitespace, a product by its value
    in any case or its Chinese name, a package by code or name in any case
    (decided by code). Unlike the row path, full-width text is not
    NFKC-normalised: a full-width account id is not the same as its ASCII one.

    Raises :class:`InputError` for a frame without the enrolment columns (or with
    a ``field`` or ``error`` column) and, after one checking job over the rows
    that pass the checks of their own (repeated or not; no shuffle), for a gap
    in the policy's fee table, as :func:`decide_fees_spark` does. Both results
    are lazy: each is computed when written and reads the input again, with a
    shuffle by account, so ``persist`` an input that is expensive to recompute.
    Without a ``source_row`` column the input's order must be the same every
    time it is read (a file scan is): a repeated account's first row and the
    row numbers are found by it.
    """
    index = parse_month(month)
    _require_pyspark()
    from pyspark.sql import functions as F

    check_columns(df)
    _check_optional(df)
    names = df.columns
    if billing_cycle is None:
        from ..runs._plugins import plugin_manager

        billing_cycle = cycle_of(month, pm if pm is not None else plugin_manager())
    local, checked, checks = _checked(policy, df)
    own = {"account_id", "product", "switched_to"}  # read and normalised by ``_checked``
    enrolments = [F.col(_PREFIX + name).alias(name) if name in own else F.col(name)
                  for name in ENROLLMENT_COLUMNS]
    where = {
        "source": F.col("source").cast("string") if "source" in names else F.lit(source),
        "source_row": (F.col("source_row").cast("bigint") if "source_row" in names
                       else _row_numbers(local, F.col(_PREFIX + "order"))),
    }
    problem = F.col(_PREFIX + "problem")
    field = F.get(F.array(*[F.lit(name) for _fails, name, _error in checks]), problem)
    error = F.get(F.array(*[words for _fails, _name, words in checks]), problem)
    rejected = (checked.filter(problem.isNotNull())
                .select(*[column.alias(name) for name, column in where.items()],
                        *[_input(name) for name in names if name not in where],
                        field.alias("field"), error.alias("error")))
    valid = checked.filter(problem.isNull()).select(
        *enrolments, *[column.alias(_PREFIX + name) for name, column in where.items()])
    # The fee table is checked on every row that passes the checks of its own, repeated or not:
    # that needs no shuffle, and a gap it finds is the policy's whichever row shows it. Those
    # rows are picked inside the aggregate, not by a filter (see ``_check``).
    rows = local.select(*enrolments, F.col(_PREFIX + "local").isNull().alias(_PREFIX + "valid"))
    decided = _decide(policy, valid, month, index, checked=rows, only=F.col(_PREFIX + "valid"),
                      keep=[_PREFIX + name for name in where])
    return SparkBill(_export(decided, billing_cycle), rejected)


def _export(decided: DataFrame, cycle: str) -> DataFrame:
    """``_decide``'s columns (with ``source`` and ``source_row`` kept) as the bill export's."""
    from pyspark.sql import functions as F

    cells = {name: F.col(name) for name in DECISION_TYPES}
    cells.update({"billing_month": F.col("month"), "billing_cycle": F.lit(cycle),
                  "source": F.col(_PREFIX + "source"), "source_row": F.col(_PREFIX + "source_row")})
    digest = _PREFIX + "digest"
    # The digest in a projection of its own: the id reads it five times, and Spark does not
    # merge a projection into the next when that would repeat an expensive expression.
    hashed = decided.withColumn(digest, record_digest(cells))
    columns = {"record_id": uuid_text(F.col(digest)), **cells}
    return hashed.select(*[columns[name].cast(kind).alias(name) for name, kind in EXPORT_TYPES.items()])


def record_digest(cells: Mapping[str, Column]) -> Column:
    """The SHA-1 (40 hex digits) uuid5 takes of a record id's name: ``_run_common.record_id``'s.

    The name is the cells of ``RECORD_ID_PARTS`` (a null as ""), joined by
    ``RECORD_SEPARATOR``, as UTF-8 bytes after the namespace's 16 bytes.
    """
    from pyspark.sql import functions as F

    # Read from ``_run_common`` when called, so the row path and this one hash the same parts.
    common = _run_common
    parts = [F.coalesce(cells[part].cast("string"), F.lit("")) for part in common.RECORD_ID_PARTS]
    name = F.encode(F.concat_ws(common.RECORD_SEPARATOR, *parts), "UTF-8")
    return F.sha1(F.concat(F.unhex(F.lit(common.RECORD_NAMESPACE.hex)), name))


def uuid_text(digest: Column) -> Column:
    """A SHA-1 digest's uuid5 text: its first 32 hex digits, version digit 5, variant bits 10."""
    from pyspark.sql import functions as F

    def hexes(start: int, count: int) -> Column:
        return F.substring(digest, start + 1, count)

    # The variant digit keeps its low two bits and gets 10 above them: (d & 3) | 8.
    variant = F.translate(hexes(16, 1), "0123456789abcdef", "89ab89ab89ab89ab")
    return F.concat_ws("-", hexes(0, 8), hexes(8, 4), F.concat(F.lit("5"), hexes(13, 3)),
                       F.concat(variant, hexes(17, 3)), hexes(20, 12))


def _row_numbers(frame: DataFrame, order: Column) -> Column:
    """Every row's number from 1 in input order, from ``order`` (``monotonically_increasing_id``).

    That id is the partition's index times 2**33 plus the row's index in its
    partition. One job counts the rows of each partition (the input is read,
    nothing is shuffled but the counts); a row's number is then the rows of the
    partitions before its own plus its index, plus 1: no window over all rows
    in one partition, as ``row_number()`` would need.
    """
    from pyspark.sql import functions as F

    partition = F.shiftrightunsigned(order, 33)
    counts = {int(row[0]): int(row[1])
              for row in frame.groupBy(partition.alias("partition")).count().collect()}
    before: list[int] = []
    total = 0
    for at in range(max(counts, default=-1) + 1):
        before.append(total)
        total += counts.get(at, 0)
    if not before:  # no rows: nothing to number
        return F.lit(None).cast("bigint")
    offsets = F.array(*[F.lit(count).cast("bigint") for count in before])
    return F.get(offsets, partition.cast("int")) + order.bitwiseAND(F.lit(2**33 - 1)) + F.lit(1)


def _check_optional(df: DataFrame) -> None:
    """The optional columns have usable types; no input column takes a reject column's name."""
    present = {f.name: f.dataType.simpleString().split(" ")[0] for f in df.schema.fields}
    taken = [name for name in REJECT_FIELDS if name in present]
    if taken:
        raise InputError("(columns)", taken,
                         "rejected rows get these columns: rename the frame's own before billing")
    wrong = [f"{name} is {present[name]}, not {kind}" for name, kind in OPTIONAL_COLUMNS.items()
             if name in present
             and not (present[name] in _INTEGERS if name == "source_row" else present[name] == kind)]
    if wrong:
        raise InputError("(columns)", wrong, "the enrolment frame has columns of the wrong type")


def _input(name: str) -> Column:
    """An input column by its exact name (dots and spaces are part of it)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def _stripped(column: Column) -> Column:
    """Text as Python's ``str.strip()`` leaves it; Spark's ``trim`` strips spaces only."""
    from pyspark.sql import functions as F

    # The regex only where an end is whitespace: ten times cheaper over ids that are clean.
    ends = F.substring(column, 1, 1).isin(*WHITESPACE) | F.substring(column, -1, 1).isin(*WHITESPACE)
    return F.when(ends, F.regexp_replace(column, _STRIP, "")).otherwise(column)


def _enum_value(text: Column, aliases: Mapping[str, str]) -> Column:
    """``parse_enum``'s reading of stripped ``text``: a Chinese name, else the value in lower case.

    An unknown value stays as it is (not one of the enum's values); blank text is null.
    """
    from pyspark.sql import functions as F

    read = F.lower(text)
    for alias in reversed(list(aliases)):
        read = F.when(text == F.lit(alias), F.lit(aliases[alias])).otherwise(read)
    return F.when(text != F.lit(""), read)


def _repr(text: Column) -> Column:
    """Python's ``repr`` of a string, as the row path puts the value it rejects into words.

    Quotes, backslashes, tabs and line ends are escaped as ``repr`` does; other
    control characters are left as they are.
    """
    from pyspark.sql import functions as F

    escaped = text
    for char, escape in (("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        escaped = F.replace(escaped, F.lit(char), F.lit(escape))
    double = text.contains("'") & ~text.contains('"')
    return (F.when(double, F.concat(F.lit('"'), escaped, F.lit('"')))
            .otherwise(F.concat(F.lit("'"), F.replace(escaped, F.lit("'"), F.lit("\\'")), F.lit("'"))))


def _date_repr(day: Column) -> Column:
    """Python's ``repr`` of a ``datetime.date``."""
    from pyspark.sql import functions as F

    return F.format_string("datetime.date(%d, %d, %d)", F.year(day), F.month(day), F.dayofmonth(day))


def _campaign_days(windows: Sequence[CampaignWindow], accepted: Column) -> tuple[Column, Column]:
    """The first and last campaign day of the version in force on each ``accepted`` day (null: none)."""
    from pyspark.sql import functions as F

    first: Any = F
    last: Any = F
    for window in windows:
        inside = F.lit(True)
        if window.in_force_from is not None:
            inside = inside & (accepted >= F.lit(window.in_force_from))
        if window.in_force_until is not None:
            inside = inside & (accepted <= F.lit(window.in_force_until))
        first = first.when(inside, F.lit(window.first_day))
        last = last.when(inside, F.lit(window.last_day))
    return first, last


def _checked(policy: Policy, df: DataFrame) -> tuple[DataFrame, DataFrame,
                                                    list[tuple[Column, str, Column]]]:
    """``df`` read and checked, in two steps, with the checks as (fails, field, error).

    The first frame has values normalised and ``local``: the index of the first
    check a row fails on its own. The second adds ``problem``, which also counts
    a repeated account (check 0, first in the row path's order): that needs every
    row of the account, a shuffle. Checks are in the row path's order; added
    columns are named ``_PREFIX`` + name.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from ._contract import message as contract_message
    from ._contract import spark_condition

    def own(name: str) -> Column:
        return F.col(_PREFIX + name)

    present = set(df.columns)
    lookup = {p.name.strip().lower(): code for code, p in policy.packages.items()}
    lookup.update({code.lower(): code for code in policy.packages})
    packages = F.create_map(*[F.lit(part) for pair in lookup.items() for part in pair])
    products = [p.value for p in Product]
    read = {
        "order": F.monotonically_increasing_id(),
        "account": _stripped(F.col("account_id")),
        "product_text": _stripped(F.col("product")),
        "switched": _stripped(F.col("switched_to")),
    }
    if "return_reason" in present:
        read["reason"] = _stripped(F.col("return_reason"))
    if "prior_modem" in present:
        read["modem_text"] = _stripped(F.col("prior_modem"))
    df = df.withColumns({_PREFIX + name: column for name, column in read.items()})
    df = df.withColumns({
        _PREFIX + "account_id": F.when(own("account") != F.lit(""), own("account")),
        _PREFIX + "product": _enum_value(own("product_text"), PRODUCT_ALIASES),
        _PREFIX + "switched_text": F.when(own("switched") != F.lit(""), own("switched")),
    })
    df = df.withColumn(_PREFIX + "switched_to",
                       F.try_element_at(packages, F.lower(own("switched_text"))))

    def got(problem: str, value: Column) -> Column:
        return F.concat(F.lit(f"{problem}; got "), value)

    accepted = F.col("accepted_on")
    no_product = F.coalesce(own("product_text"), F.lit("")) == F.lit("")
    missing_words = load_contract().cell_problem("missing", fields="\x00")
    before, after = missing_words.split("\x00")
    missing = F.concat(F.lit(before), F.concat_ws(
        ", ", F.when(own("account_id").isNull(), F.lit("account_id")),
        F.when(no_product, F.lit("product")), F.when(accepted.isNull(), F.lit("accepted_on"))),
        F.lit(after))
    # Reading the cells, in the row path's order (Enrollment's fields) ...
    checks: list[tuple[Column, str, Column]] = [
        (own("account_id").isNull(), "account_id", missing),
        (no_product, "product", missing),
        (accepted.isNull(), "accepted_on", missing),
        (~own("product").isin(products), "product",
         got(load_contract().cell_problem("enum", values=", ".join(products)), _repr(own("product_text")))),
    ]
    if "prior_modem" in present:
        modems = [m.value for m in PriorModem]
        modem = _enum_value(own("modem_text"), PRIOR_MODEM_ALIASES)
        checks.append((~modem.isin(modems), "prior_modem",
                       got(load_contract().cell_problem("enum", values=", ".join(modems)),
                           _repr(own("modem_text")))))
    # ... then the contract's checks, compiled: the fields and facts they read, by name.
    contract = load_contract()
    rules = (*contract.scoped("record"), *contract.scoped("run", "bill"))
    first_day, last_day = _campaign_days(policy.windows, accepted)
    named: dict[str, Column] = {
        "accepted_on": accepted,
        "completed_on": F.col("completed_on"),
        "cancel_requested_on": F.col("cancel_requested_on"),
        "cancel_effective_on": F.col("cancel_effective_on"),
        "returned": F.coalesce(F.col("returned"), F.lit(False)),
        # as every path does: without the column, a returned order has no reason and is rejected
        "return_reason": own("reason") if "return_reason" in present else F.lit(None).cast("string"),
        "switched_to": own("switched_text"),
        "switched_known": own("switched_to").isNotNull(),
        "account_repeated": own("repeated"),
        "campaign_first_day": first_day,
        "campaign_last_day": last_day,
    }
    constants = {"known_packages": ", ".join(policy.packages)}
    value_of = {"account_id": own("account_id"), "switched_to": own("switched_text")}
    repeated_at = len(checks) + [c.id for c in rules].index("account.repeated")
    for check in rules:
        value = value_of[check.field] if check.field in value_of else named[check.field]
        date_kind = contract.kind(check.field) == "date"
        shown = value.cast("string") if date_kind else _repr(value)
        nothing = value.isNull() if date_kind else (value.isNull() | (value == F.lit("")))
        words = contract_message(check, constants, named.__getitem__)
        checks.append((spark_condition(check.when, contract.kind, named.__getitem__), check.field,
                       F.when(nothing, words).otherwise(F.concat(words, F.lit("; got "), shown))))
    first: Any = F
    for at, (fails, _name, _words) in enumerate(checks):
        if at != repeated_at:  # needs every row of the account: a shuffle, below
            first = first.when(fails, F.lit(at))
    local = df.withColumn(_PREFIX + "repeated", F.lit(False)).withColumn(_PREFIX + "local", first)
    order = [F.col("source_row").asc_nulls_last()] if "source_row" in present else []
    earlier = Window.partitionBy(own("account_id")).orderBy(*order, own("order"))
    repeated = own("account_id").isNotNull() & (F.row_number().over(earlier) > 1)
    checked = (local.withColumn(_PREFIX + "repeated", repeated)
               .withColumn(_PREFIX + "problem",
                           F.when(own("local") < F.lit(repeated_at), own("local"))
                           .when(own("repeated"), F.lit(repeated_at)).otherwise(own("local"))))
    return local, checked, checks
