"""The library's input limits (``itvrules.LIMITS``) the readers check, looked up by name."""

from __future__ import annotations

from itvrules import LIMITS, Limit


def limit(name: str) -> Limit:
    """The limit called ``name`` in the library's one table."""
    return next(item for item in LIMITS if item.name == name)


FIELD_BYTES = limit("field_bytes")
JSONL_LINE_BYTES = limit("jsonl_line_bytes")
JSONL_DEPTH = limit("jsonl_depth")
XLSX_ROWS = limit("xlsx_rows")
XLSX_COLUMNS = limit("xlsx_columns")
XLSX_UNPACKED_BYTES = limit("xlsx_unpacked_bytes")
XLSX_RATIO = limit("xlsx_ratio")
