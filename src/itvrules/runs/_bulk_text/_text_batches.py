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

from ..._errors import InputError
from ...hookspecs import RawRow, TextBatch
from ...model._parse import WHITESPACE
from .._rows import TOTAL_MARK_PATTERN, RowReader, header_of
from ._batch import ROW, SEQ, Batch, Group


def text_batches(batches: Iterator[TextBatch], reader: RowReader,
                 note: Callable[[RawRow], None]) -> Iterator[Batch]:
    """Each of ``batches`` as a :class:`Batch`; ``note`` learns each header before its first row."""
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
        if cells.height:
            maybe = _maybe_skipped(cells, header, _account_header(reader, batch.source, header))
            if maybe.any():
                at = pl.Series(range(cells.height)).filter(~maybe)
                skipped = [(int(seqs[i]), raw_of(i)) for i in maybe.arg_true()]
                irregular = tuple(sorted((*irregular, *skipped), key=lambda pair: pair[0]))
                cells, seqs, rows = cells.filter(~maybe), seqs.filter(~maybe), rows.filter(~maybe)
                raw_of = _through(batch.raw_of, at)
        groups: tuple[Group, ...] = ()
        if cells.height:
            columns = reader.column_map(RawRow(batch.source, 0, {}, header))
            frame = pl.DataFrame([seqs.alias(SEQ).cast(pl.Int64), rows.alias(ROW).cast(pl.Int64)])
            frame = frame.hstack(cells.select(pl.col(h).cast(pl.String).alias(field)
                                              for h, field in columns.pairs))
            groups = (Group(batch.source, columns, frame, raw_of),)
        yield Batch(batch.source, batch.size, groups, irregular)


def _account_header(reader: RowReader, source: str, header: tuple[str, ...]) -> str | None:
    """The header that gives the account id, or None when the header has none (or is refused)."""
    try:
        return header_of(reader.column_map(RawRow(source, 0, {}, header)), "account_id")
    except InputError:
        return None


def _maybe_skipped(cells: pl.DataFrame, header: tuple[str, ...], account: str | None) -> pl.Series:
    """Rows the row path may skip: every cell blank, or a total mark (合计) anywhere in them.

    Either needs an account cell without an id (blank, a total label or a household count,
    ``_rows.no_account``), so the rows are first narrowed by that one column, which is cheap;
    the whole row is read only for those few.
    """
    joined = pl.concat_str([pl.col(h).cast(pl.String).fill_null("") for h in header])
    maybe = (joined.str.strip_chars(WHITESPACE) == "") | joined.str.contains(TOTAL_MARK_PATTERN)
    if account is None:
        return cells.select(maybe.alias("maybe")).get_column("maybe")
    cell = pl.col(account).cast(pl.String).fill_null("")
    idless = (cell.str.strip_chars(WHITESPACE) == "") | cell.str.contains(TOTAL_MARK_PATTERN) \
        | cell.str.contains("户")
    candidates = cells.select(idless.alias("c")).get_column("c")
    if not candidates.any():
        return candidates
    found = cells.filter(candidates).select(maybe.alias("maybe")).get_column("maybe")
    return candidates.scatter(candidates.arg_true(), found)


def _through(raw_of: Callable[[int], RawRow], at: pl.Series) -> Callable[[int], RawRow]:
    """``raw_of`` for the rows kept: the i-th kept row is the reader's ``at[i]``-th."""
    return lambda i: raw_of(int(at[i]))
