"""Outbound-call results (§四(五)1): their vocabulary, and one feed row read into a ledger event.

The customer service centre reports each call: the day, whether it got
through, what the user said (an outcome) and any playback problem. Outcomes
and problems are policy data (``operations.call_results``) with Chinese
names, so a feed may use either the code or the name.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs

from .._errors import InputError, PolicyError
from ..lifecycle import Event, EventKind
from ..model._parse import normalise_text, parse_bool, parse_date
from ..policy._policy import Policy
from ..runs._rows import _date_cell

#: Call-result feed: field -> header spellings besides the field's name.
CALL_FIELDS: Mapping[str, tuple[str, ...]] = {
    "account_id": ("宽带账号", "宽带帐号"),
    "called_on": ("外呼日期", "回访日期"),
    "reached": ("是否接通",),
    "outcome": ("外呼结果", "回访结果"),
    "problem": ("反映问题", "存在问题"),
    "note": ("备注",),
}
CALL_REQUIRED = ("account_id", "called_on", "reached", "outcome")


@attrs.frozen
class CallVocabulary:
    """The policy's outcomes and problems of a call, and the clause a problem order names."""

    clause: str
    #: outcome code -> (Chinese name, whether the call got through)
    outcomes: Mapping[str, tuple[str, bool]]
    #: problem code -> Chinese name (every one a playback problem for 运维部)
    problems: Mapping[str, str]
    problem_clause: str
    problem_text: str

    def outcome_name(self, code: str) -> str:
        return self.outcomes.get(code, (code, False))[0]

    def problem_name(self, code: str) -> str:
        return self.problems.get(code, code)


def call_vocabulary(policy: Policy) -> CallVocabulary:
    """``operations.call_results`` of the policy; a ``PolicyError`` when it has none."""
    found = policy.document.operations.get("call_results")
    if not found:
        raise PolicyError(f"{policy.source}: operations.call_results is missing: the outcomes and "
                          "problems of an outbound call (§四(五)1) are policy data")
    order = found["problem_order"]
    return CallVocabulary(
        clause=str(found["clause"]),
        outcomes={str(code): (str(v["name"]), bool(v["reached"]))
                  for code, v in found["outcomes"].items()},
        problems={str(code): str(name) for code, name in found["problems"].items()},
        problem_clause=str(order["clause"]), problem_text=str(order["text"]))


def _key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def _code(field: str, cell: object, names: Mapping[str, str], *, required: bool) -> str:
    """The code a cell names, by code or Chinese name; "" for an empty optional cell."""
    text = "" if cell is None else normalise_text(str(cell))
    if not text:
        if required:
            raise InputError(field, cell, "a value is required")
        return ""
    wanted = _key(text)
    for code, name in names.items():
        if wanted in (_key(code), _key(name)):
            return code
    allowed = ", ".join(f"{code} {name}" for code, name in names.items())
    raise InputError(field, text, f"expected one of: {allowed}")


def call_event(vocabulary: CallVocabulary, values: Mapping[str, Any], *, source: str = "",
               source_row: int = 0) -> Event:
    """The ``call_result`` event of one feed row; ``InputError`` naming the field if it is bad.

    ``reached`` (是/否, true/false, 1/0, Y/N) must agree with the outcome: an
    outcome the policy marks as got through needs 是, the others 否.
    """
    account = normalise_text(str(values.get("account_id") or ""))
    if not account:
        raise InputError("account_id", values.get("account_id"), "a value is required")
    called_cell = values.get("called_on")
    called = day_cell("called_on", called_cell)
    reached_cell = values.get("reached")
    try:
        reached = parse_bool(reached_cell)
    except ValueError as exc:
        raise InputError("reached", reached_cell, str(exc)) from None
    outcome = _code("outcome", values.get("outcome"),
                    {c: n for c, (n, _r) in vocabulary.outcomes.items()}, required=True)
    if vocabulary.outcomes[outcome][1] != reached:
        name = vocabulary.outcome_name(outcome)
        raise InputError("outcome", f"{outcome} {name}",
                         f"{'a call that got through' if reached else 'a call not got through'} "
                         f"cannot have this outcome (是否接通 is {'是' if reached else '否'})")
    problem = _code("problem", values.get("problem"), vocabulary.problems, required=False)
    if problem and not reached:
        raise InputError("problem", problem, "a problem needs a call that got through")
    note = normalise_text(str(values.get("note") or ""))
    return Event(account_id=account, kind=EventKind.CALL_RESULT, on=called,
                 data={"reached": "yes" if reached else "no", "outcome": outcome,
                       "problem": problem, "note": note},
                 source=source, source_row=source_row)


def day_cell(field: str, cell: object) -> date:
    """A date from a text cell (YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, 2025年3月31日) or a spreadsheet cell."""
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        raise InputError(field, cell, "a value is required")
    if not isinstance(cell, str):
        return _date_cell(field, cell)
    try:
        return parse_date(cell)
    except ValueError as exc:
        raise InputError(field, cell, str(exc)) from None
