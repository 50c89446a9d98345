"""The ledger as the commands see it: ``--db``, the lifecycle projector, states replayed to a day.

Every state a command reports is replayed from the ledger's events to the
command's ``--as-of`` day; events dated after that day are not yet known on
it, so they are left out and the report reads as it would have on that day.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from itertools import groupby
from typing import TYPE_CHECKING, Any

from .._errors import ItvRulesError
from ._common import run_day

if TYPE_CHECKING:
    from ..lifecycle import EnrollmentState, Event
    from ..policy._policy import Policy
    from ..store import Ledger, Projector

DB_HELP = ("the ledger: a SQLite file or sqlite:///path.db, or postgresql://user@host/db "
           "(default: itvrules.db in the current folder)")


def ledger_option() -> argparse.ArgumentParser:
    """``--db URL``, shared by every command that reads or writes the ledger."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--db", metavar="URL", default=None, help=DB_HELP)
    return parent


def open_db(args: argparse.Namespace) -> Ledger:
    """The ledger ``--db`` names (created if it is a new SQLite file).

    A SQLite file that cannot be there (its folder missing, a folder by its
    name) fails as an ``OSError`` naming the path and what to do, not as
    SQLite's "unable to open database file".
    """
    from .._paths import unwritable
    from ..store import open_ledger

    path = sqlite_file(args.db)
    if path is not None and not os.path.isfile(path):
        problem = unwritable(path)
        if problem is not None:
            raise problem
    return open_ledger(args.db)


def sqlite_file(db: str | None) -> str | None:
    """The SQLite file ``--db`` names; None for a server or an in-memory ledger."""
    from ..store import DEFAULT_PATH
    from ..store._open import MEMORY, sqlite_path

    if db is None:
        return DEFAULT_PATH
    if db.startswith("sqlite:"):
        try:
            db = sqlite_path(db)
        except ItvRulesError:
            return None  # a malformed URL: open_ledger says what is wrong with it
    elif "://" in db:
        return None
    return None if db == MEMORY else db


def db_name(args: argparse.Namespace) -> str:
    """How a summary names the ledger."""
    from ..store import DEFAULT_PATH

    return str(args.db) if args.db is not None else DEFAULT_PATH


def as_of(args: argparse.Namespace) -> date:
    """``--as-of``, or today when it was not given."""
    day: date | None = getattr(args, "as_of", None)
    return day if day is not None else run_day()


def is_depot(account_id: str) -> bool:
    """Stock arrivals live on ``depot:<name>`` streams, which are no enrolments."""
    from ..operations import DEPOT_PREFIX

    return account_id.startswith(DEPOT_PREFIX)


def lifecycle_projector(policy: Policy, day: date, engine: str | None = None) -> Projector:
    """The projector every command stores: an account's state replayed to ``day``, as JSON."""
    from ..lifecycle import replay

    def project(account_id: str, events: Sequence[Event]) -> Mapping[str, Any]:
        if is_depot(account_id):
            return {"account_id": account_id, "depot": True}
        return replay(policy, events, as_of=day, engine=engine).to_dict()

    return project


def accounts_events(ledger: Ledger) -> Iterator[tuple[str, list[Event]]]:
    """Every enrolment account with its events (depot streams left out), streaming."""
    for account_id, events in groupby(ledger.events(), key=lambda e: e.account_id):
        if not is_depot(account_id):
            yield account_id, list(events)


def replayed_states(policy: Policy, ledger: Ledger, day: date,
                    engine: str | None = None) -> Iterator[EnrollmentState]:
    """The state on ``day`` of every enrolment accepted by then, from the events known by then."""
    from ..lifecycle import EventKind, replay

    for _account, events in accounts_events(ledger):
        known = [e for e in events if e.on <= day]
        if any(e.kind == EventKind.ACCEPTED for e in known):
            yield replay(policy, known, as_of=day, engine=engine)
