"""The input contract as data: its columns, skip rules, facts and row checks, loaded and checked.

The contract file is read like a policy file (YAML with lines), and every
problem is reported at once with file, line and field, so an author editing
it never meets a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import attrs

from .._errors import PolicyError, PolicyProblem
from .._words import quoted
from ..policy import _patterns
from ..policy._conditions import (
    PATTERN_OPERATORS,
    AllOf,
    AnyOf,
    Compare,
    Condition,
    FieldRef,
    ParamRef,
    bind,
    fields_of,
    params_of,
)
from ..policy._resources import rulesets_dir, schema_path
from ..policy._yaml_lines import LinedYaml, read_lined
from ._shape import shape_problems

#: The file of the shipped contract, beside the shipped policy.
CONTRACT_FILE = "feed.contract.yaml"
#: How a cell is read, by column type; "id" is text that is NFKC-normalised (ids, phones).
TYPES = ("id", "text", "enum", "bool", "date", "package")
#: The runs a column may be required by and a check may apply to: a feed billed, a feed of
#: subscribers decided, ``Policy.fees(..., on_error=)`` over enrolments.
RUNS = ("bill", "eligibility", "fees")
SCOPES = ("record", "run")
#: Derived facts a check may read, by kind: each path computes a kind its own, single way.
FACT_KINDS = {
    "repeated": "bool", "known_package": "bool", "package_list": "text",
    "campaign_first_day": "date", "campaign_last_day": "date",
    "pattern_words": "text",  # what a policy's pattern parameter allows, in words, for messages
}
#: The steps of a normal form (the contract's ``normal_form``): ``remove`` every character a
#: portable pattern matches, Unicode ``nfkc``, ``strip`` whitespace at both ends.
STEPS = ("remove", "nfkc", "strip")
_COMPARE_OPS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in")
_VALUE_KIND = {"id": "text", "text": "text", "enum": "text", "package": "text",
               "bool": "bool", "date": "date"}


@attrs.frozen
class Column:
    """One feed column: its field, headers, how its cells are read, which runs need it."""

    field: str
    header: str
    also: tuple[str, ...]
    type: str
    values: Mapping[str, str]  # enum value -> Chinese name
    required: tuple[str, ...]

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header that names this column: the field, the Chinese header, other spellings."""
        return (self.field, self.header, *self.also)


@attrs.frozen
class Step:
    """One step of a column type's normal form; ``pattern`` is what a ``remove`` step deletes."""

    kind: str
    pattern: str | None = None


#: The normal form of a column type the contract gives none: surrounding whitespace removed.
PLAIN = (Step("strip"),)


@attrs.frozen
class Fact:
    """A value a check reads that is not a cell: computed by each path from the run."""

    name: str
    kind: str
    of: str | None
    parameter: str | None = None  # the policy parameter a ``pattern_words`` fact says in words


@attrs.frozen
class Check:
    """One row check: when ``when`` holds, the row is rejected on ``field`` with ``message``."""

    id: str
    scope: str
    clause: str
    text: str
    field: str
    when: Condition
    message: str
    runs: tuple[str, ...] = RUNS
    line: int | None = None

    def reads(self) -> set[str]:
        """The fields and facts the check reads, its message's included."""
        return fields_of(self.when) | set(placeholders(self.message))

    def bound(self, parameters: Mapping[str, Any]) -> Check:
        """The check with the policy's values for the parameters it reads (``{param: name}``).

        Raises ``PolicyError`` when the policy lacks one or its value is no portable pattern.
        """
        for name in params_of(self.when):
            value = parameters.get(name)
            why = "the policy has no such parameter" if name not in parameters \
                else _patterns.problem(value)
            if why is not None:
                raise PolicyError(f"the input contract's check {self.id} reads parameters.{name}: "
                                  f"{why}")
        return attrs.evolve(self, when=bind(self.when, parameters))


@attrs.frozen
class Skip:
    """Rows that are not records: blank rows and a form's total rows."""

    blank: bool
    total_markers: tuple[str, ...]


