"""The append-only event ledger, with per-account projections.

SQLite is the embedded default; PostgreSQL (psycopg 3) for a shared server::

    from itvrules.store import open_ledger
    with open_ledger("sqlite:///itvrules.db") as ledger:
        ledger.append(events, projector=my_projector)
"""

from __future__ import annotations

from ._open import DEFAULT_PATH, open_ledger
from ._protocol import AppendResult, Ledger, Projector, StoreError

__all__ = ["DEFAULT_PATH", "AppendResult", "Ledger", "Projector", "StoreError", "open_ledger"]
