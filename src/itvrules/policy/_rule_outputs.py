"""What a rule's ``then`` decides, as a tuple every engine and backend fills its results from.

Below ``_policy`` and the frame and Spark backends, which all read it.
"""

from __future__ import annotations

from ._document import Rule


def eligibility_template(rule: Rule) -> tuple[bool, str | None, str, str, str, bool]:
    """(eligible, segment, reason, rule id, clause, review) of an eligibility rule."""
    then = rule.then
    eligible = bool(then["eligible"])
    segment = then.get("segment") if eligible else None
    reason = str(segment if eligible else then["reason"])
    return eligible, segment, reason, rule.id, rule.clause, bool(then.get("review", False))


def fee_template(rule: Rule) -> tuple[str, str, bool, bool, str, str]:
    """(code, charge, waive, follow_up, rule id, clause) of a fee rule."""
    then = rule.then
    return (str(then["code"]), str(then["charge"]), bool(then.get("waive", False)),
            bool(then.get("follow_up", False)), rule.id, rule.clause)
