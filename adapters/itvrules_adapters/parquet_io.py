"""Parquet feeds in, Parquet exports out (pyarrow), both streamed a batch of rows at a time.

Reading: the file's record batches are read one at a time (16,384 rows),
so memory holds one batch whatever the size of the feed. Cells are handed on
as the row path reads them and as the columnar Parquet path
(``itvrules.run_bill``) checks them, so both backends decide a feed alike:
text stays text; ``date32``/``date64`` cells are dates and ``bool`` cells
booleans; a timestamp is a ``datetime``, whose day the row path takes (one
with a time zone is first put in Asia/Shanghai time, where the campaign's
days are counted, and keeps that zone); numbers are handed
on as their digits, as a CSV export of the same table holds them, so an
integer date ``20250331`` reads as YYYYMMDD, never as an Excel serial. An account
column must be text: a number column (a float with NaN, an int that lost its
leading zeros) is refused before any row is read, with its type named. Rows
count from 1: a Parquet file has no header line.

Writing: the export's own columns get Parquet types (yuan as
``decimal128(12, 2)``, ``amount_fen`` and ``source_row`` as ``int64``, flags
as ``bool``, days as ``date32``; the bill export's types are those of
``itvrules.formats.bill_arrow_schema()``), other columns (plug-in columns, a
reject's raw cells) are text. Rows are buffered and written as one row group
per 50,000 rows. Parquet is binary and ends with a footer, so it is written
to files only: standard output is refused.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import IO, TYPE_CHECKING, Any

from itvrules import InputError, MissingExtra, RawRow, hookimpl
from itvrules.formats import CENT, arrow_cells, bill_arrow_schema, refuse_untyped_ids
from itvrules.hookspecs import ArrowFeed, TableSink

from . import _cells
from ._encoding import codec_name, seekable

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq



def _require_pyarrow(feature: str) -> None:
    """pyarrow comes with the columnar extra: without it, one line naming the extra."""
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise MissingExtra(feature, "columnar") from None


#: Rows read from the file at a time.
BATCH_ROWS = 16_384
#: Rows written per row group (and held in memory before they are).
ROW_GROUP_ROWS = 50_000
#: Bill export columns that repeat a handful of values: dictionary-encoded in the file.
_DICTIONARY = ("billing_month", "billing_cycle", "code", "package", "rule", "clause", "policy_id",
               "policy_version", "policy_hash", "source")
#: The largest yuan amount ``decimal128(12, 2)`` holds, plus a cent.
_MONEY_LIMIT = Decimal(10) ** 10


class ParquetReader:
    """Reads a Parquet file, a record batch at a time.

    Declares ``ArrowBatchReader``: ``open_arrow`` hands the file's record
    batches to the bulk Parquet path.
    """

    name = "parquet"
    extensions: Sequence[str] = (".parquet",)

    def open_arrow(self, path: str, source: str) -> ArrowFeed:
        """The Parquet file at ``path``, opened for its record batches."""
        _require_pyarrow("reading .parquet")
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return TextFeed(pq.ParquetFile(path), source)
        except (pa.ArrowException, OSError) as exc:
            raise InputError("(file)", path, f"not a readable Parquet file: {exc}",
                             source=source) from None

    def read(self, stream: IO[bytes], source: str, *, encoding: str | None = None) -> Iterator[RawRow]:
        _require_pyarrow("reading .parquet")
        import pyarrow as pa
        import pyarrow.parquet as pq

        with seekable(stream) as data:  # the footer is at the end: standard input is spooled first
            start = data.tell()
            if not data.read(1):
                raise InputError("(file)", None, "the file is empty", source=source)
            data.seek(start)
            try:
                feed = TextFeed(pq.ParquetFile(data), source)
            except (pa.ArrowException, OSError) as exc:
                raise InputError("(file)", None, f"not a readable Parquet file: {exc}",
                                 source=source) from None
            try:
                yield from _rows(feed, source)
            finally:
                feed.close()


class TextFeed:
    """A Parquet file whose binary columns are read as the UTF-8 text they hold.

    Some writers store text as plain bytes (no UTF-8 annotation); read as they
    are, those cells would reach a reject file as Python's ``b'...'``. Bytes
    that are not UTF-8 stop the run naming the column and row: no reading of
    them is safe.
    """

    def __init__(self, feed: pq.ParquetFile, source: str) -> None:
        import pyarrow as pa

        self._feed = feed
        self._source = source
        schema = feed.schema_arrow
        self._binary = {field.name for field in schema if _binary(field.type)}
        self.schema_arrow = pa.schema([field.with_type(pa.string()) if field.name in self._binary
                                       else field for field in schema]) if self._binary else schema

    @property
    def metadata(self) -> Any:
        return self._feed.metadata

    def iter_batches(self, batch_size: int = BATCH_ROWS,
                     columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        offset = 0
        for batch in self._feed.iter_batches(batch_size=batch_size, columns=columns):
            yield self._text(batch, offset) if self._binary else batch
            offset += batch.num_rows

    def _text(self, batch: pa.RecordBatch, offset: int) -> pa.RecordBatch:
        import pyarrow as pa

        arrays = []
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            if name in self._binary:
                try:
                    column = column.cast(pa.string())
                except pa.ArrowInvalid:
                    raise self._not_text(name, column, offset) from None
            arrays.append(column)
        return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)

    def _not_text(self, name: str, column: pa.Array, offset: int) -> InputError:
        at = next(at for at, cell in enumerate(column.to_pylist())
                  if cell is not None and not _utf8(cell))
        return InputError(name, None, f"the column holds bytes that are not UTF-8 text (row "
                          f"{offset + at + 1}): save it as a text (string) column", source=self._source)

    def close(self) -> None:
        self._feed.close()


def _binary(kind: pa.DataType) -> bool:
    import pyarrow as pa

    view = getattr(pa.types, "is_binary_view", None)
    return bool(pa.types.is_binary(kind) or pa.types.is_large_binary(kind)
                or pa.types.is_fixed_size_binary(kind) or (view is not None and view(kind)))


def _utf8(cell: bytes) -> bool:
    try:
        cell.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _rows(feed: TextFeed, source: str) -> Iterator[RawRow]:
    import pyarrow as pa

    header = _header(feed.schema_arrow.names, source)
    refuse_untyped_ids(feed.schema_arrow, source)
    row = 0
    try:
        for batch in feed.iter_batches(batch_size=BATCH_ROWS):
            columns = [cells(batch.column(i)) for i in range(batch.num_columns)]
            for values in zip(*columns, strict=True):
                row += 1
                yield RawRow(source, row, dict(zip(header, values, strict=True)), header)
    except (pa.ArrowException, OSError) as exc:
        raise InputError("(file)", None, f"not readable as Parquet after row {row}: {exc}",
                         source=source) from None


def _header(names: Sequence[str], source: str) -> tuple[str, ...]:
    header = tuple(name if name.strip() else f"(column {i})" for i, name in enumerate(names, 1))
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise InputError("(columns)", name, f"column {name!r} appears twice in the file",
                             source=source)
        seen.add(name)
    return header


def cells(column: pa.Array) -> list[Any]:
    """The Python cells of one column of a batch, as the row path reads them (see the module)."""
    return arrow_cells(column)


class ParquetWriter:
    """Writes a Parquet file: typed export columns, one row group per 50,000 rows.

    Declares ``ArrowTableWriter``: ``open_table`` writes the bulk Parquet
    path's tables, one row group each.
    """

    name = "parquet"
    extensions: Sequence[str] = (".parquet",)

    def open_table(self, stream: IO[bytes], schema: pa.Schema, *, kind: str) -> TableSink:
        """A Parquet file of ``schema`` on ``stream``; the bill export's layout is tuned (see below)."""
        _require_pyarrow("writing .parquet")
        import pyarrow.parquet as pq

        if _standard_output(stream):
            raise InputError("format", None, "Parquet is binary and is written to a file, not to "
                             "standard output (-): name the file, e.g. -o FILE.parquet")
        options: dict[str, Any] = {"compression": "zstd"}
        if kind == "bill":
            names = set(schema.names)
            options = {
                # zstd, but for the record ids: hex text halves under zstd at four times the cost.
                "compression": {n: "none" if n == "record_id" else "zstd" for n in schema.names},
                # columns that repeat a handful of values
                "use_dictionary": [n for n in _DICTIONARY if n in names],
                "column_encoding": ({"source_row": "DELTA_BINARY_PACKED"}  # 1, 2, 3...: a quarter
                                    if "source_row" in names else None),
                "write_statistics": [n for n in ("account_id", "amount_fen", "source_row") if n in names],
                "store_schema": False,  # readers see the plain types, not the dictionaries given
            }
        return pq.ParquetWriter(stream, schema, **options)  # type: ignore[no-any-return]

    def open(self, stream: IO[bytes], columns: Sequence[str], *, kind: str,
             encoding: str | None = None) -> ParquetSink:
        if encoding is not None and codec_name(encoding) != "utf-8":
            raise InputError("encoding", encoding, "Parquet text is always UTF-8")
        if _standard_output(stream):
            raise InputError("format", None,
                             "Parquet is binary and is written to a file, not to standard output "
                             "(-): name the file, e.g. -o FILE.parquet")
        _require_pyarrow("writing .parquet")
        return ParquetSink(stream, columns, _types(kind))


