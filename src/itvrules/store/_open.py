"""Which backend a ledger URL names; PostgreSQL's driver is imported only when asked for."""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, unquote

import attrs

from .._words import quoted
from ._protocol import Ledger, StoreError
from ._secrets import display_url as display_url  # where messages have always found it
from ._secrets import mask_secrets as mask_secrets

#: The ledger opened when no URL is given: a SQLite file in the current directory.
DEFAULT_PATH = "itvrules.db"
MEMORY = ":memory:"
#: The ``mode`` a ``sqlite://`` URL may ask for: read only, read-write (the file must exist),
#: read-write-create (the default).
SQLITE_MODES = ("ro", "rw", "rwc")

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
#: A libpq ``key=value`` connection string, which would otherwise be taken for a file name
#: (and create a file named with its password).
_CONNINFO = re.compile(r"(?is)\s*(?:\w+\s*=\s*(?:'(?:[^'\\]|\\.)*'|\S+)\s*)*"
                       r"(?:host|hostaddr|dbname|user|password|port)\s*=.*")
_SQLITE_FORMS = ("write sqlite:///relative/path.db, sqlite:////absolute/path.db or "
                 "sqlite://:memory:, optionally with ?mode=ro, ?mode=rw or ?mode=rwc")


@attrs.frozen
class SqliteTarget:
    """The file (or ``:memory:``) a SQLite URL names, and how it may be opened."""

    path: str
    mode: str = "rwc"

    @property
    def read_only(self) -> bool:
        return self.mode == "ro"


def sqlite_target(url: str) -> SqliteTarget:
    """Read a ``sqlite://`` URL as SQLAlchemy spells them; its query may only set ``mode``.

    ``sqlite:///rel/path.db`` is relative to the current directory,
    ``sqlite:////abs/path.db`` absolute, ``sqlite://:memory:`` (or
    ``sqlite://``) in memory; ``?mode=ro`` opens it read only. Any other
    query parameter is refused, so no file is ever created with ``?`` in its name.
    """
    rest, _, query = url[len("sqlite://"):].partition("?")
    mode = "rwc"
    for key, value in parse_qsl(query, keep_blank_values=True, separator="&"):
        if key != "mode":
            raise StoreError(f"SQLite URL {display_url(url)}: unknown parameter {quoted(key)}; "
                             f"{_SQLITE_FORMS}")
        if value not in SQLITE_MODES:
            raise StoreError(f"SQLite URL {display_url(url)}: mode must be ro, rw or rwc, "
                             f"not {quoted(value)}")
        mode = value
    if query and not parse_qsl(query, keep_blank_values=True):
        raise StoreError(f"SQLite URL {display_url(url)}: cannot read its query {quoted(query)}; "
                         f"{_SQLITE_FORMS}")
    rest = unquote(rest)
    if rest in ("", MEMORY, "/" + MEMORY):
        return SqliteTarget(MEMORY, "rwc")
    if not rest.startswith("/") or rest == "/":
        raise StoreError(f"cannot read SQLite URL {display_url(url)}: {_SQLITE_FORMS}")
    return SqliteTarget(rest[1:], mode)


def is_conninfo(text: str) -> bool:
    """Whether ``text`` is a libpq ``key=value`` connection string rather than a file name."""
    return _CONNINFO.fullmatch(text) is not None


def sqlite_path(url: str) -> str:
    """The file (or ``:memory:``) a ``sqlite://`` URL names (see ``sqlite_target``)."""
    return sqlite_target(url).path


def open_ledger(url: str | os.PathLike[str] | None = None, *, read_only: bool = False) -> Ledger:
    """Open the ledger at ``url``: created if needed, unless it is opened ``read_only``.

    None is ``itvrules.db`` in the current directory; a plain path or a
    ``sqlite://`` URL is SQLite (``?mode=ro`` opens it read only); ``postgresql://``
    (or ``postgres://``) is PostgreSQL through psycopg 3, which must be installed
    (``pip install 'itvrules[postgres]'``). A read-only SQLite ledger needs no
    write access to its file, and a write to it is a StoreError.
    """
    from ._sqlite import SqliteLedger

    if url is None:
        return SqliteLedger(DEFAULT_PATH, read_only=read_only)
    if not isinstance(url, str):
        return SqliteLedger(os.fspath(url), read_only=read_only)
    scheme = _SCHEME.match(url)
    if scheme is None:
        if not url:
            raise StoreError("an empty ledger URL names nothing; give a path or a URL")
        if is_conninfo(url):
            raise StoreError(f"{display_url(url)} is a PostgreSQL connection string, not a ledger "
                             "file: write it as postgresql://user:password@host:port/dbname")
        return SqliteLedger(url, read_only=read_only)
    name = scheme.group(1).lower()
    if name == "sqlite":
        target = sqlite_target(url)
        return SqliteLedger(target.path, read_only=read_only or target.read_only,
                            must_exist=target.mode == "rw")
    if name in ("postgresql", "postgres"):
        try:
            from ._postgres import PostgresLedger
        except ImportError as exc:
            raise StoreError(
                "a postgresql:// ledger needs psycopg 3: pip install 'itvrules[postgres]' "
                f"({exc})"
            ) from exc
        return PostgresLedger(url, read_only=read_only)
    raise StoreError(f"unknown ledger URL scheme {name} in {display_url(url)}: "
                     "use a path, sqlite://... or postgresql://...")
