"""A fixed-width legacy billing export for itvrules, as an installable plug-in.

Installed, it is found through the entry point ``fixedwidth`` in the group
``itvrules`` (see pyproject.toml) and adds the output format ``fixedwidth``
(extension ``.fw``) to ``itvrules bill``. The layout is in README.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import IO, Any

from itvrules import InputError, hookimpl

__version__ = "0.1.0"

ACCOUNT = 20
CODE = 24
AMOUNT = 10
LINE_END = b"\r\n"


def detail(row: Mapping[str, Any]) -> bytes:
    """The detail record of one bill row; an InputError when it does not fit the layout."""
    account = str(row["account_id"])
    if len(account) > ACCOUNT or not account.isascii():
        raise InputError("account_id", account,
                         f"does not fit the fixed-width layout (at most {ACCOUNT} ASCII characters)")
    month = str(row["billing_month"]).replace("-", "")
    code = str(row["code"])
    follow_up = "Y" if row.get("follow_up") else "N"
    text = (f"D{account:<{ACCOUNT}}{month:6}{code:<{CODE}}"
            f"{_fen(row['amount']):0{AMOUNT}d}{_fen(row['waived']):0{AMOUNT}d}{follow_up}")
    return text.encode("ascii")


def _fen(yuan: Any) -> int:
    fen = Decimal(str(yuan)) * 100
    if fen != fen.to_integral_value():
        raise InputError("amount", yuan, "not a whole number of fen")
    return int(fen)


class FixedWidthSink:
    """One open fixed-width file: detail records, then a trailer with count and total."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._count = 0
        self._total = 0

    def write(self, row: Mapping[str, Any]) -> None:
        record = detail(row)  # raises before anything is written
        self._stream.write(record + LINE_END)
        self._count += 1
        self._total += _fen(row["amount"])

    def close(self) -> None:
        self._stream.write(f"T{self._count:010d}{self._total:012d}".encode("ascii") + LINE_END)
        self._stream.flush()


class FixedWidthWriter:
    """The ``fixedwidth`` export format (bill runs only)."""

    name = "fixedwidth"
    extensions = (".fw",)

    def open(self, stream: IO[bytes], columns: Sequence[str], *, kind: str,
             encoding: str | None = None) -> FixedWidthSink:
        if kind != "bill":
            raise InputError("format", self.name, f"the fixed-width layout holds bills, not {kind}")
        if encoding is not None:
            raise InputError("encoding", encoding, "the fixed-width layout is always ASCII")
        return FixedWidthSink(stream)


@hookimpl
def itvrules_export_writers() -> Sequence[FixedWidthWriter]:
    return [FixedWidthWriter()]
