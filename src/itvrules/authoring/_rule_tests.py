"""Run rule-test cases against a policy: pass or a readable difference, and rule coverage.

A failing case says, field by field, what was expected and what came out,
followed by why: the policy's own explanation (every rule tried in order)
for eligibility and fees, the replayed transitions for the lifecycle. The
coverage names the rules no case reaches, so an author sees which rule has
no example yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from .._errors import EngineError, InputError, PolicyError
from ..lifecycle import EnrollmentState, replay
from ..policy._policy import Policy
from ._casefile import TABLES, Case, EligibilityInput, EventsInput, FeeInput

_MULTISETS = ("item_scheme", "fitted", "take_back")


@attrs.frozen
class CaseResult:
    """How one case came out on one engine."""

    case: Case
    engine: str
    passed: bool
    #: one line per expected field that differs: ``field: expected X, got Y``
    differences: tuple[str, ...] = ()
    #: what the decision gave for every expected field
    got: Mapping[str, Any] = attrs.field(factory=dict)
    #: rules of the case's table that the case reached (decided, or appeared in the replay)
    reached: tuple[str, ...] = ()
    #: why the decision came out so (the explanation, or the replayed steps); set on failure
    explanation: str = ""
    #: an error the decision raised that the case did not expect
    error: str = ""

    def describe(self) -> str:
        """The readable failure text: where the case is, each difference, then why."""
        case = self.case
        head = f"{case.table} case {case.name!r} ({case.where}) on the {self.engine} engine"
        if self.passed:
            return f"{head}: passed"
        lines = [f"{head}: failed"]
        if self.error:
            lines.append(f"  error: {self.error}")
        for difference in self.differences:
            lines.append(f"  {difference}")
        if self.explanation:
            lines.append("why:")
            lines += [f"  {line}" for line in self.explanation.splitlines()]
        return "\n".join(lines)


@attrs.frozen
class CaseReport:
    """Every case's result and, per table, which rules the cases reached and which none did."""

    policy_id: str
    policy_version: str
    engine: str
    results: tuple[CaseResult, ...]
    #: table -> rule ids that decided (or appeared in) at least one case, in policy order
    covered: Mapping[str, tuple[str, ...]]
    #: table -> rule ids no case reaches, in policy order
    uncovered: Mapping[str, tuple[str, ...]]
    require_full_coverage: bool = False

    @property
    def failures(self) -> tuple[CaseResult, ...]:
        return tuple(result for result in self.results if not result.passed)

    @property
    def fully_covered(self) -> bool:
        return not any(self.uncovered.values())

    @property
    def ok(self) -> bool:
        """No case failed (and, when full coverage is required, every rule is reached)."""
        return not self.failures and (self.fully_covered or not self.require_full_coverage)

    def render(self) -> str:
        """Plain text for a terminal: failures with their differences, then coverage."""
        failed = len(self.failures)
        lines = [f"policy {self.policy_id} {self.policy_version}, {self.engine} engine: "
                 f"{len(self.results)} case(s), {len(self.results) - failed} passed, {failed} failed"]
        lines += [result.describe() for result in self.failures]
        for table in TABLES:
            covered, missing = self.covered.get(table, ()), self.uncovered.get(table, ())
            total = len(covered) + len(missing)
            line = f"{table}: {len(covered)}/{total} rules reached"
            if missing:
                line += f"; no case reaches: {', '.join(missing)}"
            lines.append(line)
        if self.require_full_coverage and not self.fully_covered:
            lines.append("full coverage is required: every rule needs a case")
        return "\n".join(lines)


def uncovered_text(uncovered: Mapping[str, Sequence[str]]) -> str:
    """``fees: fee.a, fee.b; lifecycle: life.c`` for the tables with unreached rules, else ''."""
    return "; ".join(f"{table}: {', '.join(rules)}" for table, rules in uncovered.items() if rules)


