"""The Monday extract (§四(五)): last week's new trial users and the orders still waiting.

Every Monday the support centre extracts the previous Monday–Sunday's new
trial users, selected by completion date, with a second list of orders
accepted but not yet installed, and sends both to the recipients the policy
names (customer service centre and marketing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

import attrs

from .._errors import InputError
from ..lifecycle import EnrollmentState
from ..policy._policy import Policy
from ._recipients import recipients
from ._states import check_day, checked_states

_WEEK = re.compile(r"\A(\d{4})-W(\d{2})\Z", re.ASCII)  # not full-width digits


def parse_iso_week(text: object) -> tuple[date, date]:
    """The Monday and Sunday of an ISO 8601 week written ``"YYYY-Www"`` (e.g. ``"2025-W14"``).

    ISO weeks cross year ends (``2026-W01`` starts on 2025-12-29); a week 53
    exists only in the years that have one.
    """
    if not isinstance(text, str):
        raise InputError("week", text, "an ISO week must be a 'YYYY-Www' string, e.g. '2025-W14'")
    match = _WEEK.match(text)
    if match is None:
        raise InputError("week", text, "an ISO week must be exactly 'YYYY-Www', e.g. '2025-W14'")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise InputError("week", text, f"ISO year {year} has no week {week}") from None
    if monday > date.max - timedelta(days=6):
        raise InputError("week", text, "the week ends after 9999-12-31, the last day a date can "
                                       "name")
    return monday, monday + timedelta(days=6)


def iso_week(day: date) -> str:
    """The ISO week ``"YYYY-Www"`` that ``day`` falls in."""
    year, week, _ = check_day("day", day).isocalendar()
    return f"{year:04d}-W{week:02d}"


def previous_week(run_day: date) -> str:
    """The week a Monday run extracts: the Monday–Sunday before ``run_day``'s week."""
    return iso_week(check_day("run_day", run_day) - timedelta(days=7))


@attrs.frozen
class ExtractRow:
    """One account on an extract list, with what the call centre and marketing need."""

    account_id: str
    channel: str
    contact_phone: str
    product: str
    accepted_on: date
    completed_on: date | None
    #: last day of the free trial; None while not installed
    trial_end: date | None
    #: acceptance + install_days
    install_due: date
    #: the install missed its due date: completed after it, or still waiting on Sunday past it
    install_overdue: bool


@attrs.frozen
class WeeklyExtract:
    """The two lists of one ISO week, and who receives them."""

    week: str
    monday: date
    sunday: date
    recipients: tuple[str, ...]
    policy_id: str
    policy_version: str
    #: completed (trial started) Monday..Sunday, by completion date then account
    new_trials: tuple[ExtractRow, ...]
    #: accepted by Sunday and, on Sunday, neither installed, returned nor cancelled
    not_installed: tuple[ExtractRow, ...]


def weekly_recipients(policy: Policy) -> tuple[str, ...]:
    """Who receives the Monday extract: policy data (``operations.recipients.weekly_extract``)."""
    return recipients(policy, "weekly_extract", "Monday extract")


def weekly_extract(policy: Policy, states: Iterable[EnrollmentState], week: str) -> WeeklyExtract:
    """The Monday extract of ISO ``week`` from replayed enrolment states.

    Every state must be replayed as of the week's Sunday or later, so that no
    completion of the week is missing; the not-installed list is judged on
    Sunday from the states' dates, whichever later day they were replayed to.
    """
    monday, sunday = parse_iso_week(week)
    recipients = weekly_recipients(policy)
    checked = checked_states(states)
    for state in checked:
        if state.as_of < sunday:
            raise InputError("as_of", state.as_of,
                             f"account {state.account_id} is replayed only to {state.as_of}; the "
                             f"extract of {week} needs every state as of {sunday} or later")
    new_trials = sorted(
        (_row(policy, s, sunday) for s in checked
         if s.completed_on is not None and monday <= s.completed_on <= sunday),
        key=lambda r: (r.completed_on, r.account_id))
    waiting = sorted((_row(policy, s, sunday) for s in checked if _waiting_on(s, sunday)),
                     key=lambda r: (r.accepted_on, r.account_id))
    return WeeklyExtract(week=week, monday=monday, sunday=sunday, recipients=recipients,
                         policy_id=policy.id, policy_version=policy.version,
                         new_trials=tuple(new_trials), not_installed=tuple(waiting))


def _on_or_before(day: date | None, limit: date) -> bool:
    return day is not None and day <= limit


def _waiting_on(state: EnrollmentState, sunday: date) -> bool:
    """Was the order in state ``accepted`` on ``sunday``? (The same test the lifecycle makes.)"""
    return (state.accepted_on <= sunday
            and not _on_or_before(state.completed_on, sunday)
            and not _on_or_before(state.returned_on, sunday)
            and not _on_or_before(state.cancel_requested_on, sunday))


def _row(policy: Policy, state: EnrollmentState, sunday: date) -> ExtractRow:
    completed = state.completed_on if _on_or_before(state.completed_on, sunday) else None
    overdue = completed > state.install_due if completed is not None else sunday > state.install_due
    return ExtractRow(
        account_id=state.account_id, channel=state.channel, contact_phone=state.contact_phone,
        product=state.product, accepted_on=state.accepted_on, completed_on=completed,
        trial_end=policy.trial_window(completed).end if completed is not None else None,
        install_due=state.install_due, install_overdue=overdue)