#: The words of a cell that cannot be read, by what went wrong (the contract's ``cells``).
CELL_PROBLEMS = ("missing", "text", "date", "year", "bool", "enum")


@attrs.frozen
class Contract:
    """The input contract: what a feed may hold and what a row must satisfy."""

    id: str
    source: str
    columns: tuple[Column, ...]
    skip: Skip
    facts: Mapping[str, Fact]
    checks: tuple[Check, ...]
    cells: Mapping[str, str] = attrs.field(factory=dict)
    normal_form: Mapping[str, tuple[Step, ...]] = attrs.field(factory=dict)
    #: The first and last year a date or a billing month may fall in.
    years: tuple[int, int] = (1, 9999)

    def year_problem(self, year: int) -> str | None:
        """The words for a date or month in ``year`` outside ``years``; None when inside."""
        first, last = self.years
        if first <= year <= last:
            return None
        return self.cell_problem("year", year=f"{year:04d}", first=str(first), last=str(last))

    def steps(self, field: str) -> tuple[Step, ...]:
        """How a cell of ``field`` is put in its normal form, by its column's type."""
        return self.normal_form.get(self.column(field).type, PLAIN)

    def cell_problem(self, problem: str, **values: str) -> str:
        """The words for a cell that cannot be read (``"date"``, ``"enum"``, ...), filled in."""
        return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), self.cells[problem])

    def column(self, field: str) -> Column:
        for column in self.columns:
            if column.field == field:
                return column
        raise KeyError(field)

    def required(self, run: str) -> tuple[str, ...]:
        """The fields a ``run`` ("bill" or "eligibility") cannot do without, in column order."""
        return tuple(c.field for c in self.columns if run in c.required)

    def kind(self, name: str) -> str:
        """``"text"``, ``"bool"`` or ``"date"``: what a field's or fact's value is."""
        if name in self.facts:
            return FACT_KINDS[self.facts[name].kind]
        return _VALUE_KIND[self.column(name).type]

    def scoped(self, scope: str, run: str | None = None,
               parameters: Mapping[str, Any] | None = None) -> tuple[Check, ...]:
        """The checks of ``scope`` ("record" or "run"), of those only the ones ``run`` applies;
        with a policy's ``parameters``, bound to them (``Check.bound``), ready to compile."""
        checks = tuple(c for c in self.checks if c.scope == scope and (run is None or run in c.runs))
        return checks if parameters is None else tuple(c.bound(parameters) for c in checks)

    def constants(self, parameters: Mapping[str, Any]) -> dict[str, str]:
        """The facts that are the same for a whole run under a policy's ``parameters``, by name:
        each ``pattern_words`` fact, its parameter's pattern said in words."""
        return {name: _patterns.words(str(parameters[fact.parameter]))
                for name, fact in self.facts.items()
                if fact.kind == "pattern_words" and fact.parameter is not None}


def placeholders(message: str) -> list[str]:
    """The ``{name}`` slots of a message, in order."""
    return re.findall(r"\{(\w+)\}", message)


@cache
def load_contract(path: str | Path | None = None) -> Contract:
    """The input contract at ``path``; without one, the shipped contract. Loaded once per path.

    Raises ``PolicyError`` listing every problem with its line.
    """
    where = Path(path) if path is not None else rulesets_dir() / CONTRACT_FILE
    return _Reader(str(where), read_lined(where, "contract file")).contract()


def _field(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path) or "(file)"


