"""The ledger as the commands see it: ``--db``, the lifecycle projector, states replayed to a day.

Every state a command reports is replayed from the ledger's events to the
command's ``--as-of`` day; events dated after that day are not yet known on
it, so they are left out and the report reads as it would have on that day.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import date
from itertools import groupby
from typing import TYPE_CHECKING, Any

from .._errors import ItvRulesError
from ._common import run_day

if TYPE_CHECKING:
    from ..lifecycle import EnrollmentState, Event
    from ..policy._policy import Policy
    from ..store import Ledger, Projector

#: The environment variable that names the ledger when ``--db`` is not given.
DB_ENV = "ITVRULES_DB"
DB_HELP = ("the ledger: a SQLite file or sqlite:///path.db, or postgresql://user@host/db "
           f"(default: ${DB_ENV}, else itvrules.db in the current folder)")
#: What SQLite may leave beside a ledger file: write-ahead log, shared memory, rollback journal.
SIDE_FILES = ("-wal", "-shm", "-journal")


def ledger_option() -> argparse.ArgumentParser:
    """``--db URL``, shared by every command that reads or writes the ledger."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--db", metavar="URL", default=None, help=DB_HELP)
    return parent


def db_url(args: argparse.Namespace) -> str:
    """The ledger a command works on: ``--db``, else ``$ITVRULES_DB``, else ``itvrules.db``."""
    from ..store import DEFAULT_PATH

    if args.db is not None:
        return str(args.db)
    return os.environ.get(DB_ENV) or DEFAULT_PATH


def open_db(args: argparse.Namespace, *, create: bool = False, write: bool = False) -> Ledger:
    """The ledger the command names; only a command that may start one (``create``) creates it.

    A read-only command given a SQLite file that does not exist stops with an
    error instead of creating an empty ledger and reporting zero work; one that
    neither creates nor ``write``s opens the ledger read only, so a ledger file
    it may not write (a colleague's, a copy on read-only media) can still be read.
    """
    from .._paths import unwritable
    from ..store import StoreError, open_ledger

    url = db_url(args)
    path = sqlite_file(url)
    if path is not None and not os.path.isfile(path):
        # a SQLite file that cannot be there (its folder missing, a folder by its name) fails as
        # an OSError naming the path and what to do, not as SQLite's "unable to open database file"
        problem = unwritable(path)
        if problem is not None:
            raise problem
        if not create:
            origin = f" (from {DB_ENV})" if args.db is None and os.environ.get(DB_ENV) else ""
            raise StoreError(f"no ledger at {path}{origin}: check the path, or run "
                             f"`itvrules ingest FEED --db {path}` first to create one")
    return open_ledger(url, read_only=not (create or write))


@contextmanager
def new_ledger_removed_on_failure(args: argparse.Namespace) -> Iterator[None]:
    """Remove the SQLite ledger file (and its side files) if this run created it and then failed.

    A failed first ingest must not leave an empty ledger behind that later
    commands would read as "no work".
    """
    path = sqlite_file(db_url(args))
    new = path is not None and not os.path.exists(path)
    try:
        yield
    except BaseException:
        if new and path is not None:
            for name in (path, *(path + side for side in SIDE_FILES)):
                with suppress(FileNotFoundError):
                    os.unlink(name)
        raise


def sqlite_file(db: str | None) -> str | None:
    """The SQLite file ``--db`` names; None for a server or an in-memory ledger."""
    from ..store import DEFAULT_PATH
    from ..store._open import MEMORY, is_conninfo, sqlite_path

    if db is None:
        return DEFAULT_PATH
    if is_conninfo(db):
        return None  # open_ledger says how to write it as a URL
    if db.startswith("sqlite:"):
        try:
            db = sqlite_path(db)
        except ItvRulesError:
            return None  # a malformed URL: open_ledger says what is wrong with it
    elif "://" in db:
        return None
    return None if db == MEMORY else db


def db_name(args: argparse.Namespace) -> str:
    """How a summary names the ledger: a server URL's password is masked."""
    from ..store._open import display_url

    return display_url(db_url(args))


def as_of(args: argparse.Namespace) -> date:
    """``--as-of``, or today when it was not given."""
    day: date | None = getattr(args, "as_of", None)
    return day if day is not None else run_day()


def checked_day(ledger: Ledger, day: date, option: str = "--as-of") -> date:
    """``day`` if a replay to it is bounded: at most AS_OF_DAYS past the later of today and the
    ledger's last event; else ``itvrules.LimitExceeded``, before anything is replayed.

    Replaying to a far day (``--as-of 9999-12-31``) builds every month up to it
    for every account; the ledger's last event, or today when that is later
    (a first ingest into an empty ledger), is the latest day anyone has data for.
    """
    from .._limits import AS_OF_DAYS

    last = ledger.last_day()
    anchor = max(run_day(), last) if last is not None else run_day()
    AS_OF_DAYS.check((day - anchor).days, f"{option} {day.isoformat()}")
    return day


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
