"""What the row path and the bulk paths of a run share, below all of them in the import order.

The export's columns, the run's summary, record ids, and how a row's account
and a reject's wording are settled: ``_pipeline`` (rows), ``_columnar``
and ``_parquet`` (bulk) and the bulk checks all use these, so none of them
needs to import another to give the same answer.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from operator import itemgetter
from typing import TYPE_CHECKING

import attrs

from .._errors import InputError
from .._words import quoted
from ..contract import quoted as quoted_text
from ..hookspecs import RawRow
from ._rows import ColumnMap, HeaderMap, cell_value, header_of

if TYPE_CHECKING:
    import pluggy

BILL_COLUMNS = (
    "record_id", "account_id", "billing_month", "billing_cycle", "code", "gross", "waived",
    "amount", "amount_fen", "package", "follow_up", "rule", "clause", "policy_id",
    "policy_version", "policy_hash", "source", "source_row",
)
ELIGIBILITY_COLUMNS = (
    "account_id", "accepted_on", "eligible", "segment", "reason", "review", "rule", "clause",
    "policy_id", "policy_version", "policy_hash", "source", "source_row",
)
#: Namespace of record ids: uuid5(NAMESPACE_URL, "https://itvrules.example/billing-record").
RECORD_NAMESPACE = uuid.UUID("0ba11883-17b5-59e9-beef-77cc6447037c")
STDIN_SOURCE = "<stdin>"
#: How a bill run goes through its rows: see ``run_bill``.
BACKENDS = ("auto", "rows", "columnar")


@attrs.frozen
class RunSummary:
    """What a run did: rows read, decided, rejected and skipped, where the outputs went, how
    each source's headers were mapped (printed by the command line), and how many
    rows were charged from a placeholder tariff.

    ``rows_in == decided + rejected + skipped``: skipped rows are blank rows and
    total rows (合计/小计), which are not records.
    """

    rows_in: int
    decided: int
    rejected: int
    output: str  # where decisions went ("-" for stdout)
    rejects: str | None  # where rejects went (a bill or eligibility run always writes them)
    skipped: int = 0
    headers: tuple[HeaderMap, ...] = ()
    #: rows a bill charged (an amount above 0) from a tariff the policy marks a placeholder,
    #: by package code; empty when none was, and for an eligibility run
    placeholder_charges: Mapping[str, int] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        """The end of every run, on every path: no row may be lost between reading and writing."""
        if self.rows_in != self.decided + self.rejected + self.skipped:
            raise RuntimeError(f"lost rows: {self.rows_in} read, {self.decided} decided, "
                               f"{self.rejected} rejected, {self.skipped} skipped")


#: What a record id hashes: these export columns, in this order, a null as "", joined by
#: ``RECORD_SEPARATOR``. ``record_id`` and the Spark export (``_spark_frames.record_digest``)
#: both read this, so a change to the id's parts changes every path alike.
RECORD_ID_PARTS = ("policy_id", "policy_version", "account_id", "billing_month")
RECORD_SEPARATOR = "\x1f"
#: The charge a line bills, the last part of its record id: the iTV monthly charge (the shipped
#: policy bills one item a month). Never the decision code or the amount, so a re-run
#: on a corrected feed gives the same id with the new decision and an upsert replaces the line.
CHARGE_ITEM = "itv"


def record_id(policy_id: str, policy_version: str, account_id: str, month: str) -> str:
    """The stable id of one export row: policy, version, account, month and charge item."""
    cells = {"policy_id": policy_id, "policy_version": policy_version, "account_id": account_id,
             "billing_month": month}
    return record_id_of(cells)


def record_tail(month: str) -> str:
    """What follows the account in a record id's name, for the bulk paths' hashers."""
    return f"{month}{RECORD_SEPARATOR}{CHARGE_ITEM}"


def record_id_of(row: Mapping[str, object]) -> str:
    """The record id of an export row, from its cells named by ``RECORD_ID_PARTS``.

    The uuid5 of ``uuid.uuid5(RECORD_NAMESPACE, name)``, computed without building a ``UUID``
    (the row path makes one per row); a test holds the two equal.
    """
    global _parts_of, _parts_for
    if _parts_for is not RECORD_ID_PARTS:  # the parts were changed (tests do): read them anew
        _parts_of, _parts_for = itemgetter(*RECORD_ID_PARTS), RECORD_ID_PARTS
    cells = ["" if cell is None else str(cell) for cell in _parts_of(row)]
    name = RECORD_SEPARATOR.join([*cells, CHARGE_ITEM])
    hashed = _NAMESPACE_SHA1.copy()
    hashed.update(name.encode())
    digest = bytearray(hashed.digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_NAMESPACE_SHA1 = hashlib.sha1(RECORD_NAMESPACE.bytes, usedforsecurity=False)
_parts_for: tuple[str, ...] = RECORD_ID_PARTS
_parts_of = itemgetter(*RECORD_ID_PARTS)


def billing_cycle(month: str, pm: pluggy.PluginManager) -> str:
    """The export's ``billing_cycle`` for ``month``: a plug-in's (``itvrules_billing_cycle``), else YYYYMM."""
    cycle = pm.hook.itvrules_billing_cycle(month=month)
    return str(cycle) if cycle else month.replace("-", "")


def worded(error: InputError, header: str | None) -> str:
    """A reject's error as the rejects file says it: the column when its header is not the
    field's name, then the value found in words (``itvrules._words.quoted``), never a Python
    repr: a date as ``2025-03-31``, a number as written, text quoted with every control or
    invisible character written as ``<U+000A>``, never as it is (``contract.quoted``)."""
    message = error.problem
    if header is not None and header != error.field:
        message += f" (column {header!r})"
    if error.value is not None and not error.message_names_value:
        message += f"; got {quoted(error.value, text=quoted_text)}"
    return message


def account_of(raw: RawRow, columns: ColumnMap) -> str | None:
    """The account id of a row as the duplicate check sees it, or None when it has none."""
    header = header_of(columns, "account_id")
    if header is None:
        return None
    value = cell_value("account_id", raw.values.get(header))
    return value if isinstance(value, str) and value else None
