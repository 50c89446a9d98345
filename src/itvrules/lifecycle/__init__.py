"""The enrolment lifecycle: dated events, replayed through the policy's tables."""

from __future__ import annotations

from ._diagram import statechart_mermaid
from ._events import EVENT_NAMESPACE, Event, EventKind
from ._from_enrollment import events_from_enrollment
from ._replay import replay
from ._state import CallResult, EnrollmentState, TerminalChange, Transition

__all__ = [
    "EVENT_NAMESPACE",
    "CallResult",
    "EnrollmentState",
    "Event",
    "EventKind",
    "TerminalChange",
    "Transition",
    "events_from_enrollment",
    "replay",
    "statechart_mermaid",
]
