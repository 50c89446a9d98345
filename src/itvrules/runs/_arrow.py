"""Arrow cells as every path reads them, and the Arrow types of the bill export.

Low in the import order on purpose: the Parquet reader (through
``itvrules.formats``), the bulk Parquet path and its checks all read cells
here, so the row path and the bulk path see the same values.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

#: The campaign's days are counted in this zone.
TIME_ZONE = "Asia/Shanghai"
_MONEY = pa.decimal128(12, 2)
#: The bill export's columns (``BILL_COLUMNS``) and their Arrow types.
EXPORT_SCHEMA = pa.schema([
    ("record_id", pa.string()), ("account_id", pa.string()), ("billing_month", pa.string()),
    ("billing_cycle", pa.string()), ("code", pa.string()), ("gross", _MONEY),
    ("waived", _MONEY), ("amount", _MONEY), ("amount_fen", pa.int64()), ("package", pa.string()),
    ("follow_up", pa.bool_()), ("rule", pa.string()), ("clause", pa.string()),
    ("policy_id", pa.string()), ("policy_version", pa.string()), ("policy_hash", pa.string()),
    ("source", pa.string()), ("source_row", pa.int64()),
])


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
    if pa.types.is_timestamp(kind):
        import polars as pl

        moments = pl.Series(column)
        if kind.tz is not None:
            moments = moments.dt.convert_time_zone(TIME_ZONE)
        return moments.to_list()
    if pa.types.is_null(kind):
        return [None] * len(column)
    return column.to_pylist()  # type: ignore[no-any-return]  # text, dates, booleans, the rest as is
