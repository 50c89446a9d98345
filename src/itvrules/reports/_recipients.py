"""Who receives a report: policy data under ``operations.recipients``."""

from __future__ import annotations

from .._errors import PolicyError
from ..policy._policy import Policy


def recipients(policy: Policy, key: str, report: str) -> tuple[str, ...]:
    """The names under ``operations.recipients.<key>``; a report nobody receives is a policy error."""
    found = policy.document.operations.get("recipients", {}).get(key)
    if not found:
        raise PolicyError(f"{policy.source}: operations.recipients.{key} names nobody; "
                          f"the {report} needs its recipients (§四(五))")
    return tuple(str(r) for r in found)
