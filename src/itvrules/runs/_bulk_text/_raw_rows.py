"""Any feed reader's rows, batched for the columnar path (JSON Lines, and any other format).

The reader runs as in the row path, so its errors, row numbers and rejects
are its own. Rows whose cells are all text (or JSON null) are grouped by their
keys and checked in bulk; the rest (numbers, dates, nested values, lines the
reader already rejected) are decided one at a time by the row path's code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO

import polars as pl

from ...hookspecs import FeedReader, RawRow
from .._rows import ColumnMap, ColumnsError, NearMissError, RowReader, maybe_skipped
from ._batch import BATCH_ROWS, Batch, Group, field_frame


def raw_row_batches(feed_reader: FeedReader, stream: IO[bytes], source: str, encoding: str | None,
                    reader: RowReader, note: Callable[[RawRow], None]) -> Iterator[Batch]:
    """Batches of the rows ``feed_reader`` yields; ``note`` sees every row as it is read."""
    maps: dict[tuple[str, ...], ColumnMap | None] = {}
    grouped: dict[tuple[str, tuple[str, ...]], list[tuple[int, RawRow]]] = {}
    irregular: list[tuple[int, RawRow]] = []
    seq = 0
    for raw in feed_reader.read(stream, source, encoding=encoding):
        note(raw)
        if raw.error is None and raw.columns is not None:
            # A header without a required column stops the run at this row, as in the row path.
            reader.column_map(raw)
        if raw.error is None and all(type(v) is str or v is None for v in raw.values.values()) \
                and not maybe_skipped(raw.values):  # blank and total rows: the row path counts them
            keys = raw.columns if raw.columns is not None else tuple(raw.values)
            if keys not in maps:
                maps[keys] = _map(reader, keys, raw.source)
            if maps[keys] is not None:
                grouped.setdefault((raw.source, keys), []).append((seq, raw))
            else:
                irregular.append((seq, raw))  # keys that cannot be read: the row path rejects the row
        else:
            irregular.append((seq, raw))
        seq += 1
        if seq == BATCH_ROWS:
            yield _batch(source, seq, grouped, maps, irregular)
            grouped, irregular, seq = {}, [], 0
    if seq:
        yield _batch(source, seq, grouped, maps, irregular)


def _map(reader: RowReader, keys: tuple[str, ...], source: str) -> ColumnMap | None:
    """The map of a group's keys, read as the row path reads them (the run's explicit map too)."""
    try:
        return reader.column_map(RawRow(source, 0, dict.fromkeys(keys)))
    except NearMissError:
        raise  # it stops the run, as in the row path
    except ColumnsError:
        return None


def _batch(source: str, size: int, grouped: dict[tuple[str, tuple[str, ...]], list[tuple[int, RawRow]]],
           maps: dict[tuple[str, ...], ColumnMap | None],
           irregular: list[tuple[int, RawRow]]) -> Batch:
    groups = []
    for (row_source, keys), rows in grouped.items():
        columns = maps[keys]
        assert columns is not None
        raws = [raw for _seq, raw in rows]
        # polars reads the mapped cells out of the rows' dicts (other keys are left alone).
        values = pl.from_dicts([raw.values for raw in raws],
                               schema={header: pl.String for header, _field in columns.pairs})
        cells = field_frame([s for s, _raw in rows], [raw.row for raw in raws], {}).hstack(
            values.rename({header: field for header, field in columns.pairs}))
        groups.append(Group(row_source, columns, cells, raws.__getitem__))
    return Batch(source, size, tuple(groups), tuple(irregular))


