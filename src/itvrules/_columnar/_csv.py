"""CSV feeds split into columns in bulk, with the row path's reader as the authority on odd files.

What the stdlib ``csv`` module reads from a piece of text without quote
characters, NULs, byte-order marks inside or carriage returns outside line
ends is just its lines cut at the delimiter; polars does that cut for a
hundred thousand lines at once. Before a piece is cut in bulk it is checked
for exactly those conditions; the first piece that fails them, and everything
after it, is read by ``csv.reader`` record by record, as ``csv_io`` reads it.
Rows, the header, blank records, shifted rows and file errors therefore come
out as the CSV reader gives them, row numbers included. Blank lines and lines
that may be total rows (``_rows.TOTAL_MARK_PATTERN``) go to the row path,
which skips and counts them.

Pieces end at a line end. In GB18030 and UTF-8 the bytes of ``\\n``, ``\\r``
and ``"`` never occur inside a character, so the checks run on raw bytes.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from itertools import chain
from typing import IO

import polars as pl
from itvrules_adapters._encoding import detect_encoding, seekable
from itvrules_adapters.csv_io import _header, _record

from .._errors import InputError
from .._parse import WHITESPACE
from .._rows import TOTAL_MARK_PATTERN, ColumnMap, RowReader
from ..hookspecs import RawRow
from ._batch import BATCH_ROWS, ENGINE, ROW, SEQ, Batch, Group, field_frame
from ._text import char_class

#: Bytes read per piece, about 6,000 rows of a typical feed: larger pieces were no faster here,
#: and the memory polars keeps between pieces grows with them (peak RSS, docs/performance.md).
PIECE_BYTES = 1 << 19
#: The stdlib csv module refuses longer fields; a piece with longer lines is left to it.
FIELD_LIMIT = csv.field_size_limit()
#: Encodings whose bytes can be checked and cut before decoding (see the module docstring).
_BYTE_SAFE = frozenset({"utf-8", "utf-8-sig", "gb18030"})
_LINE = "line"
_TOTAL = re.compile(TOTAL_MARK_PATTERN)
_PARTS = "_parts"
_REGULAR = "_regular"


class _Chain(io.RawIOBase):
    """``head`` then the rest of ``stream``: a piece already read, and what follows it."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class CsvFile:
    """One CSV feed being read into batches."""

    def __init__(self, data: IO[bytes], source: str, codec: str, reader: RowReader,
                 note: Callable[[RawRow], None]) -> None:
        self.data = data
        self.source = source
        self.codec = codec
        self.reader = reader
        self.note = note
        self.delimiter: str | None = None
        self.header: tuple[str, ...] | None = None
        self.row = 0  # records read so far, as csv_io counts them
        self.noted = False
        self.mapped = False

    # -- the whole file --------------------------------------------------------------------
    def batches(self) -> Iterator[Batch]:
        if self.codec not in _BYTE_SAFE:
            yield from self._records(self.data, self.codec)
        else:
            yield from self._pieces()
        if self.header is None:
            raise InputError("(file)", None, "the file has no header row (it is empty)",
                             source=self.source)

    def _pieces(self) -> Iterator[Batch]:
        pending = b""
        first = True
        while True:
            block = self.data.read(PIECE_BYTES)
            buffer = pending + block if pending else block
            if block:
                cut = buffer.rfind(b"\n") + 1
                if cut == 0:
                    pending = buffer
                    continue
                piece, pending = buffer[:cut], buffer[cut:]
            else:
                piece, pending = buffer, b""
            if first:
                first = False
                if self.codec == "utf-8-sig" and piece.startswith(codecs.BOM_UTF8):
                    piece = piece[len(codecs.BOM_UTF8):]
            if piece:
                text = piece if self.codec != "gb18030" else piece.decode("gb18030").encode("utf-8")
                lines = _lines(text)
                if lines is None:
                    # From here on the stdlib reader decides: the BOM is gone, so plain UTF-8 follows.
                    codec = "utf-8" if self.codec == "utf-8-sig" else self.codec
                    yield from self._records(io.BufferedReader(_Chain(piece + pending, self.data)), codec)
                    return
                batch = self._fast(lines)
                if batch is not None:
                    yield batch
            if not block:
                return

    # -- pieces cut in bulk ------------------------------------------------------------------
    def _fast(self, lines: pl.Series) -> Batch | None:
        start = 0
        if self.delimiter is None:
            first = lines[0]
            self.delimiter = "\t" if "\t" in first and "," not in first else ","
        delimiter = self.delimiter
        while self.header is None and start < lines.len():
            self.row += 1
            cells = lines[start].split(delimiter)
            start += 1
            if any(cell.strip() for cell in cells):
                self.header = _header(cells, self.source, self.row)
        header = self.header
        if header is None or start == lines.len():
            self.row += lines.len() - start
            return None
        width = len(header)
        body = lines.slice(start)
        base = self.row
        self.row += body.len()
        blank = f"^[{char_class(WHITESPACE + delimiter)}]*$"
        parts = pl.col(_LINE).str.splitn(delimiter, width + 1)
        frame = (pl.DataFrame({_LINE: body}).lazy()
                 .with_row_index(SEQ)
                 .with_columns(pl.col(SEQ).cast(pl.Int64))
                 .with_columns((pl.col(SEQ) + base + 1).alias(ROW), parts.alias(_PARTS))
                 .with_columns((pl.col(_PARTS).struct.field(f"field_{width - 1}").is_not_null()
                                & pl.col(_PARTS).struct.field(f"field_{width}").is_null()
                                & ~pl.col(_LINE).str.contains(blank)
                                & ~pl.col(_LINE).str.contains(TOTAL_MARK_PATTERN)).alias(_REGULAR))
                 .collect(engine=ENGINE))
        if frame.height == 0:
            return None
        self._note(header)
        regular = int(frame.get_column(_REGULAR).sum())
        irregular = []
        if regular < frame.height:
            for seq, row, line in frame.filter(~pl.col(_REGULAR)).select(SEQ, ROW, _LINE).iter_rows():
                raw = _record(header, line.split(delimiter), self.source, row)
                if raw.error is None:
                    self._map(raw)
                irregular.append((seq, raw))
        groups: tuple[Group, ...] = ()
        if regular:
            kept = frame if regular == frame.height else frame.filter(pl.col(_REGULAR))
            columns = self._map(RawRow(self.source, 0, {}, header))
            position = {name: i for i, name in enumerate(header)}
            cells = kept.select(SEQ, ROW, *(pl.col(_PARTS).struct.field(f"field_{position[h]}").alias(field)
                                            for h, field in columns.pairs))
            source, rows, texts = self.source, kept.get_column(ROW), kept.get_column(_LINE)

            def raw_of(i: int) -> RawRow:
                return _record(header, texts[i].split(delimiter), source, rows[i])

            groups = (Group(source, columns, cells, raw_of),)
        return Batch(self.source, frame.height, groups, tuple(irregular))

    # -- records read one by one --------------------------------------------------------------
    def _records(self, data: IO[bytes], codec: str) -> Iterator[Batch]:
        text = io.TextIOWrapper(data, encoding=codec, newline="")
        try:
            lines: Iterator[str] = iter(text)
            if self.delimiter is None:
                first = next(lines, "")
                self.delimiter = "\t" if "\t" in first and "," not in first else ","
                lines = chain([first], lines)
            records = csv.reader(lines, delimiter=self.delimiter)
            kept: list[list[str]] = []
            rows: list[int] = []
            seqs: list[int] = []
            irregular: list[tuple[int, RawRow]] = []
            seq = 0
            try:
                for cells in records:
                    self.row += 1
                    if self.header is None:
                        if any(cell.strip() for cell in cells):
                            self.header = _header(cells, self.source, self.row)
                        continue
                    header = self.header
                    self._note(header)
                    if len(cells) == len(header) and any(cell.strip() for cell in cells) \
                            and not _TOTAL.search("".join(cells)):
                        if not self.mapped:
                            self._map(RawRow(self.source, self.row, {}, header))
                        kept.append(cells)
                        rows.append(self.row)
                        seqs.append(seq)
                    else:
                        raw = _record(header, cells, self.source, self.row)
                        if raw.error is None:
                            self._map(raw)
                        irregular.append((seq, raw))
                    seq += 1
                    if seq == BATCH_ROWS:
                        yield self._batch(seq, kept, rows, seqs, irregular)
                        kept, rows, seqs, irregular, seq = [], [], [], [], 0
            except csv.Error as exc:
                raise InputError("(file)", None, f"not readable as CSV at row {self.row + 1}: {exc}",
                                 source=self.source) from None
            if seq:
                yield self._batch(seq, kept, rows, seqs, irregular)
        finally:
            text.detach()

    def _batch(self, size: int, kept: list[list[str]], rows: list[int], seqs: list[int],
               irregular: list[tuple[int, RawRow]]) -> Batch:
        groups: tuple[Group, ...] = ()
        header = self.header
        assert header is not None
        if kept:
            columns = self._map(RawRow(self.source, rows[0], {}, header))
            position = {name: i for i, name in enumerate(header)}
            fields: dict[str, list[str | None]] = {
                field: [cells[position[h]] for cells in kept] for h, field in columns.pairs}
            source = self.source

            def raw_of(i: int) -> RawRow:
                return _record(header, kept[i], source, rows[i])

            groups = (Group(source, columns, field_frame(seqs, rows, fields), raw_of),)
        return Batch(self.source, size, groups, tuple(irregular))

    # -- the header ----------------------------------------------------------------------------
    def _note(self, header: tuple[str, ...]) -> None:
        """The rejects file learns the header's columns when the first row under it is read."""
        if not self.noted:
            self.noted = True
            self.note(RawRow(self.source, 0, {}, header))

    def _map(self, raw: RawRow) -> ColumnMap:
        """The header's column map; a missing required column stops the run at this row."""
        self.mapped = True
        return self.reader.column_map(raw)


