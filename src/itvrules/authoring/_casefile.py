"""Rule tests beside a policy: read a ``*.cases.yaml`` file into checked cases.

Rule authors change YAML, not Python, so their examples (an input and the
decision it must get) live in YAML too. A case file is checked against the
policy it tests before anything runs: every problem is collected with its
file, line and field and raised once as a ``PolicyError``, as the policy
loader does, so an author fixes them all in one pass.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import attrs

from .._errors import EngineError, InputError, PolicyError, PolicyProblem
from .._words import kind_of, quoted
from ..lifecycle import Event, replay
from ..model._convert import structure
from ..model._enums import FeeCode, IneligibleReason, Segment
from ..model._inputs import Enrollment, Subscriber
from ..model._money import parse_yuan
from ..model._months import parse_month
from ..model._parse import parse_bool, parse_date
from ..policy._policy import Policy
from ..policy._versions import pick
from ..policy._yaml_lines import LinedYaml, read_lined
from ..policy._yaml_lines import Path as YPath

#: The decision tables a case can test, in policy order.
TABLES = ("eligibility", "fees", "lifecycle", "terminals")
#: How a case file is named: ``<policy-name>.cases.yaml`` beside ``<policy-name>.yaml``.
CASE_SUFFIXES = (".cases.yaml", ".cases.yml")

#: table -> (required inputs, optional inputs)
INPUTS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "eligibility": (("subscriber", "accepted_on"), ()),
    "fees": (("enrollment", "month"), ()),
    "lifecycle": (("events", "as_of"), ("account_id",)),
    "terminals": (("events", "as_of"), ("account_id",)),
}
_CASE_KEYS = ("name", "table", "expect", "note")
_TOP_KEYS = ("policy", "cases", "note")
_EVENT_KEYS = ("kind", "on", "data", "account_id")


@attrs.frozen
class EligibilityInput:
    """Who asks and when the order is taken."""

    subscriber: Subscriber
    accepted_on: date


@attrs.frozen
class FeeInput:
    """Which enrolment is billed and for which month."""

    enrollment: Enrollment
    month: str


@attrs.frozen
class EventsInput:
    """The dated events of one enrolment, replayed up to ``as_of``."""

    events: tuple[Event, ...]
    as_of: date


CaseInput = EligibilityInput | FeeInput | EventsInput


@attrs.frozen
class Case:
    """One example from a case file: a table, its input and what the decision must be."""

    name: str
    table: str
    input: CaseInput
    #: expected fields, already read: bools, Decimal money, tuples of names
    expect: Mapping[str, Any]
    policy_id: str
    source: str = ""
    line: int = 0
    #: the line of every expected field, so a failure points at what to edit
    expect_lines: Mapping[str, int] = attrs.field(factory=dict)

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source


# -- expected fields -----------------------------------------------------------------
_Check = Callable[[Any, Policy, str], Any]


def _bool(value: Any, _policy: Policy, _table: str) -> bool:
    return parse_bool(value)


def _text(value: Any, _policy: Policy, _table: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected text")
    return value


def _money(value: Any, _policy: Policy, _table: str) -> Any:
    try:
        return parse_yuan(value)
    except ValueError as exc:
        raise ValueError(f"{exc}; write money as a quoted decimal string such as '35.00'") from None


def _one_of(allowed: Callable[[Policy], tuple[str, ...]], *, nullable: bool = False) -> _Check:
    def check(value: Any, policy: Policy, _table: str) -> Any:
        if value is None and nullable:
            return None
        choices = allowed(policy)
        if value not in choices:
            extra = " or null" if nullable else ""
            raise ValueError(f"expected one of: {', '.join(choices)}{extra}{_did_you_mean(value, choices)}")
        return value

    return check


def _did_you_mean(value: Any, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(value), choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _rule_id(value: Any, policy: Policy, table: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a rule id is text, not {kind_of(value)}")
    ids = tuple(rule.id for rule in policy.rules(table))
    if value in ids:
        return str(value)
    elsewhere = [name for name in TABLES if name != table
                 and value in {rule.id for rule in policy.rules(name)}]
    hint = f" (it is a rule of the {elsewhere[0]} table)" if elsewhere else _did_you_mean(value, ids)
    raise ValueError(f"a case for a rule that does not exist: {value!r} is not a rule of the "
                     f"{table} table of policy {policy.id}{hint}")


def _rule(value: Any, policy: Policy, table: str) -> str:
    return _rule_id(value, policy, table)


def _rules(value: Any, policy: Policy, table: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("expected a list of rule ids, e.g. [life.install]")
    return tuple(_rule_id(item, policy, table) for item in value)


def _names(value: Any, _policy: Policy, _table: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("expected a list of names, e.g. [trial_stb, leased_e8b]")
    return tuple(value)


def _trial_month(value: Any, _policy: Policy, _table: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("expected a trial month 1, 2, 3 ... or null")
    return value


def _segments(_policy: Policy) -> tuple[str, ...]:
    return tuple(s.value for s in Segment)


def _reasons(_policy: Policy) -> tuple[str, ...]:
    return tuple(r.value for r in IneligibleReason) + _segments(_policy)


def _fee_codes(_policy: Policy) -> tuple[str, ...]:
    return tuple(c.value for c in FeeCode)


def _packages(policy: Policy) -> tuple[str, ...]:
    return tuple(policy.packages)


def _states(policy: Policy) -> tuple[str, ...]:
    return tuple(policy.document.lifecycle_states)


#: What a case may expect, per table, and how each value is read and checked.
EXPECT_FIELDS: Mapping[str, Mapping[str, _Check]] = {
    "eligibility": {
        "eligible": _bool, "segment": _one_of(_segments, nullable=True),
        "reason": _one_of(_reasons), "rule": _rule, "clause": _text, "review": _bool,
    },
    "fees": {
        "code": _one_of(_fee_codes), "gross": _money, "waived": _money, "amount": _money,
        "rule": _rule, "clause": _text, "package": _one_of(_packages, nullable=True),
        "follow_up": _bool,
    },
    "lifecycle": {
        "state": _one_of(_states), "rules": _rules, "trial_month": _trial_month,
        "install_overdue": _bool, "error": _text,
    },
    "terminals": {
        "rules": _rules, "state": _one_of(_states), "item_scheme": _names, "fitted": _names,
        "take_back": _names, "recovery_order": _bool, "error": _text,
    },
}


# -- finding the policy ----------------------------------------------------------------
def is_case_file(path: Path) -> bool:
    """Whether ``path`` is named like a case file (``*.cases.yaml``)."""
    return path.name.endswith(CASE_SUFFIXES)


def _policy_stem(path: Path) -> str:
    """``itv-trial`` for ``itv-trial.cases.yaml``."""
    for suffix in CASE_SUFFIXES:
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    return path.stem


def _names_a_file(value: str) -> bool:
    return value.endswith((".yaml", ".yml")) or "/" in value or "\\" in value


def policy_path_for(case_path: str | Path) -> Path:
    """The policy a case file tests: ``policy:`` when it is a path, else ``<name>.yaml`` beside it.

    Raises ``PolicyError`` (with the file and line) when neither exists.
    """
    path = Path(case_path)
    lined = _read(path)
    data = lined.data if isinstance(lined.data, dict) else {}
    named = data.get("policy")
    if isinstance(named, str) and _names_a_file(named):
        target = path.parent / named
        if target.exists():
            return target
        problem = PolicyProblem(str(path), lined.line(("policy",)), "policy",
                                f"no policy at {named} (read relative to the case file)")
        raise PolicyError(f"{path}: cannot find the policy it tests", (problem,))
    stem = _policy_stem(path)
    for suffix in (".yaml", ".yml"):
        beside = path.with_name(stem + suffix)
        if beside.exists():
            return beside
    problem = PolicyProblem(str(path), lined.line(("policy",)), "policy",
                            f"no policy beside the case file ({stem}.yaml); put the cases beside "
                            "their policy or give its file, e.g. `policy: ../rulesets/itv-trial.yaml`")
    raise PolicyError(f"{path}: cannot find the policy it tests", (problem,))


def _read(path: Path) -> LinedYaml:
    return read_lined(path, "case file")


# -- reading a case file -----------------------------------------------------------------
def load_cases(path: str | Path, policy: Policy) -> list[Case]:
    """The cases of the file at ``path``, each checked against ``policy``.

    Raises ``PolicyError`` listing every problem with its file, line and
    field: malformed YAML, an unknown table, a missing input, an unknown
    expected field, a rule the policy does not have, an input the model
    refuses, a case file written for another policy.
    """
    path = Path(path)
    reader = _Reader(path, _read(path), policy)
    cases = reader.run()
    if reader.problems:
        problems = tuple(sorted(reader.problems, key=lambda p: (p.line or 0, p.field)))
        raise PolicyError(f"{path}: {len(problems)} problem(s) in the case file", problems)
    return cases


def _dotted(path: YPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def _input_problem(error: InputError) -> str:
    got = "" if error.value is None else f" (got {quoted(error.value)})"
    return f"bad input: {error.problem}{got}"


def _a(table: str) -> str:
    return f"an {table}" if table[0] in "aeiou" else f"a {table}"


class _Reader:
    """Collects problems while turning one case file into ``Case`` objects."""

    def __init__(self, path: Path, lined: LinedYaml, policy: Policy) -> None:
        self.path = path
        self.source = str(path)
        self.lined = lined
        self.policy = policy
        self.problems: list[PolicyProblem] = []
        self._seen: set[tuple[int | None, str]] = set()

    def problem(self, path: YPath, message: str) -> None:
        self.add(self.lined.line(path), _dotted(path), message)

    def add(self, line: int | None, field: str, message: str) -> None:
        self._seen.add((line, field))
        self.problems.append(PolicyProblem(self.source, line, field, message))

    def run(self) -> list[Case]:
        for path, line in self.lined.duplicates:
            self.add(line, _dotted(path), "duplicate key")
        data = self.lined.data
        if not isinstance(data, dict):
            self.problem((), "a case file is a YAML mapping with `policy` and `cases`")
            return []
        for key in data:
            if key not in _TOP_KEYS:
                self.problem((key,), f"unknown key; a case file has {', '.join(_TOP_KEYS)}")
        self.check_policy(data.get("policy"))
        raw_cases = data.get("cases")
        if not isinstance(raw_cases, list) or not raw_cases:
            self.problem(("cases",), "expected a list of cases (name, table, inputs, expect)")
            return []
        names: dict[str, int] = {}
        cases = [self.case(index, raw, names) for index, raw in enumerate(raw_cases)]
        for path, line, why in self.lined.bad_scalars:  # only where no check said it already
            shown = _dotted(path)
            if (line, shown) not in self._seen:
                self.add(line, shown, why)
        return [case for case in cases if case is not None]

    def check_policy(self, named: Any) -> None:
        here = ("policy",)
        if named is None:
            self.problem(here, "missing: the id of the policy these cases test, or a path to its file")
        elif not isinstance(named, str) or not named.strip():
            self.problem(here, "expected a policy id such as itv-trial, or a path to the policy file")
        elif _names_a_file(named):
            try:
                found = pick(self.path.parent / named, None).id
            except PolicyError as exc:
                self.problem(here, f"cannot load the policy {named}: {str(exc).splitlines()[0]}")
                return
            if found != self.policy.id:
                self.problem(here, f"a case file for another policy: {named} is policy {quoted(found)}, "
                                   f"but the cases run against policy {self.policy.id!r}")
        elif named != self.policy.id:
            self.problem(here, f"a case file for another policy: it tests {quoted(named)}, but the "
                               f"cases run against policy {self.policy.id!r} ({self.policy.source})")

    # -- one case ---------------------------------------------------------------------------
    def case(self, index: int, raw: Any, names: dict[str, int]) -> Case | None:
        at: YPath = ("cases", index)
        if not isinstance(raw, dict):
            self.problem(at, "a case is a mapping with name, table, its inputs and expect")
            return None
        before = len(self.problems)
        raw_name = raw.get("name")
        name = self.case_name(at, raw_name, names)
        label = f"case {raw_name!r}" if isinstance(raw_name, str) and raw_name.strip() \
            else f"case #{index + 1}"
        table = raw.get("table")
        if table not in TABLES:
            shown = "missing" if table is None else f"unknown table {quoted(table)}"
            self.problem((*at, "table"), f"{label}: {shown}; the tables are {', '.join(TABLES)}"
                                         f"{_did_you_mean(table, TABLES) if table else ''}")
            return None
        required, optional = INPUTS[table]
        for key in raw:
            if key in _CASE_KEYS or key in required or key in optional:
                continue
            others = [t for t, (req, opt) in INPUTS.items() if key in req or key in opt]
            why = (f"not an input of {_a(table)} case (it takes {', '.join(required + optional)})"
                   if others else f"unknown key; a case has {', '.join(_CASE_KEYS)} and its inputs")
            self.problem((*at, key), f"{label}: {why}")
        missing = [key for key in required if key not in raw]
        if missing:
            self.problem(at, f"{label}: missing input {', '.join(map(repr, missing))}; "
                             f"{_a(table)} case needs {' and '.join(required)}")
        expect = self.expect(at, label, table, raw.get("expect"))
        case_input = None if missing else self.case_input(at, label, table, raw, name, expect)
        if len(self.problems) > before or case_input is None or expect is None or name is None:
            return None
        expect_lines = {key: self.lined.line((*at, "expect", key)) or 0 for key in expect}
        return Case(name=name, table=table, input=case_input, expect=expect,
                    policy_id=self.policy.id, source=self.source,
                    line=self.lined.line(at) or 0, expect_lines=expect_lines)

    def case_name(self, at: YPath, name: Any, names: dict[str, int]) -> str | None:
        here = (*at, "name")
        if not isinstance(name, str) or not name.strip():
            self.problem(here if name is not None else at,
                         "every case needs a name that says what it shows")
            return None
        if "::" in name or any(ch in name for ch in "\n\r\t"):
            self.problem(here, f"case {name!r}: a name is one line without '::' (it becomes a test id)")
            return None
        if name in names:
            self.problem(here, f"case {name!r}: duplicate case name (first on line {names[name]})")
            return None
        names[name] = self.lined.line(here) or 0
        return name

    def expect(self, at: YPath, label: str, table: str, raw: Any) -> dict[str, Any] | None:
        here = (*at, "expect")
        if not isinstance(raw, dict) or not raw:
            self.problem(here if raw is not None else at,
                         f"{label}: missing expect: the fields the decision must have")
            return None
        checks = EXPECT_FIELDS[table]
        out: dict[str, Any] = {}
        for key, value in raw.items():
            check = checks.get(key)
            if check is None:
                known = tuple(checks)
                self.problem((*here, key), f"{label}: unknown expect field {key!r} for "
                                           f"{_a(table)} case; known: {', '.join(known)}"
                                           f"{_did_you_mean(key, known)}")
                continue
            try:
                out[key] = check(value, self.policy, table)
            except ValueError as exc:
                self.problem((*here, key), f"{label}: {exc}")
        return out

    # -- inputs -----------------------------------------------------------------------------
    def case_input(self, at: YPath, label: str, table: str, raw: dict[str, Any], name: str | None,
                   expect: dict[str, Any] | None) -> CaseInput | None:
        if table == "eligibility":
            subscriber = self.model(at, "subscriber", label, raw["subscriber"], Subscriber)
            accepted_on = self.day(at, "accepted_on", label, raw["accepted_on"])
            if subscriber is None or accepted_on is None:
                return None
            return EligibilityInput(subscriber, accepted_on)
        if table == "fees":
            enrollment = self.model(at, "enrollment", label, raw["enrollment"], Enrollment)
            month = self.month(at, label, raw["month"])
            if enrollment is None or month is None:
                return None
            switched_to = enrollment.switched_to
            if switched_to is not None and switched_to not in self.policy.packages:
                self.problem((*at, "enrollment", "switched_to"),
                             f"{label}: bad input: unknown iTV package {quoted(switched_to)}; known: "
                             f"{', '.join(self.policy.packages)}")
                return None
            return FeeInput(enrollment, month)
        account = raw.get("account_id", name or "case")
        if not isinstance(account, str | int) or isinstance(account, bool) or not str(account).strip():
            self.problem((*at, "account_id"), f"{label}: expected an account id as text")
            return None
        events = self.events(at, label, str(account), raw["events"])
        as_of = self.day(at, "as_of", label, raw["as_of"])
        if events is None or as_of is None:
            return None
        if expect is not None and "error" not in expect:
            self.dry_run(at, label, events, as_of)
        return EventsInput(events, as_of)

    def model(self, at: YPath, key: str, label: str, raw: Any, cls: type[Any]) -> Any:
        here = (*at, key)
        if not isinstance(raw, dict):
            self.problem(here, f"{label}: expected a mapping of {cls.__name__} fields")
            return None
        try:
            return structure(raw, cls)
        except InputError as exc:
            field = (*here, exc.field) if exc.field in raw else here
            self.problem(field, f"{label}: {_input_problem(exc)}")
            return None

    def day(self, at: YPath, key: str, label: str, raw: Any) -> date | None:
        try:
            return parse_date(raw)
        except ValueError as exc:
            self.problem((*at, key), f"{label}: bad input: {exc} (got {quoted(raw)})")
            return None

    def month(self, at: YPath, label: str, raw: Any) -> str | None:
        try:
            parse_month(raw)
        except InputError as exc:
            self.problem((*at, "month"), f"{label}: {_input_problem(exc)}")
            return None
        return str(raw)

    def events(self, at: YPath, label: str, account: str, raw: Any) -> tuple[Event, ...] | None:
        here = (*at, "events")
        if not isinstance(raw, list) or not raw:
            self.problem(here, f"{label}: expected a list of events (kind, on, data)")
            return None
        out: list[Event] = []
        for index, item in enumerate(raw):
            where = (*here, index)
            if not isinstance(item, dict):
                self.problem(where, f"{label}: an event is a mapping with kind, on and data")
                continue
            unknown = [key for key in item if key not in _EVENT_KEYS]
            for key in unknown:
                self.problem((*where, key), f"{label}: unknown event key; an event has "
                                            f"{', '.join(_EVENT_KEYS)}")
            if unknown:
                continue
            fields = {"account_id": account, "data": {}, **item,
                      "source": self.source, "source_row": self.lined.line(where) or 0}
            if fields["data"] is None:
                fields["data"] = {}
            try:
                out.append(structure(fields, Event))
            except InputError as exc:
                field = (*where, exc.field) if exc.field in item else where
                self.problem(field, f"{label}: {_input_problem(exc)}")
        return tuple(out) if len(out) == len(raw) else None

    def dry_run(self, at: YPath, label: str, events: tuple[Event, ...], as_of: date) -> None:
        """Replay once, so events the lifecycle refuses are reported with the rest."""
        try:
            replay(self.policy, events, as_of=as_of, engine="compiled")
        except InputError as exc:
            lines = [event.source_row for event in events]
            here: YPath = (*at, "events")
            if exc.row in lines:
                here = (*here, lines.index(exc.row))
                if exc.field in ("kind", "on", "account_id"):
                    here = (*here, exc.field)
            elif exc.field == "on" and exc.value is not None:
                here = (*at, "as_of")
            self.problem(here, f"{label}: {_input_problem(exc)}; to test a refusal, "
                               "expect `error:` with words of the message")
        except EngineError as exc:
            self.problem((*at, "events"), f"{label}: the policy cannot replay these events: {exc}")
