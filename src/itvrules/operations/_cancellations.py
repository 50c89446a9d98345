"""The cancellation list (notice §四(五)2): where each cancellation stands.

A cancellation moves through the policy's ``operations.cancellation_steps``
(channel → support centre → marketing review → install centre → line
worker). Where it stands is a pure function of the replayed state: the steps
done (``cancellation_step`` events), the terminals recovered, the run day
``state.as_of``. The notice names the steps but no day count; how long a step
may take is the policy parameter ``cancellation_step_days``, marked there as
an assumption.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs

from .._errors import InputError
from ..lifecycle import EnrollmentState, Event, EventKind
from ..policy._policy import Policy

#: Why a list is closed: never installed, every step done, or the terminals back in stock.
BEFORE_INSTALL = "before_install"
STEPS_DONE = "steps_done"
TERMINALS_RECOVERED = "terminals_recovered"


@attrs.frozen
class CancellationStep:
    """One step of the list as the policy names it: code, name in Chinese, who does it."""

    step: str
    name: str
    owner: str
    clause: str


def cancellation_steps(policy: Policy) -> tuple[CancellationStep, ...]:
    """The policy's steps, in order; the last is the line worker's recovery."""
    return tuple(CancellationStep(step=s["step"], name=s.get("name") or s["step"], owner=s["owner"],
                                  clause=s["clause"])
                 for s in policy.document.operations["cancellation_steps"])


def _key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def step_code(policy: Policy, text: object) -> str:
    """The step ``text`` names, by code (``support_centre``) or by Chinese name (支撑中心汇总)."""
    steps = cancellation_steps(policy)
    if isinstance(text, str) and text.strip():
        wanted = _key(text)
        for step in steps:
            if wanted in (_key(step.step), _key(step.name)):
                return step.step
    known = ", ".join(f"{s.step} ({s.name})" for s in steps)
    raise InputError("step", text if isinstance(text, str) else None,
                     f"unknown step; the list is {known}")


def step_event(policy: Policy, account_id: str, step: str, on: date, *, by: str = "",
               source: str = "", source_row: int = 0) -> Event:
    """The event recording that ``step`` (code or name) of ``account_id``'s list was done on ``on``."""
    data = {"step": step_code(policy, step)}
    if by.strip():
        data["by"] = by.strip()
    return Event(account_id=account_id, kind=EventKind.CANCELLATION_STEP, on=on, data=data,
                 source=source, source_row=source_row)


