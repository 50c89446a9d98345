"""Enrolments grouped by fee case: each case is decided once, its decision spread over its rows.

Used by the bulk Parquet path and by ``Policy.fees_frame``'s columnar backend;
below both in the import order.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import polars as pl

#: Keys are packed into one integer while all their combinations number fewer than this.
_PACKED_LIMIT = 2**62
#: Day spans up to this many days turn into months by table lookup, longer ones by calendar.
_LOOKUP_DAYS = 100_000


#: What a fee depends on (``_facts.fee_key``): the month indexes of the dates, and the rest.
_KEY = ("returned", "_completed", "_requested", "_effective", "switched_to", "product")
_CASE_COLUMNS = ("account_id", "product", "accepted_on", "completed_on", "returned",
                 "cancel_requested_on", "cancel_effective_on", "switched_to")


def fee_cases(good: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """One enrolment per distinct fee case, and the case number of every row of ``good``.

    Fees depend on months only (``_facts.fee_key``): the returned flag,
    the months of completion, of the request (an effective date stands in for a
    missing one, as ``Enrollment`` has it) and of the effective date, the package
    switched to and the product. These are packed into one integer per row when
    they fit (they do unless dates span centuries), so finding the cases is one
    hash of an integer column; the first row of each case stands for it.
    """
    keys = pl.DataFrame([
        good.get_column("returned"),
        _months(good.get_column("completed_on")).alias("_completed"),
        _months(good.get_column("cancel_requested_on").fill_null(
            good.get_column("cancel_effective_on"))).alias("_requested"),
        _months(good.get_column("cancel_effective_on")).alias("_effective"),
        good.get_column("switched_to"), good.get_column("product"),
    ])
    packed = _packed(keys)
    if packed is None:
        distinct = keys.unique().with_row_index("_case")
        index = keys.join(distinct, on=list(_KEY), how="left", nulls_equal=True,
                          maintain_order="left").get_column("_case")
        first = keys.with_row_index("_at").join(distinct, on=list(_KEY), nulls_equal=True) \
            .group_by("_case").agg(pl.col("_at").min()).sort("_case").get_column("_at")
    else:
        first = packed.arg_unique()
        index = packed.replace_strict(packed.gather(first),
                                      pl.int_range(0, len(first), dtype=pl.UInt32, eager=True))
    cases = good.select(_CASE_COLUMNS).gather(first)
    return cases.cast({name: pl.String for name in ("product", "switched_to")}), index


def _packed(keys: pl.DataFrame) -> pl.Series | None:
    """The key columns as one Int64 per row, one to one; None when they would not fit."""
    parts: list[tuple[pl.Series, int]] = [(keys.get_column("returned").cast(pl.Int64), 2)]
    for name in ("product", "switched_to"):
        column = keys.get_column(name)
        kind = column.dtype
        if not isinstance(kind, pl.Enum):
            kind = pl.Enum(column.drop_nulls().unique())
            column = column.cast(kind)
        codes = column.to_physical().cast(pl.Int64) + 1
        parts.append((codes.fill_null(0), len(kind.categories) + 1))
    months = [keys.get_column(name) for name in ("_completed", "_requested", "_effective")]
    dated = [m for m in months if m.null_count() < len(m)]
    low = min(int(cast(int, m.min())) for m in dated) if dated else 0
    span = (max(int(cast(int, m.max())) for m in dated) if dated else 0) - low + 2  # 0: no date
    for month in months:
        parts.append(((month.cast(pl.Int64) - low + 1).fill_null(0), span))
    size = 1
    for _codes, count in parts:
        size *= count
    if size >= _PACKED_LIMIT:
        return None
    packed, scale = parts[0][0], 1
    for codes, count in parts:
        if scale > 1:
            packed = packed + codes * scale
        scale *= count
    return packed


def _months(days: pl.Series) -> pl.Series:
    """The month index (``year * 12 + month - 1``) of every date; a table lookup for short spans."""
    numbers = days.cast(pl.Int32)
    low, high = numbers.min(), numbers.max()
    if low is None or high is None:
        return pl.repeat(None, len(days), dtype=pl.Int32, eager=True)
    assert isinstance(low, int) and isinstance(high, int)
    if high - low > _LOOKUP_DAYS:
        return pl.select(pl.lit(days).dt.year().cast(pl.Int32) * 12
                         + pl.lit(days).dt.month().cast(pl.Int32) - 1).to_series()
    months = np.arange(low, high + 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int32)
    return pl.Series(months + 1970 * 12).gather(numbers - low)
