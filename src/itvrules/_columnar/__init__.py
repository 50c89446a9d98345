"""The columnar bill path: whole columns checked, decided and written at a time (docs/performance.md).

``run_bill(..., backend=...)`` picks it: ``"columnar"`` asks for it,
``"rows"`` for the row-at-a-time path, and ``"auto"`` (the default) takes it
whenever it can serve the run. It gives the same export bytes, rejects and
counts as the row path, because every row it is unsure of is decided by the
row path's own code (``_bill``).

It cannot serve runs whose plug-ins work per row (``itvrules_check_row``,
``itvrules_decision_row``, extra ``itvrules_decision_columns``) or that write
a format other than CSV or JSON Lines. ``auto`` also keeps to the built-in CSV
and JSON Lines readers, which it reads fastest; asked for explicitly, it reads
any format through its reader, deciding rows with non-text cells one by one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from itvrules_adapters.csv_io import CsvReader, CsvWriter
from itvrules_adapters.jsonl_io import JsonlReader, JsonlWriter

from .._pipeline import BACKENDS
from .._rows import BILL
from ._bill import bill_columnar

if TYPE_CHECKING:
    from .._pipeline import _Run

#: The built-in formats the columnar path writes, and those ``auto`` reads with it.
_WRITERS: tuple[type, ...] = (CsvWriter, JsonlWriter)
_READERS: tuple[type, ...] = (CsvReader, JsonlReader)


def obstacle(run: _Run, *, auto: bool) -> str | None:
    """Why the columnar path cannot serve ``run`` (or, with ``auto``, should not), or None."""
    from .._pipeline import BILL_COLUMNS

    if run.kind != BILL:
        return "it serves bill runs only"
    if run.check_row is not None or run.decision_row is not None:
        return "a plug-in checks or completes each row (itvrules_check_row, itvrules_decision_row)"
    if run.columns != BILL_COLUMNS:
        return "a plug-in adds export columns (itvrules_decision_columns)"
    if type(run.writer) not in _WRITERS:
        return f"the {run.writer.name} output format is written row by row"
    if auto:
        for feed, reader in run.feeds:
            if type(reader) not in _READERS:
                return f"{feed} is read as {reader.name}"
    return None


__all__ = ["BACKENDS", "bill_columnar", "obstacle"]
