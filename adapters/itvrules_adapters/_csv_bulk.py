"""CSV feeds split into columns in bulk (``CsvReader.read_text_batches``), ``read``'s rows exactly.

What the stdlib ``csv`` module reads from a piece of text without quote
characters, NULs, byte-order marks inside or carriage returns outside line
ends is just its lines cut at the delimiter; polars does that cut for a
hundred thousand lines at once. Before a piece is cut in bulk it is checked
for exactly those conditions; the first piece that fails them, and everything
after it, is read by ``csv.reader`` record by record, as ``csv_io`` reads it.
Rows, the header, blank records, shifted rows and file errors therefore come
out as ``CsvReader.read`` gives them, row numbers included: blank records
too (the core skips and counts them, and any row it may skip, such as a total
row, it takes out of the bulk columns itself). The batches are
``itvrules.hookspecs.TextBatch``: the core maps their header and checks and
decides their columns; nothing here knows what a column means.

Pieces end at a line end. In GB18030 and UTF-8 the bytes of ``\\n``, ``\\r``
and ``"`` never occur inside a character, so the checks run on raw bytes.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Sequence
from contextlib import suppress
from itertools import chain
from typing import IO, Final

import polars as pl

from itvrules import InputError, RawRow
from itvrules.hookspecs import TextBatch

from ._csv_records import first_header, header_of, oversized_cell, record, records
from ._encoding import detect_encoding, seekable
from ._limits import FIELD_BYTES

#: Bytes read per piece, about 6,000 rows of a typical feed: larger pieces were no faster here,
#: and the memory polars keeps between pieces grows with them (peak RSS, docs/performance.md).
PIECE_BYTES = 1 << 19
#: Encodings whose bytes can be checked and cut before decoding (see the module docstring).
_BYTE_SAFE = frozenset({"utf-8", "utf-8-sig", "gb18030"})
#: Records per batch of a file read record by record: vectorised work pays, memory stays flat.
BATCH_ROWS = 6_000
#: Queries here run on a few thousand rows: polars' in-memory engine starts them fastest.
ENGINE: Final = "in-memory"
#: Every character Python's ``str.strip()`` removes (Rust's whitespace differs): a blank record.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
              "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
SEQ = "_seq"
ROW = "_row"
_LINE = "line"
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


def char_class(chars: str) -> str:
    """The characters of ``chars`` as the body of a regex character class (Rust syntax)."""
    return "".join(f"\\x{{{ord(c):x}}}" for c in chars)


class CsvFile:
    """One CSV feed being read into batches."""

    def __init__(self, data: IO[bytes], source: str, codec: str) -> None:
        self.data = data
        self.source = source
        self.codec = codec
        self.delimiter: str | None = None
        self.header: tuple[str, ...] | None = None
        self.row = 0  # records read so far, as CsvReader.read counts them

    # -- the whole file --------------------------------------------------------------------
    def batches(self) -> Iterator[TextBatch]:
        if self.codec not in _BYTE_SAFE:
            yield from self._records(self.data, self.codec)
        else:
            yield from self._pieces()
        if self.header is None:
            raise InputError("(file)", None, "the file has no header row (it is empty)",
                             source=self.source)

    def _pieces(self) -> Iterator[TextBatch]:
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
    def _fast(self, lines: pl.Series) -> TextBatch | None:
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
                self.header = header_of(cells, self.source, self.row)
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
                                & ~pl.col(_LINE).str.contains(blank)).alias(_REGULAR))
                 .collect(engine=ENGINE))
        if frame.height == 0:
            return None
        regular = int(frame.get_column(_REGULAR).sum())
        irregular = []
        if regular < frame.height:
            for seq, row, line in frame.filter(~pl.col(_REGULAR)).select(SEQ, ROW, _LINE).iter_rows():
                irregular.append((seq, record(header, line.split(delimiter), self.source, row)))
        kept = frame if regular == frame.height else frame.filter(pl.col(_REGULAR))
        cells = kept.select(pl.col(_PARTS).struct.field(f"field_{i}").alias(name)
                            for i, name in enumerate(header))
        source, rows, texts = self.source, kept.get_column(ROW), kept.get_column(_LINE)

        def raw_of(i: int) -> RawRow:
            return record(header, texts[i].split(delimiter), source, rows[i])

        return TextBatch(self.source, header, frame.height, cells, kept.get_column(SEQ), rows,
                         tuple(irregular), raw_of)

    # -- records read one by one --------------------------------------------------------------
    def _records(self, data: IO[bytes], codec: str) -> Iterator[TextBatch]:
        text = io.TextIOWrapper(data, encoding=codec, newline="")
        try:
            lines: Iterator[str] = iter(text)
            if self.delimiter is None:
                first = next(lines, "")
                self.delimiter = "\t" if "\t" in first and "," not in first else ","
                lines = chain([first], lines)
            allowed = FIELD_BYTES.value()
            kept: list[list[str]] = []
            rows: list[int] = []
            seqs: list[int] = []
            irregular: list[tuple[int, RawRow]] = []
            seq = 0
            try:
                for cells in records(lines, self.delimiter):
                    self.row += 1
                    if self.header is None:
                        self.header = first_header(cells, self.source, self.row)
                        continue
                    if cells is not None and len(cells) == len(self.header) \
                            and oversized_cell(cells, allowed) is None:
                        kept.append(cells)
                        rows.append(self.row)
                        seqs.append(seq)
                    else:
                        irregular.append((seq, record(self.header, cells, self.source, self.row)))
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
            with suppress(ValueError):  # the stream closed under a run that stopped: nothing to keep
                text.detach()

    def _batch(self, size: int, kept: list[list[str]], rows: list[int], seqs: list[int],
               irregular: list[tuple[int, RawRow]]) -> TextBatch:
        header = self.header
        assert header is not None
        cells = pl.DataFrame({name: [values[i] for values in kept] for i, name in enumerate(header)},
                             schema={name: pl.String for name in header})
        source = self.source

        def raw_of(i: int) -> RawRow:
            return record(header, kept[i], source, rows[i])

        return TextBatch(source, header, size, cells, pl.Series(SEQ, seqs, dtype=pl.Int64),
                         pl.Series(ROW, rows, dtype=pl.Int64), tuple(irregular), raw_of)


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
    if lines.len() != expected or (longest or 0) > FIELD_BYTES.value():  # a cell may be too big
        return None
    return checked.get_column(_LINE)


def text_batches(stream: IO[bytes], source: str, encoding: str | None) -> Iterator[TextBatch]:
    """The batches of a CSV feed: the records ``CsvReader.read`` yields, cut into columns in bulk."""
    with seekable(stream) as data:
        codec = detect_encoding(data, source, encoding=encoding)
        yield from CsvFile(data, source, codec).batches()


__all__: Sequence[str] = ["PIECE_BYTES", "text_batches"]
