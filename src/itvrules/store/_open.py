"""Which backend a ledger URL names; PostgreSQL's driver is imported only when asked for."""

from __future__ import annotations

import os
import re

from ._protocol import Ledger, StoreError

#: The ledger opened when no URL is given: a SQLite file in the current directory.
DEFAULT_PATH = "itvrules.db"
MEMORY = ":memory:"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def sqlite_path(url: str) -> str:
    """The file (or ``:memory:``) a ``sqlite://`` URL names, as SQLAlchemy spells them.

    ``sqlite:///rel/path.db`` is relative to the current directory,
    ``sqlite:////abs/path.db`` absolute, ``sqlite://:memory:`` (or
    ``sqlite://``) in memory.
    """
    rest = url[len("sqlite://"):]
    if rest in ("", MEMORY, "/" + MEMORY):
        return MEMORY
    if not rest.startswith("/") or rest == "/":
        raise StoreError(f"cannot read SQLite URL {url}: write sqlite:///relative/path.db, "
                         "sqlite:////absolute/path.db or sqlite://:memory:")
    return rest[1:]


_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/@:]*):[^/@]*@")


def display_url(url: str | os.PathLike[str] | None) -> str:
    """``url`` as messages show it: a password in a server URL is masked as ``***``."""
    if url is None:
        return DEFAULT_PATH
    text = os.fspath(url)
    text = _PASSWORD.sub(r"\1:***@", text)
    return re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", text)


def open_ledger(url: str | os.PathLike[str] | None = None) -> Ledger:
    """Open (creating if needed) the ledger at ``url``.

    None is ``itvrules.db`` in the current directory; a plain path or a
    ``sqlite://`` URL is SQLite; ``postgresql://`` (or ``postgres://``) is
    PostgreSQL through psycopg 3, which must be installed
    (``pip install 'itvrules[postgres]'``).
    """
    from ._sqlite import SqliteLedger

    if url is None:
        return SqliteLedger(DEFAULT_PATH)
    if not isinstance(url, str):
        return SqliteLedger(os.fspath(url))
    scheme = _SCHEME.match(url)
    if scheme is None:
        if not url:
            raise StoreError("an empty ledger URL names nothing; give a path or a URL")
        return SqliteLedger(url)
    name = scheme.group(1).lower()
    if name == "sqlite":
        return SqliteLedger(sqlite_path(url))
    if name in ("postgresql", "postgres"):
        try:
            from ._postgres import PostgresLedger
        except ImportError as exc:
            raise StoreError(
                "a postgresql:// ledger needs psycopg 3: pip install 'itvrules[postgres]' "
                f"({exc})"
            ) from exc
        return PostgresLedger(url)
    raise StoreError(f"unknown ledger URL scheme {name} in {display_url(url)}: "
                     "use a path, sqlite://... or postgresql://...")