def _standard_output(stream: IO[bytes]) -> bool:
    """Whether ``stream`` is this process's standard output or a terminal."""
    outputs = [getattr(s, "buffer", s) for s in (sys.stdout, sys.__stdout__) if s is not None]
    if any(stream is out for out in outputs):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _types(kind: str) -> dict[str, pa.DataType]:
    """The Parquet type of each export column ``kind`` has; columns not named here are text."""
    import pyarrow as pa

    if kind == "bill":
        return {field.name: field.type for field in bill_arrow_schema()}
    if kind == "eligibility":
        return {"accepted_on": pa.date32(), "eligible": pa.bool_(), "review": pa.bool_(),
                "source_row": pa.int64()}
    if kind == "rejects":
        return {"source_row": pa.int64()}
    if kind == "workorders":
        return {"due": pa.date32()}
    return {}


def _check(kind: pa.DataType) -> tuple[Callable[[Any], Any], str] | None:
    """How a cell of a typed column is checked and converted, and what it must be; None for text."""
    import pyarrow as pa

    if pa.types.is_decimal(kind):
        return _money, "an amount in yuan with at most two decimals"
    if pa.types.is_integer(kind):
        return _whole, "a whole number"
    if pa.types.is_boolean(kind):
        return _flag, "true or false"
    if pa.types.is_date(kind):
        return _day, "a date"
    return None


