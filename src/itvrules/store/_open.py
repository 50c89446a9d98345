"""Which backend a ledger URL names; PostgreSQL's driver is imported only when asked for."""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, unquote, urlsplit

import attrs

from .._words import quoted
from ._protocol import Ledger, StoreError

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
    """The file (or ``:memory:``) a ``sqlite://`` URL names (see :func:`sqlite_target`)."""
    return sqlite_target(url).path


def password_of(url: str | os.PathLike[str] | None) -> str | None:
    """The password a server URL (or ``key=value`` connection string) carries, if any."""
    if url is None or not isinstance(url, str) or not url:
        return None
    found: str | None = None
    if _SCHEME.match(url):
        try:
            parts = urlsplit(url)
            found = parts.password
            for key, value in parse_qsl(parts.query, keep_blank_values=True):
                if key.lower() == "password":
                    found = value
        except ValueError:
            found = None
    else:
        match = re.search(r"(?i)(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", url)
        if match:
            found = match.group(1).strip("'")
    return unquote(found) if found else None


def mask_secrets(text: str, url: str | os.PathLike[str] | None) -> str:
    """``text`` with the password of ``url`` (as written and percent-decoded) replaced by ``***``.

    A driver's own error message may quote the connection string; masking the
    words themselves, not only the URL the code prints, keeps the secret out of
    every message built from them.
    """
    if url is None or not isinstance(url, str):
        return text
    secrets: set[str] = set()
    password = password_of(url)
    if password:
        secrets.add(password)
    raw = re.search(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*:([^/?#]*)@", url)
    if raw and raw.group(1):
        secrets.add(raw.group(1))
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def display_url(url: str | os.PathLike[str] | None) -> str:
    """``url`` as messages show it: the password of a server URL (in its user part, a
    ``password=`` parameter or a ``key=value`` string) is masked as ``***``."""
    if url is None:
        return DEFAULT_PATH
    text = os.fspath(url)
    scheme = _SCHEME.match(text)
    if scheme is not None:
        start = scheme.end()
        # a password may hold an unescaped / or @: its user part ends at the last @ before the query
        end = min((i for i in (text.find(c, start) for c in "?#") if i >= 0), default=len(text))
        userinfo, at, host = text[start:end].rpartition("@")
        if at and ":" in userinfo:
            user = userinfo.partition(":")[0]
            text = f"{text[:start]}{user}:***@{host}{text[end:]}"
    text = re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", text)
    return re.sub(r"(?i)((?:^|\s)password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", text)


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
