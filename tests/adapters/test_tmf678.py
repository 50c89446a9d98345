"""The TMF678 v4.0.0 export: resources the standard's own definitions accept, money exact.

Every export here is held to the project's schema (``tmf678.schema.json``,
shipped with the adapter) and to the standard's definitions themselves (an
extract of the TM Forum swagger kept beside this file), closed so that a
property the standard lacks fails.
"""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from itvrules_adapters import tmf678
from itvrules_adapters.tmf678 import Tmf678Writer, billing_period, resources, tax_split

import itvrules
from itvrules import InputError
from paths import FEEDS, ROOT, TESTS
from samples import taxed_policy

SWAGGER = json.loads((TESTS / "adapters" / "tmf678_v4_swagger_extract.json").read_text("utf-8"))
SAMPLE_FEED = ROOT / "src" / "itvrules" / "sample_data" / "crm-feed.csv"
#: The campaign's months and a year after: trial, waiver, paid and cancelled months all occur.
MONTHS = [f"{2025 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(3, 3 + 16)]
MONEY = re.compile(r'"unit": "CNY", "value": ([^}]*)}')
TAX_RATE = re.compile(r'"taxRate": ([^,}]*)')
BILL_ID = "4f3c2b1a-0000-5000-8000-000000000001"


def bill_row(code: str, gross: str, waived: str, **extra: Any) -> dict[str, Any]:
    """One row of a bill run, as the pipeline hands it to a writer."""
    amount = Decimal(gross) - Decimal(waived)
    row: dict[str, Any] = {
        "record_id": BILL_ID, "account_id": "0571000123", "billing_month": "2025-06",
        "billing_cycle": "202506", "code": code, "gross": Decimal(gross),
        "waived": Decimal(waived), "amount": amount, "amount_fen": int(amount * 100),
        "package": "quanneng", "follow_up": False, "rule": f"fee.{code}", "clause": "§三",
        "policy_id": "itv-trial", "policy_version": "2025.1", "policy_hash": "0123456789ab",
        "source": "feed.csv", "source_row": 2,
    }
    row.update(extra)
    return row


def write(rows: list[dict[str, Any]], *, tax_rate: Decimal | None = None) -> str:
    stream = io.BytesIO()
    sink = Tmf678Writer(tax_rate).open(stream, list(rows[0]) if rows else [], kind="bill")
    for row in rows:
        sink.write(row)
    sink.close()
    return stream.getvalue().decode("utf-8")


def exact(text: str) -> Any:
    """The JSON of ``text`` with every number as a Decimal, to compare amounts exactly."""
    return json.loads(text, parse_float=Decimal)


def characteristic(rate: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [c for c in rate["characteristic"] if c["name"] == name]
    return found


# -- validators ------------------------------------------------------------------------------------

def project_validator() -> jsonschema.protocols.Validator:
    schema = tmf678.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def closed_swagger_validators() -> dict[str, jsonschema.protocols.Validator]:
    """A validator per resource type from the standard's definitions, with extra properties refused.

    Swagger 2.0 definitions are JSON Schema draft 4 objects; closing each one
    (``additionalProperties: false``) turns "a property the standard lacks" into
    a failure, as a billing system that checks against the standard would.
    """
    definitions = copy.deepcopy(SWAGGER["definitions"])
    for definition in definitions.values():
        if definition.get("type") == "object":
            definition["additionalProperties"] = False
    return {name: jsonschema.Draft4Validator({"$ref": f"#/definitions/{name}",
                                              "definitions": definitions})
            for name in ("CustomerBill", "AppliedCustomerBillingRate")}


def check_resources(resources_: list[dict[str, Any]]) -> tuple[int, int]:
    """(records checked, records valid under both the project schema and the closed standard)."""
    project = project_validator()
    standard = closed_swagger_validators()
    errors_by_record: dict[int, list[str]] = {}
    for error in project.iter_errors(resources_):
        errors_by_record.setdefault(error.absolute_path[0], []).append(error.message)
    for index, resource in enumerate(resources_):
        for error in standard[resource["@type"]].iter_errors(resource):
            errors_by_record.setdefault(index, []).append(error.message)
    assert not errors_by_record, dict(list(errors_by_record.items())[:3])
    return len(resources_), len(resources_) - len(errors_by_record)


# -- the project's schema is the standard's, narrowed ----------------------------------------------

def test_the_extract_is_tmf678_v4() -> None:
    assert SWAGGER["info"] == {"title": "API CustomerBill", "version": "4.0.0"}


def _kind(prop: dict[str, Any], refs: str) -> tuple[Any, ...]:
    """What a property is: its type and format, or the definition it refers to (by name)."""
    if "$ref" in prop:
        return ("ref", prop["$ref"].removeprefix(refs))
    if prop.get("type") == "array":
        return ("array", _kind(prop["items"], refs))
    return (prop.get("type"), prop.get("format"))


def test_every_property_the_schema_allows_is_the_standards_with_its_type() -> None:
    schema = tmf678.schema()
    definitions = SWAGGER["definitions"]
    checked = 0
    for name, ours in schema["$defs"].items():
        if name == "Resource":
            continue  # the export's element: one of the two resources, not a TMF definition
        assert name in definitions, f"{name} is no TMF678 v4.0.0 definition"
        assert ours["$comment"].endswith(f"#/definitions/{name}")
        theirs = definitions[name]
        if ours.get("type") != "object":
            assert ours["type"] == theirs["type"]
            assert set(ours["enum"]) <= set(theirs["enum"])
            continue
        assert ours["additionalProperties"] is False, f"{name} lets invented properties through"
        assert set(theirs.get("required", ())) <= set(ours["required"]), name
        for prop, spec in ours["properties"].items():
            assert prop in theirs["properties"], f"{name}.{prop} is not in the standard"
            standard = theirs["properties"][prop]
            if standard.get("$ref") == "#/definitions/Any":
                continue  # the standard takes any value here
            assert _kind(spec, "#/$defs/") == _kind(standard, "#/definitions/"), f"{name}.{prop}"
            checked += 1
    assert checked >= 30


@pytest.mark.parametrize(("where", "change"), [
    ("bill", lambda b: b.update(billCycle={"id": "202506", "@type": "BillCycleRef"})),
    ("bill", lambda b: b.update(appliedCustomerBillingRate=[])),
    ("bill", lambda b: b["amountDue"].update(value="35.00")),
    ("rate", lambda r: r.update(type="discount")),
    ("rate", lambda r: r.update(type="recurringCharge")),
    ("rate", lambda r: r["taxIncludedAmount"].update(value=Decimal("-35.00"))),
    ("rate", lambda r: r.pop("bill")),
    ("rate", lambda r: r["characteristic"][0].pop("valueType")),
    ("rate", lambda r: r["periodCoverage"].update(endDateTime="2025-06-30T23:59:59")),
])
def test_the_schema_refuses_what_the_integrator_found_wrong(where: str, change: Any) -> None:
    bill, charge, _credit = exact(write([bill_row("trial", "35.00", "35.00")]))
    assert project_validator().is_valid([bill, charge])
    change(bill if where == "bill" else charge)
    assert not project_validator().is_valid([bill, charge])


def test_an_invented_property_fails_the_closed_standard_too() -> None:
    bill, charge = exact(write([bill_row("default_paid", "35.00", "0.00")]))
    standard = closed_swagger_validators()
    assert standard["CustomerBill"].is_valid(bill) and standard["AppliedCustomerBillingRate"].is_valid(charge)
    bill["billCycle"] = {"id": "202506"}
    assert not standard["CustomerBill"].is_valid(bill)


# -- resources -----------------------------------------------------------------------------------------

def test_a_trial_month_is_a_charge_and_a_positive_credit_on_their_bill() -> None:
    text = write([bill_row("trial", "35.00", "35.00")])
    bill, charge, credit = exact(text)
    assert bill["@type"] == "CustomerBill" and bill["id"] == BILL_ID
    assert "appliedCustomerBillingRate" not in bill and "billCycle" not in bill
    assert bill["billingAccount"] == {"id": "0571000123", "@type": "BillingAccountRef"}
    assert bill["amountDue"] == bill["taxIncludedAmount"] == {"unit": "CNY", "value": Decimal("0.00")}
    assert (charge["type"], credit["type"]) == ("appliedBillingCharge", "appliedBillingCredit")
    for rate in (charge, credit):
        assert rate["@type"] == "AppliedCustomerBillingRate"
        assert rate["isBilled"] is True
        assert rate["bill"] == {"id": BILL_ID, "@type": "BillRef"}
        assert rate["taxIncludedAmount"] == {"unit": "CNY", "value": Decimal("35.00")}
        assert rate["periodCoverage"] == bill["billingPeriod"]
        assert characteristic(rate, "code") == {"name": "code", "value": "trial", "valueType": "string"}
    assert charge["id"] != credit["id"] != BILL_ID
    assert '"value": 35.00' in text and '"value": 0.00' in text and '"35.00"' not in text


def test_a_paid_month_is_one_charge_and_plug_in_columns_are_typed_characteristics() -> None:
    row = bill_row("default_paid", "35.00", "0.00", region="伊山", visits=3, ratio=Decimal("0.5"))
    bill, charge = exact(write([row]))
    assert bill["amountDue"]["value"] == Decimal("35.00")
    assert characteristic(charge, "region") == {"name": "region", "value": "伊山", "valueType": "string"}
    assert characteristic(charge, "visits") == {"name": "visits", "value": 3, "valueType": "integer"}
    assert characteristic(charge, "ratio")["value"] == Decimal("0.5")
    assert characteristic(charge, "followUp") == {"name": "followUp", "value": False,
                                                  "valueType": "boolean"}
    assert characteristic(charge, "sourceRow")["value"] == 2


@pytest.mark.parametrize("code", ["not_installed", "not_started", "cancelled"])
def test_nothing_charged_or_credited_is_no_bill_and_no_rate(code: str) -> None:
    row = bill_row(code, "0.00", "0.00", package=None)
    assert resources(row) == []
    assert json.loads(write([row])) == []
    assert [r["@type"] for r in json.loads(write([row, bill_row("trial", "35.00", "35.00")]))] == \
        ["CustomerBill", "AppliedCustomerBillingRate", "AppliedCustomerBillingRate"]


def test_no_rows_is_an_empty_array() -> None:
    assert json.loads(write([])) == []


@pytest.mark.parametrize("value", ["35.07", "0.10", "0.01", "123456789.99", "20.00"])
def test_money_is_a_json_number_with_two_decimals_exactly_as_the_decimal(value: str) -> None:
    text = write([bill_row("default_paid", value, "0.00")])
    assert f'"value": {value}}}' in text
    bill, charge = exact(text)
    assert bill["amountDue"]["value"] == charge["taxIncludedAmount"]["value"] == Decimal(value)
    assert json.loads(text)[1]["taxIncludedAmount"]["value"] == float(value)


def test_billing_periods_tile_time_with_no_gap_and_no_overlap() -> None:
    months = [f"{y}-{m:02d}" for y in (2024, 2025, 2026) for m in range(1, 13)]
    periods = [billing_period(month) for month in months]
    for month, period, following in zip(months, periods, periods[1:], strict=False):
        start = datetime.fromisoformat(period["startDateTime"])
        end = datetime.fromisoformat(period["endDateTime"])
        assert period["endDateTime"] == following["startDateTime"], month
        assert start.strftime("%Y-%m") == month and start.day == 1 and start.hour == 0
        assert start.utcoffset() == end.utcoffset() == timedelta(hours=8)
        assert timedelta(days=28) <= end - start <= timedelta(days=31)
    february = billing_period("2024-02")
    assert (datetime.fromisoformat(february["endDateTime"])
            - datetime.fromisoformat(february["startDateTime"])) == timedelta(days=29)


@pytest.mark.parametrize(("change", "field", "says"), [
    ({"gross": Decimal("-35.00"), "waived": Decimal("0.00"), "amount": Decimal("-35.00")},
     "gross", "negative"),
    ({"gross": Decimal("20.00"), "waived": Decimal("35.00"), "amount": Decimal("-15.00")},
     "waived", "negative bill"),
    ({"amount": Decimal("30.00")}, "amount", "less the waiver"),
    ({"gross": Decimal("35.005"), "amount": Decimal("35.005")}, "gross", "fen"),
    ({"gross": 35.0}, "gross", "not an amount"),
    ({"note": ["a"]}, "note", "cannot be written"),
])
def test_a_row_no_bill_can_show_truly_is_refused_before_anything_is_written(
        change: dict[str, Any], field: str, says: str) -> None:
    stream = io.BytesIO()
    sink = Tmf678Writer().open(stream, [], kind="bill")
    sink.write(bill_row("trial", "35.00", "35.00", record_id="11111111-0000-5000-8000-000000000001"))
    with pytest.raises(InputError, match=says) as caught:
        sink.write({**bill_row("default_paid", "35.00", "0.00"), **change})
    assert caught.value.field == field
    assert "Decimal(" not in str(caught.value) and "[" not in str(caught.value)
    sink.close()
    assert len(json.loads(stream.getvalue())) == 3  # the first row's bill and rates only


class OverWaiver:
    """A plug-in that waives more than one account's charge: a bill that would be negative."""

    @itvrules.hookimpl
    def itvrules_decision_row(self, kind: str, row: dict[str, Any], decision: Any,
                              policy: itvrules.Policy) -> None:
        if row["account_id"] == "A001":
            row["waived"] = row["gross"] + 1


def test_a_run_rejects_the_row_the_writer_refuses_and_writes_the_others(tmp_path: Path) -> None:
    pm = itvrules.plugin_manager(autoload=False)
    pm.register(OverWaiver(), name="over-waiver")
    out, rejects = tmp_path / "bill.tmf.json", tmp_path / "rejects.csv"
    summary = itvrules.run_bill(itvrules.load_policy(), "2025-06", [str(FEEDS / "bill_bad_rows.csv")],
                                str(out), rejects=str(rejects), pm=pm)
    accounts = {r["billingAccount"]["id"] for r in json.loads(out.read_text("utf-8"))}
    assert "A001" not in accounts and accounts
    refused = [line for line in rejects.read_text("utf-8-sig").splitlines() if "negative bill" in line]
    assert len(refused) == 1 and refused[0].startswith("bill_bad_rows.csv,2,waived,")
    assert summary.rows_in == summary.decided + summary.rejected + summary.skipped


def test_the_file_streams_resource_by_resource() -> None:
    stream = io.BytesIO()
    sink = Tmf678Writer().open(stream, [], kind="bill")
    for n in range(200):
        sink.write(bill_row("trial", "35.00", "35.00", record_id=f"11111111-0000-5000-8000-{n:012d}"))
    assert len(stream.getvalue()) > 100_000  # on its way out before the file is finished
    sink.close()
    assert len(json.loads(stream.getvalue())) == 600


@pytest.mark.parametrize("kind", ["eligibility", "rejects"])
def test_only_bills_are_written(kind: str) -> None:
    with pytest.raises(InputError, match="bills"):
        Tmf678Writer().open(io.BytesIO(), ["a"], kind=kind)


def test_json_is_utf8_only() -> None:
    with pytest.raises(InputError, match="UTF-8"):
        Tmf678Writer().open(io.BytesIO(), ["a"], kind="bill", encoding="gb18030")


# -- tax -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "rate", "excluded", "tax"), [
    ("35.00", "0.06", "33.02", "1.98"),     # 33.0188… rounds up
    ("20.00", "0.09", "18.35", "1.65"),     # 18.3486… rounds up
    ("0.20", "0.6", "0.13", "0.07"),        # exactly 0.125: half up, not half even (0.12)
    ("35.00", "0", "35.00", "0.00"),
    ("0.01", "0.06", "0.01", "0.00"),
])
def test_tax_is_split_from_a_tax_inclusive_amount_half_up(amount: str, rate: str, excluded: str,
                                                        tax: str) -> None:
    assert tax_split(Decimal(amount), Decimal(rate)) == (Decimal(excluded), Decimal(tax))