def _money(value: Any) -> Decimal | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite() or abs(value) >= _MONEY_LIMIT:
        return None
    try:
        exact = value.quantize(CENT)
    except InvalidOperation:
        return None
    return exact if exact == value else None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _day(value: Any) -> date | None:
    return value if isinstance(value, date) and not isinstance(value, datetime) else None


class ParquetSink:
    """One open Parquet file; rows are buffered by column and written a row group at a time."""

    def __init__(self, stream: IO[bytes], columns: Sequence[str], types: Mapping[str, pa.DataType]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._columns = tuple(columns)
        self._schema = pa.schema([(name, types.get(name, pa.string())) for name in self._columns])
        checks = [(i, name, _check(self._schema.field(i).type))
                  for i, name in enumerate(self._columns)]
        self._typed = [(i, name, check) for i, name, check in checks if check is not None]
        self._text = [i for i, _name, check in checks if check is None]
        self._buffers: list[list[Any]] = [[] for _ in self._columns]
        self._pending = 0
        self._writer = pq.ParquetWriter(_Output(stream), self._schema, compression="zstd")

    def write(self, row: Mapping[str, Any]) -> None:
        values = [row.get(name) for name in self._columns]
        for i, name, (convert, expected) in self._typed:
            value = values[i]
            if value is not None:
                converted = convert(value)
                if converted is None:  # refused before any cell of the row is kept
                    raise InputError(name, value, f"the Parquet column {name!r} holds {expected}")
                values[i] = converted
        for i in self._text:
            value = values[i]
            if value is not None and type(value) is not str:
                values[i] = _cells.text(value)
        for buffer, value in zip(self._buffers, values, strict=True):
            buffer.append(value)
        self._pending += 1
        if self._pending >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if not self._pending:
            return
        arrays = [pa.array(buffer, type=field.type)
                  for buffer, field in zip(self._buffers, self._schema, strict=True)]
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self._schema))
        for buffer in self._buffers:
            buffer.clear()
        self._pending = 0

    def close(self) -> None:
        self._flush()
        self._writer.close()  # writes the footer; the stream is the caller's and stays open


class _Output:
    """The caller's stream as pyarrow writes to it.

    A run that stops halfway leaves its sink unclosed and closes (and deletes)
    the file under it; pyarrow then finishes the file when the sink is
    collected, and that last write must not raise into the interpreter's
    shutdown, so writes to a closed stream are dropped.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._at = 0

    @property
    def closed(self) -> bool:
        return False

    def write(self, data: bytes) -> int:
        if not self._stream.closed:
            self._stream.write(data)
        self._at += len(data)
        return len(data)

    def tell(self) -> int:
        return self._at

    def flush(self) -> None:
        if not self._stream.closed:
            self._stream.flush()

    def close(self) -> None:
        """The stream is the caller's: it stays open."""


@hookimpl
def itvrules_feed_readers() -> Sequence[ParquetReader]:
    return [ParquetReader()]


@hookimpl
def itvrules_export_writers() -> Sequence[ParquetWriter]:
    return [ParquetWriter()]