@attrs.frozen
class CancellationList:
    """One account's cancellation list on ``as_of``: its current step, its age, or why it closed."""

    account_id: str
    channel: str
    contact_phone: str
    requested_on: date
    effective_on: date | None
    as_of: date
    #: (step code, day done), in order
    steps_done: tuple[tuple[str, date], ...]
    #: the step waiting to be done; None once the list is closed
    step: CancellationStep | None
    #: when the current step's clock started: the previous step's day, or the request
    step_since: date | None
    #: calendar days the current step has waited on ``as_of``
    step_age_days: int | None
    #: calendar days from the request to the closing day (or to ``as_of`` while open)
    open_days: int
    #: the current step has waited longer than ``cancellation_step_days``
    overdue: bool
    #: registered by the trial end, not effective by then (the waiver list)
    late: bool
    closed_on: date | None = None
    #: ``before_install``, ``steps_done`` or ``terminals_recovered``; empty while open
    closed_by: str = ""
    #: why the list is closed, in words; empty while open
    closed_reason: str = ""
    #: terminals the line worker still has to take back
    missing: tuple[str, ...] = ()
    #: who did each step, where the step records said (step code -> name)
    done_by: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def is_open(self) -> bool:
        """Whether someone still has to act on the list."""
        return self.closed_on is None

    @property
    def owner(self) -> str:
        """Who does the current step (policy data); empty once closed."""
        return self.step.owner if self.step is not None else ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (ISO dates) for lists and exports."""
        step = self.step
        return {
            "account_id": self.account_id, "channel": self.channel,
            "contact_phone": self.contact_phone, "requested_on": self.requested_on.isoformat(),
            "effective_on": self.effective_on.isoformat() if self.effective_on else "",
            "as_of": self.as_of.isoformat(), "status": "open" if self.is_open else "closed",
            "step": step.step if step else "", "step_name": step.name if step else "",
            "owner": self.owner, "step_since": self.step_since.isoformat() if self.step_since else "",
            "step_age_days": self.step_age_days, "open_days": self.open_days,
            "overdue": self.overdue, "late": self.late,
            "closed_on": self.closed_on.isoformat() if self.closed_on else "",
            "closed_by": self.closed_by, "closed_reason": self.closed_reason,
            "missing": list(self.missing),
            "steps_done": [{"step": s, "on": on.isoformat(), "by": self.done_by.get(s, "")}
                           for s, on in self.steps_done],
        }


def _closing(state: EnrollmentState, steps: tuple[CancellationStep, ...],
             missing: tuple[str, ...] | None) -> tuple[date, str, str] | None:
    """(day, code, words) of what closed the list first, or None while it is open."""
    requested = state.cancel_requested_on
    assert requested is not None
    if state.completed_on is None:
        return (requested, BEFORE_INSTALL,
                "cancelled before install: no terminals were fitted, nothing to recover")
    found: list[tuple[date, str, str]] = []
    if len(state.cancellation_steps) >= len(steps):
        on = state.cancellation_steps[len(steps) - 1][1]
        last = steps[-1]
        found.append((on, STEPS_DONE, f"every step done, the last ({last.step} {last.name}) on {on}"))
    if missing == () and state.recovered_on is not None:
        on = max(state.recovered_on, state.cancel_effective_on or requested)
        found.append((on, TERMINALS_RECOVERED, f"the terminals were recovered into stock on {on}"))
    return min(found) if found else None


def cancellation_list(policy: Policy, state: EnrollmentState) -> CancellationList | None:
    """Where the enrolment's cancellation stands on ``state.as_of``; None when none was requested.

    A cancellation before install closes at once: nothing was fitted, so there
    is nothing to recover and no step to take. Otherwise the list closes when
    its last step (the line worker's recovery) is done, or when every terminal
    the cancellation takes back is recorded as recovered, whichever comes first.
    """
    requested = state.cancel_requested_on
    if requested is None:
        return None
    steps = cancellation_steps(policy)
    change = next((c for c in state.terminal_changes if c.change == "cancelled"), None)
    missing: tuple[str, ...] | None = None
    if change is not None:
        missing = tuple(sorted((Counter(change.take_back) - Counter(state.recovered)).elements()))
    closing = _closing(state, steps, missing)
    end = policy.trial_window(state.completed_on).end if state.completed_on is not None else None
    effective = state.cancel_effective_on
    late = (end is not None and requested <= end < state.as_of
            and (effective is None or effective > end))
    done = state.cancellation_steps
    common: dict[str, Any] = {
        "account_id": state.account_id, "channel": state.channel,
        "contact_phone": state.contact_phone, "requested_on": requested, "effective_on": effective,
        "as_of": state.as_of, "steps_done": done, "late": late, "missing": missing or (),
        "done_by": dict(state.cancellation_step_by),
    }
    if closing is not None:
        closed_on, closed_by, reason = closing
        return CancellationList(**common, step=None, step_since=None, step_age_days=None,
                                open_days=(closed_on - requested).days, overdue=False,
                                closed_on=closed_on, closed_by=closed_by, closed_reason=reason)
    current = steps[len(done)]
    since = done[-1][1] if done else requested
    age = (state.as_of - since).days
    limit = int(policy.parameters["cancellation_step_days"])
    return CancellationList(**common, step=current, step_since=since, step_age_days=age,
                            open_days=(state.as_of - requested).days, overdue=age > limit)
