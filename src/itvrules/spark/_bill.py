"""A month billed on Spark: the bill export's lines and the rejected rows, both lazy.

``bill_spark`` reads and checks rows as the row path does (``_rows``), decides
the rows that pass (``_fees``) and writes them as the bill export's lines
(``EXPORT_TYPES``), record ids included, as the CSV and Parquet exports do;
the others are set aside with the row path's field and words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from .._errors import InputError
from ..model._months import parse_month
from ..runs import _common as _run_common
from ..runs._common import billing_cycle as cycle_of
from ._fees import (
    DECISION_TYPES,
    ENROLLMENT_COLUMNS,
    EXPORT_TYPES,
    _decide,
    _require_pyspark,
    check_columns,
)
from ._rows import _PREFIX, _checked, _input

if TYPE_CHECKING:
    import pluggy
    from pyspark.sql import Column, DataFrame

    from ..policy._policy import Policy


#: The ``source`` of the export's lines when the frame has no ``source`` column.
DEFAULT_SOURCE = "spark"
#: Input columns the checks of ``bill_spark`` read when the frame has them, with their types.
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
    path reads them: an id, a product and a package in the contract's normal form
    (format characters removed, NFKC, stripped of Python's whitespace), a product
    by its value in any case or its Chinese name, a package by code or name in any
    case (decided by code): a full-width account id is its ASCII one.

    Raises ``InputError`` for a frame without the enrolment columns (or with
    a ``field`` or ``error`` column) and, after one checking job over the rows
    that pass the checks of their own (repeated or not; no shuffle), for a gap
    in the policy's fee table, as ``decide_fees_spark`` does. Both results
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
    parts.append(F.lit(common.CHARGE_ITEM))
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
