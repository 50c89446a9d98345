"""Fixed-width legacy billing files for itvrules, as an installable plug-in.

Installed, it is found through the entry point ``fixedwidth`` in the group
``itvrules`` (see pyproject.toml) and adds the format ``fixedwidth``: the
export a legacy billing system imports (extension ``.fw``) and the feed a
legacy CRM extracts (extension ``.fwf``). The layouts are in README.md.

The reader declares the capability ``TextBatchReader`` (``itvrules.hookspecs``)
by having ``read_text_batches``: it cuts a whole batch of lines into columns at
once with polars, so ``itvrules bill`` takes its columnar path for the feed,
as it does for the built-in CSV reader.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import IO, Any

from itvrules import InputError, RawRow, hookimpl
from itvrules.hookspecs import TextBatch

__version__ = "0.1.0"

ACCOUNT = 20
CODE = 24
AMOUNT = 10
LINE_END = b"\r\n"


def detail(row: Mapping[str, Any]) -> bytes:
    """The detail record of one bill row; an InputError when it does not fit the layout."""
    account = str(row["account_id"])
    if len(account) > ACCOUNT or not account.isascii():
        raise InputError("account_id", account,
                         f"does not fit the fixed-width layout (at most {ACCOUNT} ASCII characters)")
    month = str(row["billing_month"]).replace("-", "")
    code = str(row["code"])
    follow_up = "Y" if row.get("follow_up") else "N"
    text = (f"D{account:<{ACCOUNT}}{month:6}{code:<{CODE}}"
            f"{_fen(row['amount']):0{AMOUNT}d}{_fen(row['waived']):0{AMOUNT}d}{follow_up}")
    return text.encode("ascii")


def _fen(yuan: Any) -> int:
    fen = Decimal(str(yuan)) * 100
    if fen != fen.to_integral_value():
        raise InputError("amount", yuan, "not a whole number of fen")
    return int(fen)


class FixedWidthSink:
    """One open fixed-width file: detail records, then a trailer with count and total."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._count = 0
        self._total = 0

    def write(self, row: Mapping[str, Any]) -> None:
        record = detail(row)  # raises before anything is written
        self._stream.write(record + LINE_END)
        self._count += 1
        self._total += _fen(row["amount"])

    def close(self) -> None:
        self._stream.write(f"T{self._count:010d}{self._total:012d}".encode("ascii") + LINE_END)
        self._stream.flush()


class FixedWidthWriter:
    """The ``fixedwidth`` export format (bill runs only)."""

    name = "fixedwidth"
    extensions = (".fw",)

    def open(self, stream: IO[bytes], columns: Sequence[str], *, kind: str,
             encoding: str | None = None) -> FixedWidthSink:
        if kind != "bill":
            raise InputError("format", self.name, f"the fixed-width layout holds bills, not {kind}")
        if encoding is not None:
            raise InputError("encoding", encoding, "the fixed-width layout is always ASCII")
        return FixedWidthSink(stream)


#: The feed layout: (column, width), one record per line, no header line.
FEED_LAYOUT = (("account_id", 20), ("product", 12), ("accepted_on", 10), ("completed_on", 10),
               ("cancel_requested_on", 10), ("cancel_effective_on", 10))
FEED_WIDTH = sum(width for _name, width in FEED_LAYOUT)
FEED_HEADER = tuple(name for name, _width in FEED_LAYOUT)
#: Lines cut into columns at a time by ``read_text_batches``.
BATCH_LINES = 50_000


def _cells(line: str) -> list[str]:
    """The cells of one line of the feed layout, padding removed."""
    cells, at = [], 0
    for _name, width in FEED_LAYOUT:
        cells.append(line[at:at + width].rstrip(" "))
        at += width
    return cells


def _feed_row(line: str, source: str, row: int) -> RawRow:
    """One record of the feed; a line of the wrong width is a row the run rejects."""
    if len(line) != FEED_WIDTH:
        return RawRow(source, row, dict(zip(FEED_HEADER, _cells(line), strict=True)), FEED_HEADER,
                      InputError("(row)", len(line), f"the line has {len(line)} characters; the "
                                 f"fixed-width layout has {FEED_WIDTH}"))
    return RawRow(source, row, dict(zip(FEED_HEADER, _cells(line), strict=True)), FEED_HEADER)


def _lines(stream: IO[bytes], source: str, encoding: str | None) -> Iterator[tuple[int, str]]:
    """(line number, text without its line end) of every line that is not blank."""
    codec = encoding or "utf-8"
    for number, data in enumerate(stream, 1):
        try:
            line = data.decode(codec).rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise InputError("(file)", None, f"line {number} is not {codec}: {exc}",
                             source=source) from None
        if line.strip():
            yield number, line


class FixedWidthReader:
    """The ``fixedwidth`` feed format: one enrolment a line, columns by position (README.md).

    ``read`` gives one row at a time; ``read_text_batches`` gives the same rows
    as whole text columns (the ``TextBatchReader`` capability).
    """

    name = "fixedwidth"
    extensions = (".fwf",)

    def read(self, stream: IO[bytes], source: str, *, encoding: str | None = None) -> Iterator[RawRow]:
        for number, line in _lines(stream, source, encoding):
            yield _feed_row(line, source, number)

    def read_text_batches(self, stream: IO[bytes], source: str, *,
                          encoding: str | None = None) -> Iterator[TextBatch]:
        """The rows ``read`` gives, a batch of lines cut into columns at once."""
        batch: list[tuple[int, str]] = []
        for numbered in _lines(stream, source, encoding):
            batch.append(numbered)
            if len(batch) == BATCH_LINES:
                yield _text_batch(batch, source)
                batch = []
        if batch:
            yield _text_batch(batch, source)


def _text_batch(batch: list[tuple[int, str]], source: str) -> TextBatch:
    import polars as pl

    numbers = pl.Series("row", [number for number, _line in batch], dtype=pl.Int64)
    lines = pl.Series("line", [line for _number, line in batch], dtype=pl.String)
    frame = pl.DataFrame([numbers, lines]).with_row_index("seq").with_columns(pl.col("seq").cast(pl.Int64))
    fits = pl.col("line").str.len_chars() == FEED_WIDTH
    regular = frame.filter(fits)
    irregular = tuple((seq, _feed_row(line, source, row))
                      for seq, row, line in frame.filter(~fits).iter_rows())
    columns, at = [], 0
    for name, width in FEED_LAYOUT:
        columns.append(pl.col("line").str.slice(at, width).str.strip_chars_end(" ").alias(name))
        at += width
    rows, texts = regular.get_column("row"), regular.get_column("line")

    def raw_of(i: int) -> RawRow:
        return _feed_row(texts[i], source, rows[i])

    return TextBatch(source, FEED_HEADER, len(batch), regular.select(columns),
                     regular.get_column("seq"), rows, irregular, raw_of)


@hookimpl
def itvrules_feed_readers() -> Sequence[FixedWidthReader]:
    return [FixedWidthReader()]


@hookimpl
def itvrules_export_writers() -> Sequence[FixedWidthWriter]:
    return [FixedWidthWriter()]
