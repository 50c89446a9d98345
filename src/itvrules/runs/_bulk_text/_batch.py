"""What the readers of the columnar path hand on: rows of one source, grouped by header.

A batch holds the rows of one feed read in one go (about a hundred thousand).
Rows whose cells are all text and share a header form a ``Group``: their
mapped cells are columns, one per model field, checked in bulk. Rows the
readers already know are odd (a shifted CSV row, a JSON line that is not an
object, a cell that is a number or a date) are ``irregular`` and go through the
row path one at a time. ``seq`` orders every row of a batch as it was read,
so duplicates and rejects come out in the order the row path gives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import attrs
import polars as pl

from ...hookspecs import RawRow
from .._rows import ColumnMap

#: Rows per batch (about half a megabyte of a typical CSV, as ``_csv.PIECE_BYTES``):
#: vectorised work pays, memory stays flat.
BATCH_ROWS = 6_000
SEQ = "_seq"
ROW = "_row"
#: Lazy queries here run on a few thousand rows: polars' in-memory engine starts them in a
#: fraction of the time its streaming engine (the default for ``collect``) takes.
ENGINE: Final = "in-memory"


@attrs.frozen
class Group:
    """Rows with one header and source: ``cells`` has ``_seq``, ``_row`` and a text column per field."""

    source: str  # the rows' RawRow.source (a spreadsheet's names the sheet too)
    columns: ColumnMap
    cells: pl.DataFrame
    raw_of: Callable[[int], RawRow]  # the RawRow of the group's i-th row, for the row path


@attrs.frozen
class Batch:
    """Rows of one source read together; ``size`` counts every one of them (rows in)."""

    source: str
    size: int
    groups: tuple[Group, ...]
    irregular: tuple[tuple[int, RawRow], ...]  # (seq, row) decided one at a time


def field_frame(seqs: list[int], rows: list[int], fields: dict[str, list[str | None]]) -> pl.DataFrame:
    """A group's cells from Python lists: sequence, row number and one column per field."""
    data: dict[str, pl.Series] = {
        SEQ: pl.Series(SEQ, seqs, dtype=pl.Int64),
        ROW: pl.Series(ROW, rows, dtype=pl.Int64),
    }
    for field, values in fields.items():
        data[field] = pl.Series(field, values, dtype=pl.String)
    return pl.DataFrame(data)