class _Reader:
    def __init__(self, source: str, lined: LinedYaml) -> None:
        self.source = source
        self.lined = lined
        self.problems: list[PolicyProblem] = []

    def problem(self, path: tuple[str | int, ...], message: str) -> None:
        self.problems.append(PolicyProblem(self.source, self.lined.line(path), _field(path), message))

    def contract(self) -> Contract:
        data = self.lined.data
        for path, line in self.lined.duplicates:
            self.problems.append(PolicyProblem(self.source, line, _field(path), "duplicate key"))
        for path, line, why in self.lined.bad_scalars:
            self.problems.append(PolicyProblem(self.source, line, _field(path), why))
        if isinstance(data, dict):
            # A value of the wrong type is refused before the reader below reads it.
            self.problems.extend(shape_problems(self.source, self.lined))
        if self.problems:
            raise PolicyError(f"{self.source}: the contract has {len(self.problems)} problem(s)",
                              tuple(self.problems))
        if not isinstance(data, dict):
            raise PolicyError(f"{self.source}: a contract file is a mapping",
                              (PolicyProblem(self.source, 1, "(file)", "expected a mapping"),))
        if data.get("format") != 1:
            self.problem(("format",), "expected format: 1")
        columns = self._columns(data.get("columns"))
        names = {c.field for c in columns}
        facts = self._facts(data.get("facts") or {}, names)
        skip = self._skip(data.get("skip") or {})
        cells = data.get("cells") or {}
        missing = [name for name in CELL_PROBLEMS if not isinstance(cells.get(name), str)]
        if missing:
            self.problem(("cells",), f"the words for every cell problem are needed: {', '.join(missing)}")
        contract = Contract(str(data.get("id", "")), self.source, columns, skip, facts, (),
                            {str(k): str(v) for k, v in cells.items()},
                            self._normal_form(data.get("normal_form") or {}),
                            self._years(data.get("years")))
        checks = self._checks(data.get("checks"), contract)
        if self.problems:
            raise PolicyError(f"{self.source}: the contract has {len(self.problems)} problem(s)",
                              tuple(self.problems))
        return attrs.evolve(contract, checks=checks)

    def _columns(self, raw: Any) -> tuple[Column, ...]:
        if not isinstance(raw, list) or not raw:
            self.problem(("columns",), "expected a list of columns")
            return ()
        out: list[Column] = []
        seen: set[str] = set()
        for at, item in enumerate(raw):
            path = ("columns", at)
            if not isinstance(item, dict) or not isinstance(item.get("field"), str):
                self.problem(path, "a column needs a field name")
                continue
            field = item["field"]
            if field in seen:
                self.problem((*path, "field"), f"column {quoted(field)} is listed twice")
            seen.add(field)
            kind = item.get("type")
            if kind not in TYPES:
                self.problem((*path, "type"), f"unknown type {quoted(kind)}; use one of: {', '.join(TYPES)}")
                continue
            required = tuple(item.get("required") or ())
            for run in required:
                if run not in RUNS:
                    self.problem((*path, "required"), f"unknown run {quoted(run)}; use: {', '.join(RUNS)}")
            values = item.get("values") or {}
            if (kind == "enum") != bool(values):
                self.problem((*path, "values"), "an enum column lists its values, and only an enum")
            out.append(Column(field, str(item.get("header", field)), tuple(item.get("also") or ()),
                              kind, {str(k): str(v) for k, v in values.items()}, required))
        return tuple(out)

    def _years(self, raw: Any) -> tuple[int, int]:
        first, last = (raw.get("first"), raw.get("last")) if isinstance(raw, dict) else (None, None)
        if not (type(first) is int and type(last) is int and 1 <= first <= last <= 9998):
            self.problem(("years",), "expected {first: YEAR, last: YEAR}, 1 <= first <= last <= 9998")
            return (1, 9998)
        return (first, last)

    def _normal_form(self, raw: Any) -> dict[str, tuple[Step, ...]]:
        if not isinstance(raw, dict):
            self.problem(("normal_form",), "expected a mapping of column type to its steps")
            return {}
        forms: dict[str, tuple[Step, ...]] = {}
        for kind, items in raw.items():
            path: tuple[str | int, ...] = ("normal_form", str(kind))
            if kind not in TYPES:
                self.problem(path, f"unknown column type {kind!r}; use one of: {', '.join(TYPES)}")
                continue
            if not isinstance(items, list):
                self.problem(path, "expected a list of steps")
                continue
            steps = [self._step(item, (*path, at)) for at, item in enumerate(items)]
            forms[str(kind)] = tuple(step for step in steps if step is not None)
        return forms

    def _step(self, item: Any, path: tuple[str | int, ...]) -> Step | None:
        if item in STEPS and item != "remove":
            return Step(str(item))
        if isinstance(item, dict) and set(item) == {"remove"}:
            why = _patterns.problem(item["remove"], _patterns.CONTRACT_MAX_LENGTH)
            if why is not None:
                self.problem((*path, "remove"), why)
                return None
            return Step("remove", str(item["remove"]))
        self.problem(path, "a step is nfkc, strip or {remove: PATTERN}")
        return None

    def _facts(self, raw: Any, names: set[str]) -> dict[str, Fact]:
        facts: dict[str, Fact] = {}
        for name, spec in raw.items():
            path = ("facts", name)
            kind = spec.get("kind") if isinstance(spec, dict) else None
            if kind not in FACT_KINDS:
                self.problem((*path, "kind"), f"unknown fact kind {quoted(kind)}; "
                                              f"use one of: {', '.join(FACT_KINDS)}")
                continue
            of = spec.get("of")
            if of is not None and of not in names:
                self.problem((*path, "of"), f"{quoted(of)} is not a column of the contract")
            parameter = spec.get("parameter")
            if (kind == "pattern_words") != (parameter is not None):
                self.problem((*path, "parameter"), "a pattern_words fact names its parameter, "
                                                   "and only such a fact")
            elif parameter is not None and parameter not in pattern_parameters():
                self.problem((*path, "parameter"), _unknown_pattern(parameter))
            facts[str(name)] = Fact(str(name), kind, of,
                                    None if parameter is None else str(parameter))
        return facts

    def _skip(self, raw: Any) -> Skip:
        return Skip(bool(raw.get("blank", True)), tuple(str(m) for m in raw.get("total_markers") or ()))

    def _checks(self, raw: Any, contract: Contract) -> tuple[Check, ...]:
        if not isinstance(raw, list):
            self.problem(("checks",), "expected a list of checks")
            return ()
        known = {c.field for c in contract.columns} | set(contract.facts)
        out: list[Check] = []
        ids: set[str] = set()
        record_done = False
        for at, item in enumerate(raw):
            path: tuple[str | int, ...] = ("checks", at)
            if not isinstance(item, dict):
                self.problem(path, "a check is a mapping")
                continue
            missing = [k for k in ("id", "scope", "clause", "field", "when", "message") if k not in item]
            if missing:
                self.problem(path, f"a check needs: {', '.join(missing)}")
                continue
            if item["id"] in ids:
                self.problem((*path, "id"), f"check {quoted(item['id'])} is listed twice")
            ids.add(item["id"])
            scope = item["scope"]
            if scope not in SCOPES:
                self.problem((*path, "scope"), f"use one of: {', '.join(SCOPES)}")
            elif scope == "run":
                record_done = True
            elif record_done:
                self.problem((*path, "scope"), "record checks come before run checks: the model "
                                               "runs them when it builds a record, before the run can")
            if item["field"] not in known:
                self.problem((*path, "field"), f"unknown field {quoted(item['field'])}")
            when = self._condition(item["when"], (*path, "when"), contract, known)
            message = str(item["message"])
            for name in placeholders(message):
                if name not in known:
                    self.problem((*path, "message"), f"{{{name}}} is not a field or fact")
            if scope == "record":
                outside = [n for n in fields_of(when) | set(placeholders(message))
                           if n in contract.facts]
                if outside:
                    self.problem((*path, "scope"), f"a record check cannot read run facts: "
                                                   f"{', '.join(sorted(outside))}")
                if params_of(when):
                    self.problem((*path, "scope"), "a record check cannot read policy parameters: "
                                                   "the model that runs it has no policy")
            runs = tuple(item.get("runs") or RUNS)
            for run in runs:
                if run not in RUNS:
                    self.problem((*path, "runs"), f"unknown run {quoted(run)}; use: {', '.join(RUNS)}")
            if scope == "record" and runs != RUNS:
                self.problem((*path, "runs"), "a record check holds for every run")
            out.append(Check(str(item["id"]), scope, str(item["clause"]), str(item.get("text", "")),
                             str(item["field"]), when, message, runs, self.lined.line(path)))
        return tuple(out)

    def _condition(self, node: Any, path: tuple[str | int, ...], contract: Contract,
                   known: set[str]) -> Condition:
        if not isinstance(node, dict) or not node:
            self.problem(path, "a condition is a non-empty mapping")
            return AllOf(())
        parts: list[Condition] = []
        for key, value in node.items():
            here = (*path, key)
            if key in ("any", "all"):
                subs = tuple(self._condition(v, (*here, i), contract, known)
                             for i, v in enumerate(value if isinstance(value, list) else []))
                if not subs:
                    self.problem(here, f"{key} takes a non-empty list of conditions")
                parts.append(AnyOf(subs) if key == "any" else AllOf(subs))
                continue
            if key not in known:
                self.problem(here, f"unknown field {quoted(key)}")
                continue
            tests = value if isinstance(value, dict) else {"eq": value}
            for op, operand in tests.items():
                compare = self._compare(str(key), str(op), operand, (*here, op), contract, known)
                if compare is not None:
                    parts.append(compare)
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def _compare(self, field: str, op: str, operand: Any, path: tuple[str | int, ...],
                 contract: Contract, known: set[str]) -> Compare | None:
        if op == "empty":
            if not isinstance(operand, bool):
                self.problem(path, "empty takes true or false")
                return None
            return Compare(field, "empty", operand)
        if op in PATTERN_OPERATORS:
            return self._pattern(field, op, operand, path, contract)
        if op not in _COMPARE_OPS:
            self.problem(path, f"unknown operator {quoted(op)}; use empty or one of: "
                               f"{', '.join((*_COMPARE_OPS, *PATTERN_OPERATORS))}")
            return None
        if isinstance(operand, dict):
            other = operand.get("field")
            if set(operand) != {"field"} or other not in known:
                self.problem(path, "compare with another field as {field: NAME} of a known field")
                return None
            if contract.kind(other) != contract.kind(field):
                self.problem(path, f"{field} and {other} hold different kinds of value")
                return None
            return Compare(field, op, FieldRef(other))
        kind = contract.kind(field)
        values = operand if op in ("in", "not_in") else [operand]
        if not isinstance(values, list) or any(_kind_of(v) != kind for v in values):
            self.problem(path, f"{quoted(operand)} is not a {kind} value for {field}")
            return None
        return Compare(field, op, tuple(values) if op in ("in", "not_in") else values[0])


    def _pattern(self, field: str, op: str, operand: Any, path: tuple[str | int, ...],
                 contract: Contract) -> Compare | None:
        """``matches`` / ``not_matches``: a text field and a portable pattern, or a policy's."""
        if contract.kind(field) != "text":
            self.problem(path, f"{op} applies to text; {field} holds a {contract.kind(field)}")
            return None
        if isinstance(operand, dict):
            name = operand.get("param")
            if set(operand) != {"param"} or not isinstance(name, str):
                self.problem(path, f"{op} takes a pattern or {{param: NAME}} of a policy parameter")
                return None
            if name not in pattern_parameters():
                self.problem(path, _unknown_pattern(name))
                return None
            return Compare(field, op, ParamRef(name))
        why = _patterns.problem(operand, _patterns.CONTRACT_MAX_LENGTH)
        if why is not None:
            self.problem(path, why)
            return None
        return Compare(field, op, operand)


@cache
def pattern_parameters() -> tuple[str, ...]:
    """The policy parameters that hold a pattern (``"format": "regex"`` in the policy schema)."""
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    specs = schema["properties"]["parameters"]["properties"]
    return tuple(name for name, spec in specs.items() if spec.get("format") == "regex")


def _unknown_pattern(name: object) -> str:
    known = ", ".join(pattern_parameters()) or "none"
    return f"{quoted(name)} is not a pattern parameter of a policy; known: {known}"


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if hasattr(value, "isoformat"):
        return "date"
    return "text"

