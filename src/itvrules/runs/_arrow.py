"""Arrow cells as every path reads them, and the Arrow types of the bill export.

Low in the import order on purpose: the Parquet reader (through
``itvrules.formats``), the bulk Parquet path and its checks all read cells
here, so the row path and the bulk path see the same values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from .._errors import InputError

#: The campaign's days are counted in this zone.
TIME_ZONE = "Asia/Shanghai"
_MONEY = pa.decimal128(12, 2)
#: Python's first and last day (0001-01-01, 9999-12-31) as days since 1970-01-01.
_FIRST_DAY, _LAST_DAY = -719_162, 2_932_896
#: The bill export's columns (``BILL_COLUMNS``) and their Arrow types.
EXPORT_SCHEMA = pa.schema([
    ("record_id", pa.string()), ("account_id", pa.string()), ("billing_month", pa.string()),
    ("billing_cycle", pa.string()), ("code", pa.string()), ("gross", _MONEY),
    ("waived", _MONEY), ("amount", _MONEY), ("amount_fen", pa.int64()), ("package", pa.string()),
    ("follow_up", pa.bool_()), ("rule", pa.string()), ("clause", pa.string()),
    ("policy_id", pa.string()), ("policy_version", pa.string()), ("policy_hash", pa.string()),
    ("source", pa.string()), ("source_row", pa.int64()),
])


def refuse_untyped_ids(schema: pa.Schema, headers: Iterable[str], source: str) -> None:
    """Refuse a feed whose account column (one of ``headers``) does not hold text.

    A number column has already lost what an id is (leading zeros, digits past 15, a missing
    value written NaN), so no row of it can be billed as its account: one ``InputError``
    naming the column's type, before any row is read.
    """
    for header in headers:
        if header not in schema.names:
            continue
        kind = schema.field(header).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if not (_text(kind) or pa.types.is_null(kind)):
            raise InputError("account_id", None,
                             f"column {header!r} is {kind}; account ids must be text (cast the "
                             f"column to string before writing)", source=source)


def _text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind)
                or pa.types.is_string_view(kind))


def cells(column: pa.Array) -> list[Any]:
    """The Python cells of one Arrow column, as the row path reads them.

    Text stays text; ``date32``/``date64`` cells are dates and ``bool`` cells
    booleans; a timestamp is a ``datetime`` (one with a time zone is first put
    in Asia/Shanghai time); integers, floats and decimals are handed on as
    their digits, as a CSV export of the same table holds them.
    """
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.dictionary_decode()
        kind = column.type
    if pa.types.is_integer(kind):
        return column.cast(pa.string()).to_pylist()  # type: ignore[no-any-return]
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return [None if value is None else str(value) for value in column.to_pylist()]
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return _days(column)
    if pa.types.is_null(kind):
        return [None] * len(column)
    return column.to_pylist()  # type: ignore[no-any-return]  # text, booleans, the rest as is


def _days(column: pa.Array) -> list[Any]:
    """Dates and timestamps as Python reads them; one outside Python's years 1 to 9999 becomes
    its day as text (``10000-01-01``), which no date column takes: its row is rejected naming
    the field, on every path, where Python's conversion would stop the run."""
    import pyarrow.compute as pc

    days = _day_numbers(column)
    outside = pc.invert(pc.fill_null(pc.and_(pc.greater_equal(days, _FIRST_DAY),
                                             pc.less_equal(days, _LAST_DAY)), True))
    if not pc.any(outside).as_py():
        return _python_days(column)
    cells = _python_days(pc.if_else(outside, pa.scalar(None, column.type), column))
    for at, (away, day) in enumerate(zip(outside.to_pylist(), days.to_pylist(), strict=True)):
        if away:
            cells[at] = day_text(day)
    return cells


def _python_days(column: pa.Array) -> list[Any]:
    if pa.types.is_date(column.type):
        return column.to_pylist()  # type: ignore[no-any-return]
    import polars as pl

    moments = pl.Series(column)
    if column.type.tz is not None:
        moments = moments.dt.convert_time_zone(TIME_ZONE)
    return moments.to_list()


def _day_numbers(column: pa.Array) -> pa.Array:
    """Whole days since 1970-01-01 of a date or timestamp column; a zoned moment's day is its
    day in Asia/Shanghai (UTC+8 at the far ends of the calendar, where this is asked)."""
    kind = column.type
    if pa.types.is_date32(kind):
        return column.cast(pa.int32()).cast(pa.int64())
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
    unit = "ms" if pa.types.is_date64(kind) else kind.unit
    whole = column.cast(pa.int64())
    seconds = whole.fill_null(0).to_numpy(zero_copy_only=False) // per_second[unit]  # floors
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        seconds = seconds + 8 * 3600
    return pa.array(seconds // 86_400, type=pa.int64(), mask=whole.is_null().to_numpy(zero_copy_only=False))


def day_text(days: int) -> str:
    """The proleptic Gregorian day ``days`` after 1970-01-01 as ``YYYY-MM-DD``, any year."""
    shifted = days + 719_468  # to 0000-03-01
    era = shifted // 146_097
    of_era = shifted - era * 146_097
    year_of_era = (of_era - of_era // 1460 + of_era // 36_524 - of_era // 146_096) // 365
    of_year = of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * of_year + 2) // 153
    day = of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + 3 if month_index < 10 else month_index - 9
    year = year_of_era + era * 400 + (1 if month <= 2 else 0)
    return f"{year:04d}-{month:02d}-{day:02d}" if year >= 0 else f"-{-year:04d}-{month:02d}-{day:02d}"