def coverage(policy: Policy, results: Iterable[CaseResult]
             ) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Per table, the rules some case reached and the rules none did, both in policy order.

    A case counts for its own table only: a lifecycle case fires terminal rules
    too, but only a terminals case checks what they do.
    """
    reached: dict[str, set[str]] = {table: set() for table in TABLES}
    for result in results:
        reached[result.case.table].update(result.reached)
    covered: dict[str, tuple[str, ...]] = {}
    uncovered: dict[str, tuple[str, ...]] = {}
    for table in TABLES:
        ids = [rule.id for rule in policy.rules(table)]
        covered[table] = tuple(i for i in ids if i in reached[table])
        uncovered[table] = tuple(i for i in ids if i not in reached[table])
    return covered, uncovered


def run_cases(policy: Policy, cases: Iterable[Case], engine: str | None = None, *,
              require_full_coverage: bool = False) -> CaseReport:
    """Run every case on ``engine`` (default: the policy's) and measure rule coverage.

    Raises ``PolicyError`` when a case was written for another policy.
    """
    policy.engine(engine)  # an unknown engine is the caller's error: raise before any case runs
    name = engine or policy.default_engine
    results = tuple(run_case(policy, case, engine) for case in cases)
    covered, uncovered = coverage(policy, results)
    return CaseReport(policy_id=policy.id, policy_version=policy.version, engine=name,
                      results=results, covered=covered, uncovered=uncovered,
                      require_full_coverage=require_full_coverage)


def run_case(policy: Policy, case: Case, engine: str | None = None) -> CaseResult:
    """Decide one case and compare the decision with what the case expects."""
    if case.policy_id != policy.id:
        raise PolicyError(f"{case.where}: case {case.name!r} is for policy {case.policy_id!r}, "
                          f"not {policy.id!r}")
    name = engine or policy.default_engine
    policy.engine(engine)  # an unknown engine is the caller's error, not a failed case
    try:
        if isinstance(case.input, EligibilityInput):
            return _eligibility(policy, case, case.input, engine, name)
        if isinstance(case.input, FeeInput):
            return _fee(policy, case, case.input, engine, name)
        return _events(policy, case, case.input, engine, name)
    except (InputError, EngineError) as exc:
        return CaseResult(case, name, passed=False, error=f"{type(exc).__name__}: {exc}")


def _eligibility(policy: Policy, case: Case, given: EligibilityInput, engine: str | None,
                 name: str) -> CaseResult:
    decision = policy.eligibility(given.subscriber, accepted_on=given.accepted_on, engine=engine)
    got = {key: getattr(decision, key) for key in case.expect}
    differences = _differences(case, case.expect, got)
    why = ""
    if differences:
        why = policy.explain(given.subscriber, accepted_on=given.accepted_on, engine=engine).render()
    return CaseResult(case, name, not differences, differences, got, (decision.rule,), why)


def _fee(policy: Policy, case: Case, given: FeeInput, engine: str | None, name: str) -> CaseResult:
    decision = policy.fee(given.enrollment, given.month, engine=engine)
    got = {key: getattr(decision, key) for key in case.expect}
    differences = _differences(case, case.expect, got)
    why = policy.explain(given.enrollment, given.month, engine=engine).render() if differences else ""
    return CaseResult(case, name, not differences, differences, got, (decision.rule,), why)


def _events(policy: Policy, case: Case, given: EventsInput, engine: str | None,
            name: str) -> CaseResult:
    expect = dict(case.expect)
    refusal = expect.pop("error", None)
    try:
        state = replay(policy, given.events, as_of=given.as_of, engine=engine)
    except InputError as exc:
        if refusal is None:
            raise
        if refusal in str(exc):
            return CaseResult(case, name, True, got={"error": str(exc)})
        return CaseResult(case, name, False, (f"error: expected a refusal saying {refusal!r}, "
                                              f"got {str(exc)!r}",), {"error": str(exc)})
    if case.table == "lifecycle":
        reached = tuple(dict.fromkeys(t.rule for t in state.transitions))
    else:
        reached = tuple(dict.fromkeys(c.rule for c in state.terminal_changes))
    got = {key: _state_field(state, key, reached) for key in expect}
    differences = _differences(case, expect, got)
    if refusal is not None:
        differences = (f"error: expected a refusal saying {refusal!r}, but the events replayed "
                       f"to state {state.state!r}", *differences)
    why = _story(state) if differences else ""
    return CaseResult(case, name, not differences, differences, got, reached, why)


def _state_field(state: EnrollmentState, key: str, reached: tuple[str, ...]) -> Any:
    if key == "rules":
        return reached
    if key == "take_back":
        return tuple(item for change in state.terminal_changes for item in change.take_back)
    if key == "recovery_order":
        return any(change.recovery_order for change in state.terminal_changes)
    return getattr(state, key)


def _differences(case: Case, expect: Mapping[str, Any], got: Mapping[str, Any]) -> tuple[str, ...]:
    """``field: expected X, got Y (line N)`` for every expected field the decision misses."""
    out = []
    for key, wanted in expect.items():
        have = got[key]
        if key == "rules":
            missing = [rule for rule in wanted if rule not in have]
            if not missing:
                continue
            text = (f"rules: expected to appear: {', '.join(wanted)}; missing: {', '.join(missing)}; "
                    f"got: {', '.join(have) or '(none)'}")
        elif sorted(wanted) == sorted(have) if key in _MULTISETS else wanted == have:
            continue
        else:
            text = f"{key}: expected {_show(wanted)}, got {_show(have)}"
        line = case.expect_lines.get(key)
        out.append(f"{text} (line {line})" if line else text)
    return tuple(out)


def _show(value: Any) -> str:
    """A value as the author would write it in YAML."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (tuple, list)):
        return f"[{', '.join(_show(item) for item in value)}]"
    return str(value)


def _story(state: EnrollmentState) -> str:
    """What the replay did, step by step: the transitions, then the terminal changes."""
    lines = [f"{state.account_id} replayed to {state.as_of}: state {state.state}", "transitions:"]
    lines += [f"  {t.on} {t.event}: {t.from_state} -> {t.to_state} ({t.rule} [{t.clause}])"
              for t in state.transitions] or ["  (none)"]
    lines.append("terminal changes:")
    for change in state.terminal_changes:
        done = [f"{label} {_show(list(items))}" for label, items in (
            ("scheme +", change.scheme_add), ("scheme -", change.scheme_remove),
            ("fit", change.fit), ("take back", change.take_back)) if items]
        if change.scheme_change:
            done.append("scheme " + ", ".join(f"{a} -> {b}" for a, b in change.scheme_change.items()))
        lines.append(f"  {change.on} {change.change}: {change.rule} [{change.clause}] "
                     f"{'; '.join(done) or 'no change'}")
    if not state.terminal_changes:
        lines.append("  (none)")
    lines.append(f"item scheme: {_show(list(state.item_scheme))}")
    return "\n".join(lines)
