"""A TM Forum TMF678 (Customer Bill Management) style export of a bill run.

One ``CustomerBill`` per account and month. Its ``appliedCustomerBillingRate``
list holds the iTV charge as one rate and, when the campaign gives the month
away, the waiver as its own rate with a negative amount (a credit), so the
bill shows what the trial cost instead of a silently smaller charge
(CONVENTIONS "Identity and idempotency"). Amounts are ``{"unit": "CNY",
"value": "35.00"}`` with the value an exact decimal string. The file is one
JSON array written element by element, so it streams like the other exports.

Ids are stable across runs: the bill's id is the row's ``record_id`` and each
rate's id a UUID5 under it. Plug-in columns become characteristics of the
charge rate.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import IO, Any

from itvrules import InputError, hookimpl
from itvrules.formats import month_end

from . import _cells
from ._encoding import codec_name

UNIT = "CNY"
#: Bills are dated in the operator's time zone (CONVENTIONS "Dates and deadlines").
OFFSET = "+08:00"
#: Bill columns that go into fixed places of a CustomerBill; others become characteristics.
_PLACED = frozenset({
    "record_id", "account_id", "billing_month", "billing_cycle", "gross", "waived", "amount",
    "amount_fen", "package", "code", "rule", "clause", "follow_up", "policy_id", "policy_version",
    "policy_hash", "source", "source_row",
})


def money(value: Any) -> dict[str, str]:
    """A TMF ``Money``: CNY and an exact two-decimal string."""
    return {"unit": UNIT, "value": f"{Decimal(str(value)):.2f}"}


def customer_bill(row: Mapping[str, Any]) -> dict[str, Any]:
    """The CustomerBill of one bill-run row."""
    record_id = str(row["record_id"])
    account = str(row["account_id"])
    month = str(row["billing_month"])
    cycle = str(row.get("billing_cycle") or month.replace("-", ""))
    period = {
        "startDateTime": f"{month}-01T00:00:00{OFFSET}",
        "endDateTime": f"{month_end(month, 'billing_month').isoformat()}T23:59:59{OFFSET}",
    }
    account_ref = {"id": account, "@type": "BillingAccountRef"}
    gross = Decimal(str(row["gross"]))
    waived = Decimal(str(row["waived"]))
    package = row.get("package") or None
    why = [
        {"name": "code", "value": str(row["code"])},
        {"name": "rule", "value": str(row["rule"])},
        {"name": "clause", "value": str(row.get("clause") or "")},
        {"name": "policy", "value": f"{row.get('policy_id')} {row.get('policy_version')}"},
        {"name": "followUp", "value": bool(row.get("follow_up"))},
        {"name": "source", "value": f"{row.get('source')}:{row.get('source_row')}"},
    ]
    extras = [{"name": k, "value": _cells.json_value(v)} for k, v in row.items() if k not in _PLACED]
    namespace = uuid.UUID(record_id)
    rates: list[dict[str, Any]] = [{
        "id": str(uuid.uuid5(namespace, "charge")),
        "@type": "AppliedCustomerBillingRate",
        "name": f"iTV {package}" if package else "iTV",
        "type": "recurringCharge",
        "isBilled": True,
        "periodCoverage": period,
        "billingAccount": account_ref,
        "taxIncludedAmount": money(gross),
        "characteristic": why + extras,
    }]
    if waived:
        rates.append({
            "id": str(uuid.uuid5(namespace, "waiver")),
            "@type": "AppliedCustomerBillingRate",
            "name": f"iTV {package} trial waiver" if package else "iTV trial waiver",
            "type": "discount",
            "isBilled": True,
            "periodCoverage": period,
            "billingAccount": account_ref,
            "taxIncludedAmount": money(-waived),
            "characteristic": why[:3],
        })
    return {
        "id": record_id,
        "@type": "CustomerBill",
        "billNo": f"{account}-{cycle}",
        "category": "normal",
        "runType": "onCycle",
        "state": "new",
        "billCycle": {"id": cycle, "@type": "BillCycleRef"},
        "billingAccount": account_ref,
        "billingPeriod": period,
        "amountDue": money(gross - waived),
        "taxIncludedAmount": money(gross - waived),
        "appliedCustomerBillingRate": rates,
    }


class Tmf678Writer:
    """Writes a bill run as a JSON array of TMF678 CustomerBill objects."""

    name = "tmf678"
    extensions = (".tmf.json",)

    def open(self, stream: IO[bytes], columns: Sequence[str], *, kind: str,
             encoding: str | None = None) -> Tmf678Sink:
        if kind != "bill":
            raise InputError("format", self.name,
                             f"TMF678 holds customer bills; it cannot write {kind} rows")
        if encoding is not None and codec_name(encoding) != "utf-8":
            raise InputError("encoding", encoding, "JSON is always written in UTF-8")
        return Tmf678Sink(stream)


class Tmf678Sink:
    """One open JSON array of bills, written one element at a time."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._text = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
        self._text.write("[")
        self._first = True

    def write(self, row: Mapping[str, Any]) -> None:
        bill = json.dumps(customer_bill(row), ensure_ascii=False)
        self._text.write("\n" if self._first else ",\n")
        self._text.write(bill)
        self._first = False

    def close(self) -> None:
        self._text.write("\n]\n")
        self._text.flush()
        self._text.detach()


@hookimpl
def itvrules_export_writers() -> Sequence[Tmf678Writer]:
    return [Tmf678Writer()]
