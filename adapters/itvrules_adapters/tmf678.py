"""A bill run as TM Forum TMF678 (Customer Bill Management) v4.0.0 resources.

The file is one JSON array of resources as the TMF678 API returns them:
for each account and month with
something charged or credited, its ``CustomerBill`` followed by its
``AppliedCustomerBillingRate`` resources, each telling its kind by ``@type``.
A rate points at its bill (``bill``, ``isBilled: true``); the iTV charge is an
``appliedBillingCharge`` and a waiver the campaign gives is a separate
``appliedBillingCredit`` with a positive amount, so the bill shows what the
trial cost instead of a silently smaller charge. A month with nothing charged
or credited (never installed, not completed yet, cancelled) gets no
resource: no 0.00 bill for an account that never had the service.

Money is ``{"unit": "CNY", "value": 35.00}``, a JSON number written from the
Decimal's own digits (``_exact_json``). Only properties the v4.0.0
definitions have are written; ``tmf678.schema.json`` beside this module is the
JSON Schema of exactly what is written, property by property from the
standard's, and the tests hold every export to it. The decision and its
provenance, and plug-in columns, are ``characteristic`` of each rate.

Tariffs include tax (the notice's 35 元/月 is what the user pays). When the
policy names ``parameters.tax_rate``, each amount is split: the tax-excluded
amount is amount / (1 + rate) rounded half up to the fen, the tax the
difference; rates carry ``appliedTax`` and bills a ``taxItem``.

The file streams: resources are written one at a time as rows arrive. Ids are
stable across runs: the bill's id is the row's ``record_id`` and each rate's
a UUID5 under it.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib.resources import files
from typing import IO, Any

from itvrules import InputError, Policy, hookimpl
from itvrules.formats import CENT, month_end

from ._encoding import codec_name
from ._exact_json import dumps

UNIT = "CNY"
#: Bills are dated in the operator's time zone.
OFFSET = "+08:00"
#: The tax a policy's ``tax_rate`` is: China's value-added tax (增值税).
TAX_CATEGORY = "VAT"
#: The JSON Schema of the resources this writer writes, shipped beside this module.
SCHEMA_FILE = "tmf678.schema.json"
#: Bill columns that go into fixed places of the resources; the others become characteristics.
_PLACED = frozenset({
    "record_id", "account_id", "billing_month", "billing_cycle", "gross", "waived", "amount",
    "amount_fen", "package", "code", "rule", "clause", "follow_up", "policy_id", "policy_version",
    "policy_hash", "source", "source_row",
})
#: Bill columns written as characteristics of every rate, under their TMF-style names.
_DECISION = (
    ("code", "code"), ("rule", "rule"), ("clause", "clause"), ("package", "package"),
    ("followUp", "follow_up"), ("billingMonth", "billing_month"), ("billingCycle", "billing_cycle"),
    ("policyId", "policy_id"), ("policyVersion", "policy_version"), ("policyHash", "policy_hash"),
    ("source", "source"), ("sourceRow", "source_row"),
)


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a whole export: an array of the resources written."""
    text = files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def money(value: Decimal) -> dict[str, Any]:
    """A TMF ``Money``: CNY and the exact amount (a JSON number once written)."""
    return {"unit": UNIT, "value": value}


def billing_period(month: str) -> dict[str, str]:
    """The ``TimePeriod`` of ``month``: its first instant to the next month's first, in +08:00.

    The end is the instant the next month starts, so consecutive months tile
    time with neither a gap nor an overlap (no 23:59:59 second left out).
    """
    first = month_end(month, "billing_month").replace(day=1)
    following = month_end(month, "billing_month") + timedelta(days=1)
    return {"startDateTime": _instant(first), "endDateTime": _instant(following)}


def _instant(day: date) -> str:
    return f"{day.isoformat()}T00:00:00{OFFSET}"


