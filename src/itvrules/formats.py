"""What feed readers and export writers share with the core: the public helpers for plug-ins.

Readers and writers (the built-in ``itvrules_adapters`` among them) import
``itvrules``, ``itvrules.hookspecs`` and this module, never a private module,
so the core can change inside without breaking them. pyarrow is imported
only when an Arrow helper is called.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from ._sheets import (
    MAX_COLUMN_WIDTH,
    ColumnWidths,
    display_width,
    lay_out_sheet,
    workbook_created,
)
from .model._money import CENT
from .model._months import last_day, parse_month
from .model._parse import normalise_text
from .runs._rows import field_of

if TYPE_CHECKING:
    import pyarrow as pa


def arrow_cells(column: pa.Array) -> list[Any]:
    """The Python cells of one Arrow column, as the row path and the bulk Parquet path read them.

    A reader that yields Arrow data row by row uses this, so both paths decide
    its feed alike: text stays text, dates are dates, booleans booleans, a
    timestamp a ``datetime`` (a zoned one in Asia/Shanghai time), numbers their digits.
    """
    from .runs._arrow import cells

    return cells(column)


def refuse_untyped_ids(schema: pa.Schema, source: str) -> None:
    """Refuse an Arrow feed whose account column (by its header) is not text: an
    ``itvrules.InputError`` naming the column's type, before any row is read."""
    from .runs._arrow import refuse_untyped_ids as refuse

    refuse(schema, [name for name in schema.names if field_of(name) == "account_id"], source)


def bill_arrow_schema() -> pa.Schema:
    """The Arrow types of the bill export's columns (yuan ``decimal128(12, 2)``, fen ``int64``)."""
    from .runs._arrow import EXPORT_SCHEMA

    return EXPORT_SCHEMA


def month_end(month: str, field: str = "month") -> date:
    """The last day of ``month`` ("YYYY-MM"); an ``itvrules.InputError`` naming ``field`` if not."""
    return last_day(parse_month(month, field))


__all__ = [
    "CENT",
    "MAX_COLUMN_WIDTH",
    "ColumnWidths",
    "arrow_cells",
    "bill_arrow_schema",
    "display_width",
    "field_of",
    "lay_out_sheet",
    "month_end",
    "normalise_text",
    "refuse_untyped_ids",
    "workbook_created",
]
