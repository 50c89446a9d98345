# mypy: disable-error-code="empty-body"
"""Every plug-in hook itvrules calls, in one place.

A plug-in is a module or object with functions named like the hooks below,
decorated with ``hookimpl``, and registered under the entry-point group
``itvrules``. The built-in readers and writers in the ``itvrules_adapters``
package register through these same hooks. Each hook is documented in
docs/adapters.md.

A reader or writer may also declare a *capability* (the protocols in
``CAPABILITIES``): an optional method that hands over or takes whole batches,
or binds a writer to the run's policy. A bill run takes a bulk path when its
readers and writer declare what that path needs, whoever wrote them, and
falls back to rows otherwise; it never looks at a plug-in's class. Each
capability is documented in docs/adapters.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs
import pluggy

from ._errors import InputError

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

    from .policy._policy import Policy

PROJECT = "itvrules"

hookspec = pluggy.HookspecMarker(PROJECT)
#: Decorate your hook implementations with this.
hookimpl = pluggy.HookimplMarker(PROJECT)


@attrs.frozen
class RawRow:
    """One input record as read, before any parsing: where it came from and its cells.

    ``values`` maps the header as written in the file (English or Chinese) to the
    cell, text for CSV, the JSON value for JSONL, and the cell's own type for XLSX
    (dates, numbers). ``row`` is the 1-based line or sheet row, header included, as
    a person opening the file would count it.

    ``columns`` is the header the row was read under, the same tuple object for
    every row of one file or sheet, so the pipeline checks it once per header: a
    missing required column then stops the run. Formats without a fixed header
    (JSONL) leave it ``None`` and each row is checked on its own.

    ``error`` is set when the reader already knows the row cannot be decided (a
    line that is not JSON, a row cut short): the row goes to the rejects with
    that error and is counted, never dropped. Blank rows and total rows (合计)
    are yielded as read, without an error: the pipeline skips and counts them.
    """

    source: str
    row: int
    values: Mapping[str, Any]
    columns: tuple[str, ...] | None = None
    error: InputError | None = None


class FeedReader(Protocol):
    """Reads one feed format. Readers stream: they never hold the whole file."""

    #: short name used by ``--format``, e.g. ``"csv"``
    name: str
    #: file extensions it reads, lower case with the dot, e.g. ``(".csv",)``
    extensions: Sequence[str]

    def read(self, stream: IO[bytes], source: str, *, encoding: str | None = None) -> Iterator[RawRow]:
        """Yield the rows of ``stream``; ``source`` names it in errors and rejects.

        ``stream`` may be unseekable (standard input) and belongs to the caller:
        do not close it. Raise ``itvrules.InputError`` (field ``(file)``) for
        a file that cannot be read at all: unknown encoding, not a spreadsheet,
        empty. A single bad record is not such a file: yield it with ``error`` set.
        """
        ...


class RowSink(Protocol):
    """An open export: rows go in one at a time; ``close`` finishes the file.

    ``row`` maps column names to Python values: ``str``, ``int``, ``bool``,
    ``Decimal`` (yuan), ``datetime.date`` or ``None``; the sink renders them in its
    format. ``write`` may raise ``itvrules.InputError`` to refuse a row it
    cannot represent (an account too long for a fixed-width field, say) before
    writing any of it: the pipeline sends that row to the rejects instead.
    ``close`` finishes the format (a closing bracket, the zip directory) but never
    closes the underlying stream, which belongs to the caller.
    """

    def write(self, row: Mapping[str, Any]) -> None: ...

    def close(self) -> None: ...


class ExportWriter(Protocol):
    """Writes one export format (decisions, eligibility results or rejects)."""

    name: str
    extensions: Sequence[str]

    def open(self, stream: IO[bytes], columns: Sequence[str], *, kind: str,
             encoding: str | None = None) -> RowSink:
        """Start writing rows with ``columns`` to ``stream``.

        ``kind`` is ``"bill"``, ``"eligibility"`` or ``"rejects"``, so a format can
        shape each differently (a TMF678 bill, say); a writer that cannot write a
        kind, or is given an ``encoding`` it does not write, raises
        ``itvrules.InputError`` naming it.
        """
        ...


# -- capabilities: what a reader or writer can do in bulk ---------------------------------------------


@attrs.frozen
class TextBatch:
    """Records of one feed read in one go, with their cells as whole columns of text.

    ``size`` counts every row ``read`` would yield for the batch's records
    (blank and total rows too), each with a *seq* that grows in reading
    order. Records read
    cleanly under ``header`` are *regular*: ``cells`` has one text column per
    header name and one row per regular record, ``seqs`` and ``rows`` their seq
    and their ``RawRow.row``, and ``raw_of(i)`` the ``RawRow`` that ``read``
    would give for the i-th of them (the run asks for it only for the few rows
    it decides one at a time). The other records (a shifted row, say) are in
    ``irregular`` as (seq, ``RawRow``), exactly as ``read`` yields them. A blank
    or total row may be either: the run takes such rows out of the columns
    itself and skips and counts them as the row path does.
    """

    source: str
    header: tuple[str, ...]
    size: int
    cells: pl.DataFrame
    seqs: pl.Series
    rows: pl.Series
    irregular: tuple[tuple[int, RawRow], ...]
    raw_of: Callable[[int], RawRow]


@runtime_checkable
class TextBatchReader(Protocol):
    """Capability of a reader: it hands over whole batches of text cells (the columnar bill path).

    Declared by having ``read_text_batches``. A bill run on the ``columnar``
    or ``auto`` backend then reads the feed with it instead of ``read`` and
    checks and decides each batch in bulk; the built-in CSV reader has it.
    The batches must hold the same records, rows and errors as ``read``
    yields, and raise the same ``itvrules.InputError`` for a file that
    cannot be read, so both paths write the same export and rejects.
    """

    def read_text_batches(self, stream: IO[bytes], source: str, *,
                          encoding: str | None = None) -> Iterator[TextBatch]:
        """Yield the batches of ``stream`` (which, as for ``read``, the caller closes)."""
        ...


@runtime_checkable
class TextRowsReader(Protocol):
    """Capability of a reader: the cells its ``read`` yields are text (or ``None``) nearly always.

    Declared by a class attribute ``text_rows = True``. The ``auto`` backend
    then takes the columnar bill path for the feed too: rows whose cells are
    all text are grouped into columns and checked in bulk, the others (a
    number, a date) decided one at a time, as the built-in JSON Lines reader
    is read. Without a declaration (or a ``TextBatchReader``) ``auto`` keeps
    the feed to the row path; ``columnar`` asked for reads any reader so.
    """

    text_rows: bool


class ArrowFeed(Protocol):
    """An open feed of Arrow record batches, shaped like ``pyarrow.parquet.ParquetFile``.

    ``schema_arrow.names`` is its header, ``metadata.num_rows`` its number of
    rows; ``iter_batches`` reads it from the first row, all columns or those
    named, and may be called more than once (the run reads the account column
    first to find repeated accounts).
    """

    @property
    def schema_arrow(self) -> pa.Schema: ...

    @property
    def metadata(self) -> Any: ...

    def iter_batches(self, batch_size: int = ...,
                     columns: list[str] | None = ...) -> Iterator[pa.RecordBatch]: ...

    def close(self) -> None: ...


@runtime_checkable
class ArrowBatchReader(Protocol):
    """Capability of a reader: it opens a feed file as Arrow record batches (the Parquet bill path).

    Declared by having ``open_arrow``. A bill run of one such feed, read from
    a file, to a writer that declares ``ArrowTableWriter`` is then
    checked, decided and written a batch of Arrow columns at a time; the
    built-in Parquet reader has it. Cells are read as the row path reads
    ``read``'s values (``itvrules.formats.arrow_cells``).
    """

    def open_arrow(self, path: str, source: str) -> ArrowFeed:
        """Open the file at ``path``; an ``itvrules.InputError`` (field ``(file)``) if unreadable."""
        ...


class TextColumnsSink(Protocol):
    """An open text export that takes many rendered rows at a time (see ``TextColumnsWriter``).

    The run renders most of a line once per distinct decision (``template``)
    and the cells that differ per row as column expressions; each method must
    spell a cell exactly as the writer's ``RowSink.write`` would, byte for byte.
    """

    def template(self, row: Mapping[str, Any], slots: Sequence[str]) -> list[str]:
        """The line of ``row`` cut around the cells of ``slots``: ``len(slots) + 1`` segments."""
        ...

    def text_cells(self, values: pl.Expr) -> pl.Expr:
        """Text cells (str values) as this format writes them."""
        ...

    def number_cells(self, values: pl.Expr) -> pl.Expr:
        """Integer cells as this format writes them."""
        ...

    def id_cells(self, values: pl.Expr) -> pl.Expr:
        """Record ids (hex digits and dashes) as this format writes them."""
        ...

    def write_lines(self, lines: pl.LazyFrame) -> None:
        """Write the rendered lines (one column, each line with its end), in order."""
        ...

    def close(self) -> None:
        """Finish the format; the stream stays open (it is the caller's)."""
        ...


@runtime_checkable
class TextColumnsWriter(Protocol):
    """Capability of a writer: it takes whole columns of rendered text (the columnar bill path).

    Declared by having ``open_text_columns``, which takes the arguments of
    ``open`` and returns a ``TextColumnsSink``. A bill run on the
    ``columnar`` or ``auto`` backend then writes the export in bulk; the
    built-in CSV and JSON Lines writers have it.
    """

    def open_text_columns(self, stream: IO[bytes], columns: Sequence[str], *, kind: str,
                          encoding: str | None = None) -> TextColumnsSink:
        """Start writing lines of ``columns`` to ``stream``, as ``open`` would start the file."""
        ...


class TableSink(Protocol):
    """An open export that takes Arrow tables; ``close`` finishes the file, not the stream."""

    def write_table(self, table: pa.Table) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class ArrowTableWriter(Protocol):
    """Capability of a writer: it writes Arrow tables (the Parquet bill path, and its rejects).

    Declared by having ``open_table``. ``schema`` is that of every table to
    come: for ``kind="bill"`` the columns of ``BILL_COLUMNS`` with the types of
    ``itvrules.formats.bill_arrow_schema()`` (text columns that repeat a few
    values may come dictionary-encoded); for ``"rejects"`` text cells. The
    built-in Parquet writer has it.
    """

    def open_table(self, stream: IO[bytes], schema: pa.Schema, *, kind: str) -> TableSink:
        """Start a file of ``kind`` rows with ``schema`` on ``stream``."""
        ...


@runtime_checkable
class PolicyBoundWriter(Protocol):
    """Capability of a writer: what it writes depends on the run's policy (a tax split, say).

    Declared by having ``for_policy``. A run looks its output formats up, then
    asks such a writer for one bound to its policy and uses that one for all it
    writes (the export and the rejects) on the row path and any bulk path. The
    writer reads the policy through its public attributes (``policy.tax_rate``,
    ``policy.id``); the built-in TMF678 writer has it.
    """

    def for_policy(self, policy: Policy) -> ExportWriter:
        """This format's writer for a run of ``policy`` (a new object; ``self`` is unchanged)."""
        ...


#: The capabilities a reader or writer may declare, each documented in docs/adapters.md.
CAPABILITIES = (TextBatchReader, TextRowsReader, ArrowBatchReader, TextColumnsWriter,
                ArrowTableWriter, PolicyBoundWriter)


@hookspec
def itvrules_feed_readers() -> Sequence[FeedReader]:
    """Return the feed readers this plug-in provides.

    Called whenever itvrules looks up input formats: when a run picks the
    reader for a feed, and by ``itvrules plugins``. A reader is chosen by the
    ``--format`` name or else by the file's extension (the longest matching one);
    a later-registered plug-in wins over a built-in for the same name.
    """


@hookspec
def itvrules_export_writers() -> Sequence[ExportWriter]:
    """Return the export writers this plug-in provides.

    Called like ``itvrules_feed_readers``, and writers are chosen the same
    way, for the decisions output and for the rejects output alike.
    """


@hookspec
def itvrules_decision_columns(kind: str) -> Sequence[str]:
    """Return extra column names this plug-in adds to ``kind`` rows (``"bill"`` or ``"eligibility"``).

    Called once per run, before the output is opened, so a writer knows every
    column before the first row. A name already taken by a built-in column or
    an earlier plug-in is not added twice.
    """


@hookspec
def itvrules_decision_row(kind: str, row: dict[str, Any], decision: Any, policy: Policy) -> None:
    """Add or change cells of one output ``row`` in place, given its ``decision``.

    Called for every decided row after the built-in columns are filled and
    before the row is written; ``decision`` is a ``itvrules.FeeDecision``
    (``kind="bill"``) or an ``itvrules.Eligibility``. Raise
    ``itvrules.InputError`` to reject the row instead (it goes to the
    rejects with the message).
    """


@hookspec
def itvrules_check_row(kind: str, raw: RawRow, record: Any) -> None:
    """Check a parsed input ``record`` (Subscriber or Enrollment) read from ``raw``.

    Called for every row that parsed cleanly, before it is decided: an
    ``itvrules.Enrollment`` for ``kind="bill"``, a
    ``itvrules.Subscriber`` for ``"eligibility"`` (its acceptance date is in
    ``raw``). Raise ``itvrules.InputError`` to reject the row; return
    nothing to accept it.
    """


@hookspec(firstresult=True)
def itvrules_billing_cycle(month: str) -> str | None:
    """Return the billing system's cycle id for ``month`` (``"YYYY-MM"``), or None.

    Called once per bill run. The first plug-in to answer wins; without one
    the export's ``billing_cycle`` column is ``YYYYMM``.
    """
