"""CSV feeds in, CSV exports out.

Reading: the encoding is decided first (``_encoding``), then the file is
streamed through an incremental decoder; every cell stays text. A header row
whose cells hold tabs and no commas is read as tab-separated (Excel's
"Unicode text" is). Writing: UTF-8 with a BOM unless GB18030 is asked, and
free text that Excel would run as a formula is guarded with a leading ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from itertools import chain
from typing import IO, Any

from itvrules import InputError, RawRow, hookimpl
from itvrules.hookspecs import TextBatch, TextColumnsSink

from . import _cells
from ._csv_records import first_header, record, records
from ._encoding import detect_encoding, output_encoding, seekable

_FORMULA = frozenset(_cells.FORMULA_START)


class CsvReader:
    """Reads comma- or tab-separated text in UTF-8, UTF-16 or GB18030.

    Declares ``TextBatchReader``: ``read_text_batches`` cuts the same records
    into columns in bulk (``_csv_bulk``), so a bill run takes the columnar path.
    """

    name = "csv"
    extensions = (".csv", ".tsv", ".txt")

    def read(self, stream: IO[bytes], source: str, *, encoding: str | None = None) -> Iterator[RawRow]:
        with seekable(stream) as data:
            codec = detect_encoding(data, source, encoding=encoding)
            text = io.TextIOWrapper(data, encoding=codec, newline="")
            try:
                yield from read_rows(text, source)
            finally:
                with suppress(ValueError):  # the stream closed under a run that stopped: nothing to keep
                    text.detach()

    def read_text_batches(self, stream: IO[bytes], source: str, *,
                          encoding: str | None = None) -> Iterator[TextBatch]:
        """The records ``read`` yields, as batches of whole text columns."""
        from ._csv_bulk import text_batches

        return text_batches(stream, source, encoding)


def read_rows(lines: Iterable[str], source: str) -> Iterator[RawRow]:
    """The records of decoded CSV ``lines``; ``row`` counts records as Excel shows rows.

    Blank records below the header are yielded too: the pipeline skips and counts them.
    """
    lines = iter(lines)
    first = next(lines, "")
    delimiter = "\t" if "\t" in first and "," not in first else ","
    header: tuple[str, ...] | None = None
    row = 0
    try:
        for cells in records(chain([first], lines), delimiter):
            row += 1
            if header is None:
                header = first_header(cells, source, row)
                continue
            yield record(header, cells, source, row)  # blank rows too: the pipeline counts them
    except csv.Error as exc:
        raise InputError("(file)", None, f"not readable as CSV at row {row + 1}: {exc}",
                         source=source) from None
    if header is None:
        raise InputError("(file)", None, "the file has no header row (it is empty)", source=source)


class CsvWriter:
    """Writes CSV for Excel: UTF-8 with BOM by default, GB18030 on request.

    Declares ``TextColumnsWriter``: ``open_text_columns`` writes the same bytes
    a batch of rows at a time (``_lines``).
    """

    name = "csv"
    extensions = (".csv",)

    def open(self, stream: IO[bytes], columns: Sequence[str], *, kind: str,
             encoding: str | None = None) -> CsvSink:
        return CsvSink(stream, columns, output_encoding(encoding))

    def open_text_columns(self, stream: IO[bytes], columns: Sequence[str], *, kind: str,
                          encoding: str | None = None) -> TextColumnsSink:
        """The export ``open`` starts, taking many rendered rows at a time."""
        from ._lines import CsvLines

        return CsvLines(stream, columns, encoding)


class CsvSink:
    """One open CSV export."""

    def __init__(self, stream: IO[bytes], columns: Sequence[str], encoding: str) -> None:
        self._columns = tuple(columns)
        self._text = io.TextIOWrapper(stream, encoding=encoding, newline="")
        self._writer = csv.writer(self._text)
        self._writer.writerow([_cells.guarded(c) for c in self._columns])

    def write(self, row: Mapping[str, Any]) -> None:
        cells = []
        for column in self._columns:
            value = row.get(column)
            if type(value) is str:  # the hot path, inlined: text from the feed, guarded
                cells.append("'" + value if value[:1] in _FORMULA else value)
            else:
                cells.append(_cells.guarded(value))
        self._writer.writerow(cells)

    def close(self) -> None:
        self._text.flush()
        self._text.detach()


@hookimpl
def itvrules_feed_readers() -> Sequence[CsvReader]:
    return [CsvReader()]


@hookimpl
def itvrules_export_writers() -> Sequence[CsvWriter]:
    return [CsvWriter()]
