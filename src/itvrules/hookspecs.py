# mypy: disable-error-code="empty-body"
"""Every plug-in hook itvrules calls, in one place.

A plug-in is a module or object with functions named like the hooks below,
decorated with :data:`hookimpl`, and registered under the entry-point group
``itvrules``. The built-in readers and writers in the ``itvrules_adapters``
package register through these same hooks. Each hook is documented in
docs/adapters.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, Protocol

import attrs
import pluggy

from ._errors import InputError

if TYPE_CHECKING:
    from ._policy import Policy

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
        do not close it. Raise :class:`itvrules.InputError` (field ``(file)``) for
        a file that cannot be read at all: unknown encoding, not a spreadsheet,
        empty. A single bad record is not such a file: yield it with ``error`` set.
        """
        ...


class RowSink(Protocol):
    """An open export: rows go in one at a time; ``close`` finishes the file.

    ``row`` maps column names to Python values: ``str``, ``int``, ``bool``,
    ``Decimal`` (yuan), ``datetime.date`` or ``None``; the sink renders them in its
    format. ``write`` may raise :class:`itvrules.InputError` to refuse a row it
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
        :class:`itvrules.InputError` naming it.
        """
        ...


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

    Called like :func:`itvrules_feed_readers`, and writers are chosen the same
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
    before the row is written; ``decision`` is a :class:`itvrules.FeeDecision`
    (``kind="bill"``) or an :class:`itvrules.Eligibility`. Raise
    :class:`itvrules.InputError` to reject the row instead (it goes to the
    rejects with the message).
    """


@hookspec
def itvrules_check_row(kind: str, raw: RawRow, record: Any) -> None:
    """Check a parsed input ``record`` (Subscriber or Enrollment) read from ``raw``.

    Called for every row that parsed cleanly, before it is decided: an
    :class:`itvrules.Enrollment` for ``kind="bill"``, a
    :class:`itvrules.Subscriber` for ``"eligibility"`` (its acceptance date is in
    ``raw``). Raise :class:`itvrules.InputError` to reject the row; return
    nothing to accept it.
    """


@hookspec(firstresult=True)
def itvrules_billing_cycle(month: str) -> str | None:
    """Return the billing system's cycle id for ``month`` (``"YYYY-MM"``), or None.

    Called once per bill run. The first plug-in to answer wins; without one
    the export's ``billing_cycle`` column is ``YYYYMM``.
    """
