"""A reader's text batches (``TextBatchReader``) as the columnar path's batches: mapped and grouped.

The reader cuts records into text columns, knowing nothing of what they
mean; here the header is mapped to model fields once per header (a missing
required column stops the run, as on the row path), the rejects file learns
the header, rows the row path may skip (blank rows, total rows) are handed to
it one at a time, which skips and counts them, and the other mapped columns
become the batch's one group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import polars as pl

from ...hookspecs import RawRow, TextBatch
from .._rows import RowReader
from ._batch import ROW, SEQ, Batch, Group


def text_batches(batches: Iterator[TextBatch], reader: RowReader,
                 note: Callable[[RawRow], None]) -> Iterator[Batch]:
    """Each of ``batches`` as a ``Batch``; ``note`` learns each header before its first row."""
    noted: tuple[str, ...] | None = None
    for batch in batches:
        header = batch.header
        if batch.size and header is not noted:
            noted = header
            note(RawRow(batch.source, 0, {}, header))
        for _seq, raw in batch.irregular:
            if raw.error is None:
                reader.column_map(raw)  # a header without a required column stops the run here
        cells, seqs, rows, raw_of = batch.cells, batch.seqs, batch.rows, batch.raw_of
        irregular = batch.irregular
        groups: tuple[Group, ...] = ()
        if cells.height:
            columns = reader.column_map(RawRow(batch.source, 0, {}, header))
            frame = pl.DataFrame([seqs.alias(SEQ).cast(pl.Int64), rows.alias(ROW).cast(pl.Int64)])
            frame = frame.hstack(cells.select(pl.col(h).cast(pl.String).alias(field)
                                              for h, field in columns.pairs))
            groups = (Group(batch.source, columns, frame, raw_of),)
        yield Batch(batch.source, batch.size, groups, irregular)


def _through(raw_of: Callable[[int], RawRow], at: pl.Series) -> Callable[[int], RawRow]:
    """``raw_of`` for the rows kept: the i-th kept row is the reader's ``at[i]``-th."""
    return lambda i: raw_of(int(at[i]))