@given(st.decimals(min_value=0, max_value=10**7, places=2),
       st.decimals(min_value=0, max_value=Decimal("0.999"), places=3))
def test_the_split_adds_up_and_is_the_nearest_fen(amount: Decimal, rate: Decimal) -> None:
    excluded, tax = tax_split(amount, rate)
    assert excluded + tax == amount
    assert excluded == excluded.quantize(Decimal("0.01")) and tax >= 0
    assert excluded == (amount / (1 + rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert abs(excluded * (1 + rate) - amount) <= Decimal("0.005") * (1 + rate)


def test_with_a_tax_rate_rates_carry_applied_tax_and_bills_a_tax_item() -> None:
    rate = Decimal("0.06")
    paid_bill, paid = exact(write([bill_row("default_paid", "35.00", "0.00")], tax_rate=rate))
    assert paid["taxIncludedAmount"]["value"] == Decimal("35.00")
    assert paid["taxExcludedAmount"]["value"] == Decimal("33.02")
    assert paid["appliedTax"] == [{"taxCategory": "VAT", "taxRate": Decimal("0.06"),
                                   "taxAmount": {"unit": "CNY", "value": Decimal("1.98")}}]
    assert paid_bill["taxExcludedAmount"]["value"] == Decimal("33.02")
    assert paid_bill["taxItem"][0]["taxAmount"]["value"] == Decimal("1.98")
    trial_bill, charge, credit = exact(write([bill_row("trial", "35.00", "35.00")], tax_rate=rate))
    assert charge["appliedTax"] == credit["appliedTax"] == paid["appliedTax"]
    assert trial_bill["taxExcludedAmount"]["value"] == Decimal("0.00")
    assert trial_bill["taxItem"][0]["taxAmount"]["value"] == Decimal("0.00")
    for bill in (paid_bill, trial_bill):
        item = bill["taxItem"][0]
        assert bill["taxExcludedAmount"]["value"] + item["taxAmount"]["value"] == \
            bill["taxIncludedAmount"]["value"]


def test_without_a_tax_rate_no_tax_is_claimed() -> None:
    text = write([bill_row("trial", "35.00", "35.00"), bill_row("default_paid", "35.00", "0.00")])
    for word in ("taxExcludedAmount", "appliedTax", "taxItem"):
        assert word not in text


def test_the_writer_takes_the_tax_rate_from_the_runs_policy(tmp_path: Path) -> None:
    taxed = taxed_policy(tmp_path, "0.09")
    assert Tmf678Writer().for_policy(taxed).tax_rate == Decimal("0.09")
    assert Tmf678Writer().for_policy(itvrules.load_policy()).tax_rate is None
    for policy, expect in ((taxed, Decimal("0.09")), (itvrules.load_policy(), None)):
        out = tmp_path / f"bill-{policy.tax_rate}.tmf.json"
        itvrules.run_bill(policy, "2025-09", [str(SAMPLE_FEED)], str(out),
                          pm=itvrules.plugin_manager(autoload=False))
        rates = [r for r in exact(out.read_text("utf-8")) if r["@type"] == "AppliedCustomerBillingRate"]
        assert rates
        assert {r["appliedTax"][0]["taxRate"] if "appliedTax" in r else None for r in rates} == {expect}


# -- whole exports against the schema and the standard ----------------------------------------------

def bill_runs(policy: itvrules.Policy, folder: Path) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(month, resources) of the bundled sample feed billed for every month of ``MONTHS``."""
    pm = itvrules.plugin_manager(autoload=False)
    for month in MONTHS:
        out = folder / f"{month}.tmf.json"
        itvrules.run_bill(policy, month, [str(SAMPLE_FEED)], str(out), pm=pm)
        text = out.read_text("utf-8")
        # Money with two decimals and rates as written: nothing passed through a float.
        assert all(re.fullmatch(r"[0-9]+\.[0-9]{2}", value) for value in MONEY.findall(text))
        assert all(re.fullmatch(r"0(\.[0-9]+)?", rate) for rate in TAX_RATE.findall(text))
        yield month, exact(text)


@pytest.mark.parametrize("rate", [None, "0.06"])
def test_every_record_of_the_sample_feed_billed_month_by_month_is_valid(tmp_path: Path,
                                                                        rate: str | None) -> None:
    policy = itvrules.load_policy() if rate is None else taxed_policy(tmp_path, rate)
    records: list[dict[str, Any]] = []
    for _month, found in bill_runs(policy, tmp_path):
        ids = {r["id"] for r in found if r["@type"] == "CustomerBill"}
        assert all(r["bill"]["id"] in ids for r in found if r["@type"] != "CustomerBill")
        records += found
    checked, valid = check_resources(records)
    assert checked == valid == len(records)
    kinds = {(r["@type"], r.get("type")) for r in records}
    assert kinds == {("CustomerBill", None), ("AppliedCustomerBillingRate", "appliedBillingCharge"),
                     ("AppliedCustomerBillingRate", "appliedBillingCredit")}
    assert all(("appliedTax" in r) == (rate is not None)
               for r in records if r["@type"] != "CustomerBill")


amounts = st.decimals(min_value=0, max_value=10**6, places=2)


@st.composite
def rows(draw: st.DrawFn) -> dict[str, Any]:
    gross = draw(amounts)
    waived = draw(st.sampled_from([Decimal("0.00"), gross])
                  | st.decimals(min_value=0, max_value=gross, places=2))
    extra = draw(st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True).filter(
        lambda k: k not in bill_row("x", "0", "0")),
        st.text(max_size=5) | st.integers() | st.booleans() | amounts | st.none(), max_size=3))
    return bill_row(draw(st.sampled_from(["trial", "default_paid", "switched"])), str(gross),
                    str(waived), account_id=draw(st.text(min_size=1, max_size=12)),
                    billing_month=f"{draw(st.integers(2000, 2099))}-{draw(st.integers(1, 12)):02d}",
                    package=draw(st.none() | st.sampled_from(["quanneng", "basic", "hd"])), **extra)


@given(st.lists(rows(), max_size=4),
       st.none() | st.decimals(min_value=0, max_value=Decimal("0.999"), places=3))
def test_generated_rows_give_valid_resources(rows_: list[dict[str, Any]],
                                             rate: Decimal | None) -> None:
    found = exact(write(rows_, tax_rate=rate)) if rows_ else []
    check_resources(found)
    charged = [r for r in rows_ if r["gross"] or r["waived"]]
    assert len([r for r in found if r["@type"] == "CustomerBill"]) == len(charged)