def _lines(text: bytes) -> pl.Series | None:
    """The lines of ``text`` if the stdlib csv reader would just cut them at the delimiter, else None."""
    if b'"' in text or b"\x00" in text or codecs.BOM_UTF8 in text:
        return None
    if b"\r" in text and text.count(b"\r") != text.count(b"\r\n"):
        return None
    try:
        lines = pl.read_csv(text, has_header=False, infer_schema=False, quote_char=None,
                            separator="\x00", schema={_LINE: pl.String}).get_column(_LINE)
    except pl.exceptions.PolarsError:
        return None
    expected = text.count(b"\n") + (0 if text.endswith(b"\n") else 1)
    checked = pl.select(pl.lit(lines).fill_null("").alias(_LINE),  # an empty line reads as null
                        pl.lit(lines).str.len_bytes().max().alias("longest"))
    longest = checked.item(0, "longest") if checked.height else 0
    if lines.len() != expected or (longest or 0) > FIELD_LIMIT:
        return None
    return checked.get_column(_LINE)


def csv_batches(stream: IO[bytes], source: str, encoding: str | None, reader: RowReader,
                note: Callable[[RawRow], None]) -> Iterator[Batch]:
    """The batches of a CSV feed, read as ``csv_io.CsvReader`` reads it."""
    with seekable(stream) as data:
        codec = detect_encoding(data, source, encoding=encoding)
        yield from CsvFile(data, source, codec, reader, note).batches()
