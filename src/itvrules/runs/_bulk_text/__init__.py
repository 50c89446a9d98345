"""The columnar bill path: whole columns checked, decided and written at a time (docs/performance.md).

``run_bill(..., backend=...)`` picks it: ``"columnar"`` asks for it,
``"rows"`` for the row-at-a-time path, and ``"auto"`` (the default) takes it
whenever it can serve the run. It gives the same export bytes, rejects and
counts as the row path, because every row it is unsure of is decided by the
row path's own code (``_bill``).

It cannot serve runs whose plug-ins work per row (``itvrules_check_row``,
``itvrules_decision_row``, extra ``itvrules_decision_columns``) or whose
writer does not declare ``TextColumnsWriter`` (the built-in CSV and JSON
Lines writers do). ``auto`` also keeps to readers that declare
``TextBatchReader`` (read in bulk, as CSV is) or ``TextRowsReader`` (rows of
text grouped into columns, as JSON Lines is); asked for explicitly, it reads
any format through its reader, deciding rows with non-text cells one by one.
What a plug-in declares decides, never its class (``itvrules.hookspecs``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...hookspecs import FeedReader, TextBatchReader, TextColumnsWriter, TextRowsReader
from .._common import BACKENDS, BILL_COLUMNS
from .._rows import BILL
from ._bill import bill_columnar

if TYPE_CHECKING:
    from .._pipeline import _Run


def obstacle(run: _Run, *, auto: bool) -> str | None:
    """Why the columnar path cannot serve ``run`` (or, with ``auto``, should not), or None."""
    if run.kind != BILL:
        return "it serves bill runs only"
    if run.check_row is not None or run.decision_row is not None:
        return "a plug-in checks or completes each row (itvrules_check_row, itvrules_decision_row)"
    if run.columns != BILL_COLUMNS:
        return "a plug-in adds export columns (itvrules_decision_columns)"
    if not isinstance(run.writer, TextColumnsWriter):
        return f"the {run.writer.name} output format is written row by row"
    if auto:
        for feed, reader in run.feeds:
            if not reads_text(reader):
                return f"{feed} is read as {reader.name}"
    return None


def reads_text(reader: FeedReader) -> bool:
    """Whether ``reader`` declares text batches, or rows of text (``text_rows = True``)."""
    return isinstance(reader, TextBatchReader) or (
        isinstance(reader, TextRowsReader) and reader.text_rows is True)


__all__ = ["BACKENDS", "bill_columnar", "obstacle"]