def tax_split(amount: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """(tax-excluded amount, tax) of a tax-inclusive ``amount`` at ``rate``.

    The excluded amount is ``amount / (1 + rate)`` rounded half up to the fen;
    the tax is what is left, so the two always add up to ``amount`` exactly.
    """
    excluded = (amount / (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    return excluded, amount - excluded


def resources(row: Mapping[str, Any], *, tax_rate: Decimal | None = None) -> list[dict[str, Any]]:
    """The TMF678 resources of one bill-run row: its bill and its rates, or none at all.

    Raises ``itvrules.InputError`` for a row no bill can show truly (a
    negative amount, a credit above the charge, amounts that do not add up):
    the run rejects it instead of writing a wrong bill.
    """
    gross = _yuan(row, "gross")
    waived = _yuan(row, "waived")
    if waived > gross:
        raise InputError("waived", str(waived), f"a waiver above the charge of {gross} makes a "
                                                f"negative bill")
    if "amount" in row and row["amount"] is not None and _yuan(row, "amount") != gross - waived:
        raise InputError("amount", str(row["amount"]), f"is not the charge {gross} less the "
                                                       f"waiver {waived}")
    if not gross and not waived:
        return []
    bill_id = str(row["record_id"])
    account = str(row["account_id"])
    month = str(row["billing_month"])
    cycle = str(row.get("billing_cycle") or month.replace("-", ""))
    period = billing_period(month)
    account_ref = {"id": account, "@type": "BillingAccountRef"}
    bill_ref = {"id": bill_id, "@type": "BillRef"}
    facts = _characteristics(row)
    package = row.get("package") or None
    label = f"iTV {package}" if package else "iTV"
    namespace = uuid.UUID(bill_id)
    rates: list[dict[str, Any]] = []
    for kind, amount, name, key in (("appliedBillingCharge", gross, label, "charge"),
                                    ("appliedBillingCredit", waived, f"{label} waiver", "waiver")):
        if not amount:
            continue
        rate: dict[str, Any] = {
            "id": str(uuid.uuid5(namespace, key)),
            "@type": "AppliedCustomerBillingRate",
            "name": name,
            "type": kind,
            "isBilled": True,
            "bill": bill_ref,
            "billingAccount": account_ref,
            "periodCoverage": period,
            "taxIncludedAmount": money(amount),
        }
        if tax_rate is not None:
            excluded, tax = tax_split(amount, tax_rate)
            rate["taxExcludedAmount"] = money(excluded)
            rate["appliedTax"] = [{"taxCategory": TAX_CATEGORY, "taxRate": tax_rate,
                                   "taxAmount": money(tax)}]
        rate["characteristic"] = facts
        rates.append(rate)
    due = gross - waived
    bill: dict[str, Any] = {
        "id": bill_id,
        "@type": "CustomerBill",
        "billNo": f"{account}-{cycle}",
        "category": "normal",
        "runType": "onCycle",
        "state": "new",
        "billingAccount": account_ref,
        "billingPeriod": period,
        "amountDue": money(due),
        "taxIncludedAmount": money(due),
    }
    if tax_rate is not None:
        charged, credited = tax_split(gross, tax_rate), tax_split(waived, tax_rate)
        bill["taxExcludedAmount"] = money(charged[0] - credited[0])
        bill["taxItem"] = [{"taxCategory": TAX_CATEGORY, "taxRate": tax_rate,
                            "taxAmount": money(charged[1] - credited[1])}]
    return [bill, *rates]


def _yuan(row: Mapping[str, Any], field: str) -> Decimal:
    """A money cell as exact yuan at the fen; an InputError naming ``field`` otherwise."""
    value = row.get(field)
    try:
        amount = Decimal(str(value)) if isinstance(value, (Decimal, int, str)) else None
    except ArithmeticError:
        amount = None
    if amount is None or not amount.is_finite():
        raise InputError(field, None if value is None else str(value), "is not an amount in yuan")
    if amount < 0:
        raise InputError(field, str(amount), "a bill shows no negative amount")
    if amount != amount.quantize(CENT):
        raise InputError(field, str(amount), "has more decimals than the fen")
    return amount.quantize(CENT)


def _characteristics(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The decision, its provenance and plug-in columns as rate characteristics (empty ones left out)."""
    named = [(name, row.get(column)) for name, column in _DECISION]
    named += [(column, value) for column, value in row.items() if column not in _PLACED]
    return [_characteristic(name, value) for name, value in named if value is not None]


def _characteristic(name: str, value: Any) -> dict[str, Any]:
    """One ``AppliedBillingRateCharacteristic``; ``valueType`` says how to read its value."""
    if isinstance(value, str):
        return {"name": name, "value": value, "valueType": "string"}
    if isinstance(value, bool):
        return {"name": name, "value": value, "valueType": "boolean"}
    if isinstance(value, int):
        return {"name": name, "value": value, "valueType": "integer"}
    if isinstance(value, Decimal) and value.is_finite():
        return {"name": name, "value": value, "valueType": "number"}
    if isinstance(value, datetime):
        return {"name": name, "value": value.isoformat(), "valueType": "dateTime"}
    if isinstance(value, date):
        return {"name": name, "value": value.isoformat(), "valueType": "date"}
    raise InputError(name, None, f"a {type(value).__name__} cell cannot be written to TMF678")


class Tmf678Writer:
    """Writes a bill run as a JSON array of TMF678 CustomerBill and AppliedCustomerBillingRate."""

    name = "tmf678"
    extensions = (".tmf.json",)

    def __init__(self, tax_rate: Decimal | None = None) -> None:
        self.tax_rate = tax_rate

    def for_policy(self, policy: Policy) -> Tmf678Writer:
        """A writer that splits tax at the policy's ``tax_rate`` (none when it names none)."""
        return Tmf678Writer(policy.tax_rate)

    def open(self, stream: IO[bytes], columns: Sequence[str], *, kind: str,
             encoding: str | None = None) -> Tmf678Sink:
        if kind != "bill":
            raise InputError("format", self.name,
                             f"TMF678 holds customer bills; it cannot write {kind} rows")
        if encoding is not None and codec_name(encoding) != "utf-8":
            raise InputError("encoding", encoding, "JSON is always written in UTF-8")
        return Tmf678Sink(stream, self.tax_rate)


class Tmf678Sink:
    """One open JSON array of resources, written one resource at a time."""

    def __init__(self, stream: IO[bytes], tax_rate: Decimal | None) -> None:
        self._text = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
        self._text.write("[")
        self._first = True
        self._tax_rate = tax_rate

    def write(self, row: Mapping[str, Any]) -> None:
        # Every resource of the row is made before any is written: a refused row leaves no trace.
        for resource in [dumps(r) for r in resources(row, tax_rate=self._tax_rate)]:
            self._text.write("\n" if self._first else ",\n")
            self._text.write(resource)
            self._first = False

    def close(self) -> None:
        self._text.write("\n]\n")
        self._text.flush()
        self._text.detach()


@hookimpl
def itvrules_export_writers() -> Sequence[Tmf678Writer]:
    return [Tmf678Writer()]
