"""SPEC §9 and §10: input that cannot be decided is an InputError naming the field and value.

A table of bad values per field of Subscriber and Enrollment, the cross-field
rules, bad billing months, unknown packages, wrong date types given to the
Policy methods, and bad feed-like rows through ``itvrules.structure``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, NamedTuple

import attrs
import pytest

import itvrules

ENGINES = ("compiled", "durable")

GOOD_SUBSCRIBER: dict[str, Any] = {
    "account_id": "A001", "plan": "e8-68", "product": "brand", "community": "none",
    "new_install": False, "has_itv": False, "line_ready": True,
}
GOOD_ENROLLMENT: dict[str, Any] = {
    "account_id": "A001", "product": "brand", "accepted_on": date(2025, 3, 25),
    "completed_on": date(2025, 3, 31), "returned": False,
    "cancel_requested_on": None, "cancel_effective_on": None, "switched_to": None,
    "return_reason": None, "channel": "营业厅", "contact_phone": "13812345678", "prior_modem": "ordinary",
}


class Bad(NamedTuple):
    """One field set to a bad value: ``field`` must be named, ``value`` carried."""

    id: str
    field: str
    value: Any


SUBSCRIBER_CASES: list[Bad] = [
    Bad("account_id-int", "account_id", 123),
    Bad("account_id-empty", "account_id", ""),
    Bad("account_id-blank", "account_id", "   "),
    Bad("account_id-none", "account_id", None),
    Bad("plan-int", "plan", 68),
    Bad("plan-none", "plan", None),
    Bad("plan-bytes", "plan", b"e8-68"),
    Bad("product-int", "product", 1),
    Bad("product-unknown", "product", "gold"),
    Bad("product-none", "product", None),
    Bad("community-int", "community", 2),
    Bad("community-unknown", "community", "fast"),
    Bad("community-other-enum", "community", itvrules.Product.BRAND),
    Bad("new_install-text", "new_install", "yes"),
    Bad("new_install-int", "new_install", 1),
    Bad("new_install-none", "new_install", None),
    Bad("has_itv-text", "has_itv", "no"),
    Bad("has_itv-int", "has_itv", 0),
    Bad("line_ready-text", "line_ready", "true"),
    Bad("line_ready-none", "line_ready", None),
]

ENROLLMENT_CASES: list[Bad] = [
    Bad("account_id-int", "account_id", 7),
    Bad("account_id-empty", "account_id", ""),
    Bad("product-int", "product", 3),
    Bad("product-unknown", "product", "gold"),
    Bad("product-none", "product", None),
    Bad("accepted_on-text", "accepted_on", "2025-03-25"),
    Bad("accepted_on-datetime", "accepted_on", datetime(2025, 3, 25, 10, 30)),
    Bad("accepted_on-int", "accepted_on", 20250325),
    Bad("accepted_on-none", "accepted_on", None),
    Bad("completed_on-text", "completed_on", "2025-03-31"),
    Bad("completed_on-datetime", "completed_on", datetime(2025, 3, 31, 9, 0)),
    Bad("returned-text", "returned", "false"),
    Bad("returned-int", "returned", 0),
    Bad("returned-none", "returned", None),
    Bad("cancel_requested_on-text", "cancel_requested_on", "2025-05-01"),
    Bad("cancel_requested_on-datetime", "cancel_requested_on", datetime(2025, 5, 1, 8, 0)),
    Bad("cancel_effective_on-text", "cancel_effective_on", "2025-06-01"),
    Bad("cancel_effective_on-datetime", "cancel_effective_on", datetime(2025, 6, 1, 8, 0)),
    Bad("switched_to-int", "switched_to", 5),
    Bad("switched_to-list", "switched_to", ["basic"]),
    Bad("return_reason-int", "return_reason", 5),
    Bad("channel-int", "channel", 10),
    Bad("contact_phone-int", "contact_phone", 13812345678),
    Bad("contact_phone-float", "contact_phone", 13812345678.0),
    Bad("prior_modem-int", "prior_modem", 3),
    Bad("prior_modem-unknown", "prior_modem", "fiber"),
]


class CrossField(NamedTuple):
    """A combination of valid values that SPEC §9 still rejects."""

    id: str
    changes: dict[str, Any]
    field: str
    value: Any


CROSS_FIELD_CASES: list[CrossField] = [
    CrossField("completion-before-acceptance", {"completed_on": date(2025, 3, 24)},
               "completed_on", date(2025, 3, 24)),
    CrossField("return-without-reason", {"returned": True, "completed_on": None},
               "return_reason", None),
    CrossField("return-with-blank-reason", {"returned": True, "completed_on": None, "return_reason": "  "},
               "return_reason", None),
    CrossField("returned-with-completion", {"returned": True, "return_reason": "无线路"},
               "completed_on", date(2025, 3, 31)),
    CrossField("returned-with-cancel-request",
               {"returned": True, "return_reason": "无线路", "completed_on": None,
                "cancel_requested_on": date(2025, 4, 2)},
               "cancel_requested_on", date(2025, 4, 2)),
    CrossField("returned-with-cancel-effective",
               {"returned": True, "return_reason": "无线路", "completed_on": None,
                "cancel_effective_on": date(2025, 4, 2)},
               "cancel_effective_on", date(2025, 4, 2)),
    CrossField("cancel-requested-before-acceptance", {"cancel_requested_on": date(2025, 3, 20)},
               "cancel_requested_on", date(2025, 3, 20)),
    CrossField("cancel-effective-before-requested",
               {"cancel_requested_on": date(2025, 5, 10), "cancel_effective_on": date(2025, 5, 9)},
               "cancel_effective_on", date(2025, 5, 9)),
    CrossField("cancel-effective-before-acceptance", {"cancel_effective_on": date(2025, 3, 1)},
               "cancel_effective_on", date(2025, 3, 1)),
]

BAD_MONTHS: list[Any] = ["2025-6", "2025-13", "202506", None, "2025-00", "2025-06-01", " 2025-06",
                         "2025/06", "２０２５-06", "٢٠٢٥-06", 202506]

class BadRow(NamedTuple):
    """A feed-like row (text cells) that ``structure`` must reject naming ``field``."""

    id: str
    changes: dict[str, Any]
    field: str
    value: Any


ENROLLMENT_ROWS: list[BadRow] = [
    BadRow("accepted_on-not-a-calendar-date", {"accepted_on": "2025-02-30"}, "accepted_on", "2025-02-30"),
    BadRow("accepted_on-month-13", {"accepted_on": "2025-13-01"}, "accepted_on", "2025-13-01"),
    BadRow("completed_on-word", {"completed_on": "yesterday"}, "completed_on", "yesterday"),
    BadRow("cancel_requested_on-word", {"cancel_requested_on": "soon"}, "cancel_requested_on", "soon"),
    BadRow("cancel_effective_on-bad-day", {"cancel_effective_on": "2025/06/31"},
           "cancel_effective_on", "2025/06/31"),
    BadRow("product-unknown", {"product": "gold"}, "product", "gold"),
    BadRow("returned-word", {"returned": "maybe"}, "returned", "maybe"),
    BadRow("prior_modem-unknown", {"prior_modem": "fiber"}, "prior_modem", "fiber"),
    BadRow("unknown-column", {"colour": "red"}, "colour", "red"),
    BadRow("completion-before-acceptance", {"completed_on": "2025-03-01"}, "completed_on", date(2025, 3, 1)),
    BadRow("return-without-reason", {"returned": "是", "completed_on": ""}, "return_reason", None),
]
SUBSCRIBER_ROWS: list[BadRow] = [
    BadRow("new_install-word", {"new_install": "perhaps"}, "new_install", "perhaps"),
    BadRow("has_itv-word", {"has_itv": "2"}, "has_itv", "2"),
    BadRow("line_ready-word", {"line_ready": "unknown"}, "line_ready", "unknown"),
    BadRow("community-unknown", {"community": "quick"}, "community", "quick"),
    BadRow("product-unknown", {"product": "宽带"}, "product", "宽带"),
    BadRow("unknown-column", {"address": "伊山"}, "address", "伊山"),
]
BASE_ENROLLMENT_ROW = {"account_id": "00123", "product": "brand", "accepted_on": "2025-03-25",
                       "completed_on": "2025-03-31"}
BASE_SUBSCRIBER_ROW = {"account_id": "00123", "plan": "e8-68", "product": "brand",
                       "community": "none", "new_install": "否", "has_itv": "否", "line_ready": "是"}


def raises_input_error(call: Callable[[], object], field: str) -> itvrules.InputError:
    """Run ``call``, demand an InputError naming ``field`` that is also a ValueError."""
    with pytest.raises(itvrules.InputError) as info:
        call()
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err, itvrules.ItvRulesError)
    assert err.field == field
    assert field in str(err)
    return err


def same(got: Any, expected: Any) -> bool:
    """Equal and of the same type (a datetime must not pass for a date)."""
    return type(got) is type(expected) and got == expected


@pytest.fixture(scope="module")
def policy() -> itvrules.Policy:
    return itvrules.load_policy()


# -- every field of the models ------------------------------------------------------
@pytest.mark.parametrize("case", SUBSCRIBER_CASES, ids=[c.id for c in SUBSCRIBER_CASES])
def test_subscriber_field(case: Bad) -> None:
    fields = {**GOOD_SUBSCRIBER, case.field: case.value}
    err = raises_input_error(lambda: itvrules.Subscriber(**fields), case.field)
    assert same(err.value, case.value)


@pytest.mark.parametrize("case", ENROLLMENT_CASES, ids=[c.id for c in ENROLLMENT_CASES])
def test_enrollment_field(case: Bad) -> None:
    fields = {**GOOD_ENROLLMENT, case.field: case.value}
    err = raises_input_error(lambda: itvrules.Enrollment(**fields), case.field)
    assert same(err.value, case.value)


def test_the_good_rows_are_good() -> None:
    """The bad cases fail because of the one bad field, not because the base is bad."""
    itvrules.Subscriber(**GOOD_SUBSCRIBER)
    itvrules.Enrollment(**GOOD_ENROLLMENT)
    itvrules.structure(BASE_ENROLLMENT_ROW, itvrules.Enrollment)
    itvrules.structure(BASE_SUBSCRIBER_ROW, itvrules.Subscriber)


@pytest.mark.parametrize(("model", "cases"), [(itvrules.Subscriber, SUBSCRIBER_CASES),
                                               (itvrules.Enrollment, ENROLLMENT_CASES)])
def test_every_field_has_a_case(model: type, cases: list[Bad]) -> None:
    assert {c.field for c in cases} == {a.name for a in attrs.fields(model)}


# -- SPEC §9 cross-field rules ----------------------------------------------------------
@pytest.mark.parametrize("case", CROSS_FIELD_CASES, ids=[c.id for c in CROSS_FIELD_CASES])
def test_cross_field_rule(case: CrossField) -> None:
    fields = {**GOOD_ENROLLMENT, **case.changes}
    err = raises_input_error(lambda: itvrules.Enrollment(**fields), case.field)
    assert same(err.value, case.value)


# -- billing months ---------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("month", BAD_MONTHS, ids=repr)
def test_month_must_be_exactly_yyyy_mm(policy: itvrules.Policy, month: Any, engine: str) -> None:
    enrollment = itvrules.Enrollment(**GOOD_ENROLLMENT)
    err = raises_input_error(lambda: policy.fee(enrollment, month, engine=engine), "month")
    assert same(err.value, month)
    err = raises_input_error(lambda: list(policy.fees([enrollment], month, engine=engine)), "month")
    assert same(err.value, month)


# -- packages the policy does not know --------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("changes", [{}, {"completed_on": None}, {"cancel_effective_on": date(2025, 4, 5)},
                                     {"cancel_requested_on": date(2025, 5, 20)}],
                         ids=["completed", "not-completed", "cancelled-in-trial", "late-cancel"])
@pytest.mark.parametrize("month", ["2025-02", "2025-03", "2025-05", "2025-06", "2025-07", "2026-06"])
def test_unknown_switched_to_whatever_the_month(policy: itvrules.Policy, changes: dict[str, Any],
                                                month: str, engine: str) -> None:
    enrollment = itvrules.Enrollment(**{**GOOD_ENROLLMENT, **changes, "switched_to": "platinum"})
    err = raises_input_error(lambda: policy.fee(enrollment, month, engine=engine), "switched_to")
    assert err.value == "platinum"
    err = raises_input_error(lambda: list(policy.fees([enrollment], month, engine=engine)), "switched_to")
    assert err.value == "platinum"


@pytest.mark.parametrize("engine", ENGINES)
def test_unknown_switched_to_on_a_returned_order(policy: itvrules.Policy, engine: str) -> None:
    enrollment = itvrules.Enrollment(account_id="R1", product="brand", accepted_on=date(2025, 4, 1),
                                     returned=True, return_reason="无线路", switched_to="platinum")
    err = raises_input_error(lambda: policy.fee(enrollment, "2025-06", engine=engine), "switched_to")
    assert err.value == "platinum"


# -- dates handed to the Policy methods -------------------------------------------------
WRONG_DAYS: list[Any] = [datetime(2025, 4, 1, 12, 0), "2025-04-01", None, 20250401]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("day", WRONG_DAYS, ids=repr)
def test_eligibility_accepted_on_must_be_a_date(policy: itvrules.Policy, day: Any, engine: str) -> None:
    subscriber = itvrules.Subscriber(**GOOD_SUBSCRIBER)
    err = raises_input_error(lambda: policy.eligibility(subscriber, accepted_on=day, engine=engine),
                             "accepted_on")
    assert same(err.value, day)


@pytest.mark.parametrize("day", WRONG_DAYS, ids=repr)
def test_trial_window_completed_on_must_be_a_date(policy: itvrules.Policy, day: Any) -> None:
    err = raises_input_error(lambda: policy.trial_window(day), "completed_on")
    assert same(err.value, day)


@pytest.mark.parametrize("engine", ENGINES)
def test_policy_methods_refuse_raw_dicts(policy: itvrules.Policy, engine: str) -> None:
    raises_input_error(lambda: policy.eligibility(GOOD_SUBSCRIBER,  # type: ignore[arg-type]
                                                  accepted_on=date(2025, 4, 1), engine=engine),
                       "subscriber")
    raises_input_error(lambda: policy.fee(GOOD_ENROLLMENT, "2025-06", engine=engine),  # type: ignore[arg-type]
                       "enrollment")
    raises_input_error(lambda: list(policy.fees([GOOD_ENROLLMENT], "2025-06",  # type: ignore[list-item]
                                                engine=engine)), "enrollment")


# -- feed-like rows through structure ---------------------------------------------------
@pytest.mark.parametrize("case", ENROLLMENT_ROWS, ids=[r.id for r in ENROLLMENT_ROWS])
def test_structure_enrollment_row(case: BadRow) -> None:
    row = {**BASE_ENROLLMENT_ROW, **case.changes}
    err = raises_input_error(lambda: itvrules.structure(row, itvrules.Enrollment), case.field)
    assert same(err.value, case.value)


@pytest.mark.parametrize("case", SUBSCRIBER_ROWS, ids=[r.id for r in SUBSCRIBER_ROWS])
def test_structure_subscriber_row(case: BadRow) -> None:
    row = {**BASE_SUBSCRIBER_ROW, **case.changes}
    err = raises_input_error(lambda: itvrules.structure(row, itvrules.Subscriber), case.field)
    assert same(err.value, case.value)


@pytest.mark.parametrize("missing", ["account_id", "product", "accepted_on"])
def test_structure_names_a_missing_required_column(missing: str) -> None:
    row = {k: v for k, v in BASE_ENROLLMENT_ROW.items() if k != missing}
    raises_input_error(lambda: itvrules.structure(row, itvrules.Enrollment), missing)


def test_structure_keeps_account_ids_as_text() -> None:
    """The good path of the same rows: a leading zero survives (SPEC §11)."""
    enrollment = itvrules.structure(BASE_ENROLLMENT_ROW, itvrules.Enrollment)
    assert enrollment.account_id == "00123"
    assert enrollment.completed_on == date(2025, 3, 31)
