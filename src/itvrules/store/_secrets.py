"""Passwords kept out of every message: a ledger URL as shown, and a driver's words masked."""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, unquote, urlsplit

#: The ledger named when no URL is given (a plain file: nothing to mask).
_DEFAULT = "itvrules.db"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


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
        return _DEFAULT
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
