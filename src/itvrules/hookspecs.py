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
    cell, text for CSV and JSONL, and the cell's own type for XLSX (dates, numbers).
    ``row`` is the 1-based line or sheet row, header included, as a person opening
    the file would count it.
    """

    source: str
    row: int
    values: Mapping[str, Any]


class FeedReader(Protocol):
    """Reads one feed format. Readers stream: they never hold the whole file."""

    #: short name used by ``--format``, e.g. ``"csv"``
    name: str
    #: file extensions it reads, lower case with the dot, e.g. ``(".csv",)``
    extensions: Sequence[str]

    def read(self, stream: IO[bytes], source: str, *, encoding: str | None = None) -> Iterator[RawRow]:
        """Yield the rows of ``stream``; ``source`` names it in errors and rejects.

        Raise :class:`itvrules.InputError` (field ``(file)``) for a file that cannot be
        read at all: unknown encoding, not a spreadsheet, empty.
        """
        ...


class RowSink(Protocol):
    """An open export: rows go in one at a time; ``close`` finishes the file."""

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
        shape each differently (a TMF678 bill, say).
        """
        ...


@hookspec
def itvrules_feed_readers() -> Sequence[FeedReader]:
    """Return the feed readers this plug-in provides.

    Called once when the plugin manager is built. A reader is chosen by the
    ``--format`` name or else by the file's extension; a later-registered plug-in
    wins over a built-in for the same name.
    """


@hookspec
def itvrules_export_writers() -> Sequence[ExportWriter]:
    """Return the export writers this plug-in provides (chosen like readers)."""


@hookspec
def itvrules_decision_columns(kind: str) -> Sequence[str]:
    """Return extra column names this plug-in adds to ``kind`` rows (``"bill"`` or ``"eligibility"``).

    Declared up front so a writer knows every column before the first row.
    """


@hookspec
def itvrules_decision_row(kind: str, row: dict[str, Any], decision: Any, policy: Policy) -> None:
    """Add or change cells of one output ``row`` in place, given its ``decision``.

    Called for every decided row after the built-in columns are filled.
    Raise :class:`itvrules.InputError` to reject the row instead (it goes to the
    rejects with the message).
    """


@hookspec
def itvrules_check_row(kind: str, raw: RawRow, record: Any) -> None:
    """Check a parsed input ``record`` (Subscriber or Enrollment) read from ``raw``.

    Raise :class:`itvrules.InputError` to reject the row; return nothing to accept it.
    """


@hookspec(firstresult=True)
def itvrules_billing_cycle(month: str) -> str | None:
    """Return the billing system's cycle id for ``month`` (``"YYYY-MM"``), or None.

    The first plug-in to answer wins; without one the export's ``billing_cycle``
    column is ``YYYYMM``.
    """
