"""``unstructure`` and ``structure`` are inverses, and ``structure`` reads feed spellings.

Other systems exchange itvrules objects as JSON and feeds arrive as text, so a
value that does not survive the trip (a date turned into a string, money into
a float, an optional field lost) corrupts billing silently.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import itvrules
from strategies import completion_dates, enrollment_months, enrollments, subscribers

POLICY = itvrules.load_policy()
ISO_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
MONEY = re.compile(r"\A\d+\.\d{2}\Z")
DATE_FIELDS = ("accepted_on", "completed_on", "cancel_requested_on", "cancel_effective_on",
               "start", "end")
MONEY_FIELDS = ("gross", "waived", "amount")

#: A blank value reads as missing (SPEC §11), so a blank plan cannot make the trip.
roundtrip_subscribers = subscribers().filter(lambda s: s.plan.strip() != "")


def through_json(obj: Any, cls: type[Any]) -> Any:
    """``obj`` unstructured, written as JSON text, read back and structured as ``cls``."""
    data = itvrules.unstructure(obj)
    assert isinstance(data, dict)
    for name in DATE_FIELDS:
        if data.get(name) is not None:
            assert ISO_DATE.match(data[name]), (name, data[name])
            assert data[name] == getattr(obj, name).isoformat()
    for name in MONEY_FIELDS:
        if name in data:
            assert MONEY.match(data[name]), (name, data[name])
            assert Decimal(data[name]) == getattr(obj, name)
    text = json.dumps(data, ensure_ascii=False)
    return itvrules.structure(json.loads(text), cls)


@given(sub=roundtrip_subscribers)
def test_subscriber_roundtrip(sub: itvrules.Subscriber) -> None:
    assert through_json(sub, itvrules.Subscriber) == sub


@given(enr=enrollments())
def test_enrollment_roundtrip(enr: itvrules.Enrollment) -> None:
    assert through_json(enr, itvrules.Enrollment) == enr


@given(sub=roundtrip_subscribers, accepted_on=st.sampled_from(POLICY.campaign_window) | st.dates())
def test_eligibility_roundtrip(sub: itvrules.Subscriber, accepted_on: date) -> None:
    decision = POLICY.eligibility(sub, accepted_on=accepted_on)
    back = through_json(decision, itvrules.Eligibility)
    assert back == decision
    assert (back.segment is None) == (not back.eligible)


@given(completed_on=completion_dates())
def test_trial_window_roundtrip(completed_on: date) -> None:
    window = POLICY.trial_window(completed_on)
    back = through_json(window, itvrules.TrialWindow)
    assert back == window
    assert isinstance(back.months, tuple)


@given(pair=enrollment_months())
def test_fee_decision_roundtrip(pair: tuple[itvrules.Enrollment, str]) -> None:
    decision = POLICY.fee(*pair)
    back = through_json(decision, itvrules.FeeDecision)
    assert back == decision
    for name in MONEY_FIELDS:
        assert getattr(back, name).as_tuple().exponent == -2
    assert back.amount_fen == decision.amount_fen


def test_money_is_written_with_two_decimals() -> None:
    enr = itvrules.Enrollment(account_id="0007", product="brand", accepted_on=date(2025, 3, 25),
                              completed_on=date(2025, 3, 31))
    data = itvrules.unstructure(POLICY.fee(enr, "2025-06"))
    assert (data["gross"], data["waived"], data["amount"]) == ("35.00", "0.00", "35.00")
    assert json.loads(json.dumps(data))["amount"] == "35.00"


# -- feed spellings (SPEC §11) ----------------------------------------------------------

TRUE_SPELLINGS = ("是", "Y", "y", "1", "true", "TRUE", 1, True)
FALSE_SPELLINGS = ("否", "N", "n", "0", "false", "False", 0, False)
PRODUCT_SPELLINGS = {"brand": ("品牌", "brand"), "annual": ("包年", "annual"),
                     "single_monthly": ("单宽月租", "single_monthly")}
COMMUNITY_SPELLINGS = {"none": ("未提速", "none"), "upgrading": ("正在提速", "upgrading"),
                       "upgraded": ("已提速", "upgraded")}
BLANKS = ("", " ", "\t", "\u3000")


def _date_spellings(day: date) -> st.SearchStrategy[str]:
    return st.sampled_from((day.isoformat(), day.strftime("%Y/%m/%d"), day.strftime("%Y%m%d"),
                            f"{day.year}/{day.month}/{day.day}"))


@st.composite
def feed_rows(draw: st.DrawFn, obj: Any) -> dict[str, Any]:
    """``obj`` as a feed row: Chinese and letter spellings, blanks or no cell for missing values."""
    row: dict[str, Any] = {}
    for field in attrs.fields(type(obj)):
        value = getattr(obj, field.name)
        if value is None:
            cell = draw(st.sampled_from((*BLANKS, None, "omit")))
            if cell != "omit":
                row[field.name] = cell
        elif isinstance(value, bool):
            row[field.name] = draw(st.sampled_from(TRUE_SPELLINGS if value else FALSE_SPELLINGS))
        elif isinstance(value, date):
            row[field.name] = draw(_date_spellings(value))
        elif field.name == "product":
            row[field.name] = draw(st.sampled_from(PRODUCT_SPELLINGS[value.value]))
        elif field.name == "community":
            row[field.name] = draw(st.sampled_from(COMMUNITY_SPELLINGS[value.value]))
        else:
            row[field.name] = str(value)
    return row


@given(data=st.data(), sub=roundtrip_subscribers)
def test_structure_reads_a_subscriber_in_feed_spellings(data: st.DataObject,
                                                         sub: itvrules.Subscriber) -> None:
    row = data.draw(feed_rows(sub), label="row")
    assert itvrules.structure(row, itvrules.Subscriber) == sub


@given(data=st.data(), enr=enrollments())
def test_structure_reads_an_enrollment_in_feed_spellings(data: st.DataObject,
                                                          enr: itvrules.Enrollment) -> None:
    row = data.draw(feed_rows(enr), label="row")
    same_day = enr.cancel_effective_on is not None and enr.cancel_requested_on == enr.cancel_effective_on
    if same_day and data.draw(st.booleans(), label="no request cell"):
        row["cancel_requested_on"] = ""  # taken as requested on the effective date (SPEC §5)
    assert itvrules.structure(row, itvrules.Enrollment) == enr


@pytest.mark.parametrize(("spelling", "expected"), [
    *((s, True) for s in ("是", "Y", "1")), *((s, False) for s in ("否", "N", "0"))])
def test_boolean_spellings(spelling: str, expected: bool) -> None:
    row = {"account_id": "0001", "plan": "e8-68", "product": "品牌", "new_install": spelling,
           "has_itv": spelling, "line_ready": spelling}
    sub = itvrules.structure(row, itvrules.Subscriber)
    assert (sub.new_install, sub.has_itv, sub.line_ready) == (expected, expected, expected)


@pytest.mark.parametrize("spelling", ["2025/03/31", "20250331", "2025-03-31"])
def test_date_spellings(spelling: str) -> None:
    row = {"account_id": "0001", "product": "包年", "accepted_on": spelling, "completed_on": spelling}
    enr = itvrules.structure(row, itvrules.Enrollment)
    assert enr.accepted_on == enr.completed_on == date(2025, 3, 31)


@pytest.mark.parametrize(("spelling", "expected"), [
    ("品牌", itvrules.Product.BRAND), ("包年", itvrules.Product.ANNUAL),
    ("单宽月租", itvrules.Product.SINGLE_MONTHLY)])
def test_product_spellings(spelling: str, expected: itvrules.Product) -> None:
    row = {"account_id": "0001", "plan": "e9-79", "product": spelling}
    assert itvrules.structure(row, itvrules.Subscriber).product is expected


def test_blank_strings_are_missing_values() -> None:
    row = {"account_id": "000123", "product": "品牌", "accepted_on": "20250401",
           "completed_on": "", "returned": " ", "return_reason": "", "cancel_requested_on": "",
           "cancel_effective_on": "\u3000", "switched_to": "  ", "channel": "", "contact_phone": "",
           "prior_modem": ""}
    enr = itvrules.structure(row, itvrules.Enrollment)
    assert enr == itvrules.Enrollment(account_id="000123", product="brand",
                                      accepted_on=date(2025, 4, 1))
    sub = itvrules.structure({"account_id": "0009", "plan": "e8-88", "product": "brand",
                              "community": "", "new_install": "", "has_itv": "", "line_ready": ""},
                             itvrules.Subscriber)
    assert sub == itvrules.Subscriber(account_id="0009", plan="e8-88", product="brand")


def test_a_blank_required_field_is_an_input_error_naming_it() -> None:
    with pytest.raises(itvrules.InputError, match="accepted_on"):
        itvrules.structure({"account_id": "0001", "product": "品牌", "accepted_on": " "},
                           itvrules.Enrollment)
