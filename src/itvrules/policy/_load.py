"""Load a policy file: parse, check against the JSON Schema, then check meaning.

Every problem is collected with its file, line and field and raised once as a
``PolicyError``, so an author fixes them all in one pass.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from .._errors import PolicyError, PolicyProblem
from ..model._money import parse_yuan
from . import _patterns
from ._assumptions import read_assumptions
from ._conditions import AllOf, AnyOf, Compare, Condition
from ._document import Package, PolicyDocument, Rule, State
from ._facts import FIELDS, TABLE_PATHS
from ._resources import schema_path
from ._schema_words import schema_message, yaml_words
from ._yaml_lines import LinedYaml, parse_lined, read_lined
from ._yaml_lines import Path as YPath

_DATE_PARAMS = ("campaign.first_day", "campaign.last_day")
#: Parameters a policy file may leave out, and the value it then has.
DEFAULT_PARAMETERS = {
    "account_id_pattern": "[A-Za-z0-9@._-]+",  # ASCII letters, digits and @ . _ -
    "playback_problem_days": 1,  # a playback problem a call reported is due the next day (§四(五)1)
    "cancellation_step_days": 7,  # §四(五)2: the notice gives no day count (an assumption)
}
_OPS_BY_KIND = {
    "bool": {"eq", "ne"},
    "str": {"eq", "ne", "in", "not_in"},
    "enum": {"eq", "ne", "in", "not_in"},
    "int": {"eq", "ne", "lt", "le", "gt", "ge", "in", "not_in"},
    "date": {"eq", "ne", "lt", "le", "gt", "ge"},
}


def load_document(path: Path) -> PolicyDocument:
    """Read and validate the policy file at ``path``."""
    return _check_lined(read_lined(path, "policy file"), str(path))


def parse_document(text: str, source: str) -> PolicyDocument:
    """Validate policy ``text``; ``source`` names it in error messages."""
    return _check_lined(parse_lined(text, source), source)


def _check_lined(lined: LinedYaml, source: str) -> PolicyDocument:
    checker = _Checker(source, lined)
    document = checker.run()
    if checker.problems or document is None:
        problems = tuple(sorted(checker.problems, key=lambda p: (p.line or 0, p.field)))
        raise PolicyError(f"{source}: {len(problems)} problem(s) in the policy file", problems)
    return document


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


#: The values that may be dates, besides the operands of a rule's ``when``.
_DATE_PLACES = {("campaign", "first_day"), ("campaign", "last_day"),
                ("in_force", "from"), ("in_force", "until")}


def _dates_outside_date_places(value: Any, path: YPath = ()) -> Iterable[tuple[YPath, date]]:
    """Every date (an unquoted ``2025-03-01``) at a path where the policy reads text."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _dates_outside_date_places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _dates_outside_date_places(item, (*path, index))
    elif isinstance(value, date) and path not in _DATE_PLACES and "when" not in path:
        yield path, value


def _dotted(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


class _Checker:
    """Collects problems while building a PolicyDocument."""

    def __init__(self, source: str, lined: LinedYaml) -> None:
        self.source = source
        self.lined = lined
        self.problems: list[PolicyProblem] = []
        self._bad_paths: list[YPath] = []

    def problem(self, path: YPath, message: str) -> None:
        self.problems.append(PolicyProblem(self.source, self.lined.line(path), _dotted(path), message))

    def clean(self, path: YPath) -> bool:
        """True when the schema found nothing wrong at or below ``path``."""
        n = len(path)
        return not any(bad[:n] == path or path[: len(bad)] == bad for bad in self._bad_paths)

    def run(self) -> PolicyDocument | None:
        data = self.lined.data
        for path, line in self.lined.duplicates:
            self.problems.append(PolicyProblem(self.source, line, _dotted(path), "duplicate key"))
        for path, line, why in self.lined.bad_scalars:
            self.problems.append(PolicyProblem(self.source, line, _dotted(path), why))
        if not isinstance(data, dict):
            self.problem((), "a policy file must be a YAML mapping")
            return None
        for error in _validator().iter_errors(_jsonable(data)):
            path = tuple(error.absolute_path)
            self._bad_paths.append(path)
            self.problem(path, schema_message(error))
        for path, day in _dates_outside_date_places(data):
            # The schema reads a date as its text; only a few places may hold one.
            if not self.clean(path):
                continue
            self._bad_paths.append(path)
            self.problem(path, f"{day.isoformat()} is a date where text is expected; "
                               "put it in quotes to keep it text")
        return self._build(data)

    def _section(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        """A top-level mapping, or an empty one when it is missing or not a mapping."""
        value = data.get(key)
        return value if isinstance(value, dict) else {}

    def _clean_date(self, section: dict[str, Any], path: YPath) -> date | None:
        """A date of a section the schema passed; None (already reported) otherwise."""
        if not self.clean(path) or path[-1] not in section:
            return None
        return self._date(section[path[-1]], path)

    def _build(self, data: dict[str, Any]) -> PolicyDocument | None:
        # Broken sections are skipped, not fatal: the rules are still checked, so one
        # run reports every problem of the file.
        campaign = self._section(data, "campaign")
        first = self._clean_date(campaign, ("campaign", "first_day"))
        last = self._clean_date(campaign, ("campaign", "last_day"))
        if first and last and last < first:
            self.problem(("campaign", "last_day"), f"the campaign ends ({last}) before it starts ({first})")
        in_force = self._section(data, "in_force")
        in_force_from = self._clean_date(in_force, ("in_force", "from"))
        in_force_until = self._clean_date(in_force, ("in_force", "until"))
        if in_force_from and in_force_until and in_force_until < in_force_from:
            self.problem(("in_force", "until"),
                         f"the version ends ({in_force_until}) before it starts ({in_force_from})")
        params = {name: value for name, value in self._section(data, "parameters").items()
                  if self.clean(("parameters", name))}
        broken = set(self._section(data, "parameters")) - set(params)
        for name in ("trial_rate_target", "tax_rate"):  # decimal strings the schema checked
            if name in params:
                params[name] = Decimal(params[name])
        for name in _patterns_of(params):
            why = _patterns.problem(params[name])
            if why is not None:
                self.problem(("parameters", name), why)
                broken.add(name)
        params = {**DEFAULT_PARAMETERS, **params}
        families = self._families(self._section(data, "catalogue"))
        packages = self._packages(data.get("packages", {}))
        # Package names, even when a package has other problems, so this one is reported too.
        names = list(data["packages"]) if isinstance(data.get("packages"), dict) else []
        if names and "default_package" in params and params["default_package"] not in names:
            self.problem(("parameters", "default_package"),
                         f"no package {params['default_package']!r}; known: {', '.join(names)}")
        known_codes = tuple(self._section(data, "catalogue").get("known_codes", ())
                            if self.clean(("catalogue", "known_codes")) else ())
        for index, code in enumerate(known_codes):
            family = code.split("-", 1)[0]
            if families is not None and family not in families:
                self.problem(("catalogue", "known_codes", index),
                             f"{code}: family {family!r} is not in the catalogue")
        resolver = _Params(params, first, last, broken)
        states = self._states(data.get("lifecycle"))
        assumptions = read_assumptions(data.get("assumptions"), self.lined, self.problem, self.clean)
        seen: dict[str, YPath] = {}
        tables: dict[str, tuple[Rule, ...]] = {}
        for table, where in TABLE_PATHS.items():
            rules = []
            raws: Any = data
            for key in where:
                raws = raws.get(key) if isinstance(raws, dict) else None
            if not isinstance(raws, list):  # missing, or of a type the schema reported
                raws = []
            for index, raw in enumerate(raws):
                path: YPath = (*where, index)
                if not self.clean(path) or not isinstance(raw, dict):
                    continue
                if raw.get("id") in seen:
                    self.problem((*path, "id"), f"rule id {raw['id']!r} is used twice")
                seen[raw["id"]] = path
                when = self._condition(raw["when"], (*path, "when"), table, resolver,
                                       {"plan_family": families, "state": states})
                self._check_then(raw["then"], (*path, "then"), table, states)
                rules.append(Rule(id=raw["id"], clause=raw["clause"], text=raw["text"], when=when,
                                  then=dict(raw["then"]), line=self.lined.line(path),
                                  note=raw.get("note", "")))
            tables[table] = tuple(rules)
        if (self.problems or first is None or last is None or families is None or packages is None
                or states is None or broken):
            return None
        return PolicyDocument(
            source=self.source, id=data["id"], version=str(data["version"]),
            in_force_from=in_force_from, in_force_until=in_force_until,
            title=data.get("title", ""), assumptions=assumptions,
            campaign_first_day=first, campaign_last_day=last,
            campaign_clause=data["campaign"]["clause"], parameters=params,
            families=families, known_codes=known_codes, packages=packages,
            tables=tables, lifecycle_states=states,
            lifecycle_initial=data["lifecycle"]["initial"],
            operations=data["operations"],
            content_hash=_content_hash(data),
        )

    def _date(self, value: Any, path: YPath) -> date | None:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            if not any(bad == path for bad, _line, _why in self.lined.bad_scalars):
                self.problem(path, f"{yaml_words(value, top=True)} is not a calendar date (YYYY-MM-DD)")
            return None

    def _families(self, catalogue: Any) -> dict[str, int | None] | None:
        if not self.clean(("catalogue",)):
            return None
        return {name: (spec or {}).get("includes_itv_from_tier")
                for name, spec in catalogue["families"].items()}

    def _packages(self, packages: Any) -> dict[str, Package] | None:
        if not self.clean(("packages",)):
            return None
        out = {}
        for code, spec in packages.items():
            tariff = {}
            for product, text in spec["tariff"].items():
                try:
                    tariff[product] = parse_yuan(text)
                except ValueError as exc:
                    self.problem(("packages", code, "tariff", product), str(exc))
            out[code] = Package(code=code, name=spec.get("name", code),
                                clause=spec.get("clause", ""), tariff=tariff)
        return out

    def _condition(self, node: Mapping[str, Any], path: YPath, table: str,
                   params: _Params, domains: Mapping[str, Mapping[str, Any] | None]) -> Condition:
        parts: list[Condition] = []
        fields = FIELDS[table]
        for key, value in node.items():
            here = (*path, key)
            if key in ("any", "all"):
                subs = tuple(self._condition(v, (*here, i), table, params, domains)
                             for i, v in enumerate(value))
                parts.append(AnyOf(subs) if key == "any" else AllOf(subs))
                continue
            if key not in fields:
                self.problem(here, f"unknown field {key!r} for the {table} table; "
                                   f"known: {', '.join(fields)}")
                continue
            tests = value if isinstance(value, dict) and "param" not in value else {"eq": value}
            for op, operand in tests.items():
                compare = self._compare(key, fields[key], op, operand, (*here, op), params,
                                        domains.get(key))
                if compare is not None:
                    parts.append(compare)
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def _compare(self, field: str, kind: Any, op: str, operand: Any, path: YPath,
                 params: _Params, domain: Mapping[str, Any] | None) -> Compare | None:
        kind_name = "enum" if isinstance(kind, tuple) else kind
        if op not in _OPS_BY_KIND[kind_name]:
            self.problem(path, f"operator {op!r} does not apply to {kind_name} field {field!r}; "
                               f"use one of {', '.join(sorted(_OPS_BY_KIND[kind_name]))}")
            return None
        if isinstance(operand, dict):
            resolved = params.resolve(operand["param"], kind_name)
            if resolved is None:
                return None
            if isinstance(resolved, str):
                self.problem(path, resolved)
                return None
            value, source = resolved
            return Compare(field, op, value, source)
        values = operand if op in ("in", "not_in") else [operand]
        checked = []
        for item in values:
            ok, value = _check_literal(kind, item)
            if not ok:
                self.problem(path, f"{yaml_words(item, top=True)} is not a valid value for "
                                   f"{field!r}: {value}")
                return None
            if domain is not None and value not in domain:
                self.problem(path, f"{yaml_words(value, top=True)} is not a known {field}; "
                                   f"known: {', '.join(domain)}")
                return None
            checked.append(value)
        if op in ("in", "not_in"):
            return Compare(field, op, tuple(checked))
        return Compare(field, op, checked[0])

    def _states(self, lifecycle: Any) -> dict[str, State] | None:
        if not self.clean(("lifecycle",)) or not isinstance(lifecycle, dict):
            return None
        states = {name: State(name=name, clause=spec["clause"], text=spec["text"],
                              final=bool(spec.get("final", False)))
                  for name, spec in lifecycle["states"].items()}
        if lifecycle["initial"] not in states:
            self.problem(("lifecycle", "initial"),
                         f"{lifecycle['initial']!r} is not a state; known: {', '.join(states)}")
        return states

    def _check_then(self, then: Mapping[str, Any], path: YPath, table: str,
                    states: Mapping[str, State] | None) -> None:
        if table == "lifecycle":
            target = then.get("to")
            if states is not None and target is not None and target not in states:
                self.problem((*path, "to"), f"{target!r} is not a state; known: {', '.join(states)}")
            if (target is None) == (not then.get("stay", False)):
                self.problem(path, "a transition names exactly one of `to: <state>` or `stay: true`")
        elif table == "terminals":
            return
        elif table == "eligibility":
            if then["eligible"] and ("segment" not in then or "reason" in then):
                self.problem(path, "an eligible result names a segment and no reason")
            if not then["eligible"] and ("reason" not in then or "segment" in then):
                self.problem(path, "an ineligible result names a reason and no segment")
        elif then.get("waive") and then["charge"] == "none":
            self.problem(path, "nothing to waive when the rule charges nothing")


class _Params:
    """Resolves ``{param: ...}`` operands to constants at load time."""

    def __init__(self, params: Mapping[str, Any], first: date | None, last: date | None,
                 broken: set[str]) -> None:
        self._params = params
        self._dates = {"campaign.first_day": first, "campaign.last_day": last}
        self._broken = broken

    def resolve(self, ref: str | list[str], kind: str) -> tuple[Any, str] | str | None:
        """(value, description), or a problem, or None when the parameter's own problem
        is already reported."""
        if isinstance(ref, str):
            names = [ref]
        elif isinstance(ref, list) and all(isinstance(name, str) for name in ref):
            names = list(ref)
        else:
            return f"param names a parameter or a list of them (got {yaml_words(ref, top=True)})"
        if kind == "date":
            if len(names) != 1 or names[0] not in _DATE_PARAMS:
                return f"a date field compares with one of {', '.join(_DATE_PARAMS)}"
            day = self._dates[names[0]]
            if day is None:
                return None
            return day.toordinal(), f"{names[0]} ({day.isoformat()})"
        total = 0
        for name in names:
            if name in self._broken:
                return None
            value = self._params.get(name)
            if value is None:
                return f"unknown parameter {name!r}; known: {', '.join(self._params)}"
            if kind != "int" or isinstance(value, bool) or not isinstance(value, int):
                return (f"parameter {name!r} ({yaml_words(value, top=True)}) cannot be compared "
                        f"with a {kind} field")
            total += value
        return total, f"{' + '.join(names)} ({total})"


def _patterns_of(params: Mapping[str, Any]) -> list[str]:
    """The parameters that hold a portable pattern (``"format": "regex"`` in the schema)."""
    schema: Any = _validator().schema
    specs = schema["properties"]["parameters"]["properties"]
    return [name for name in params if specs.get(name, {}).get("format") == "regex"]


def _check_literal(kind: Any, value: Any) -> tuple[bool, Any]:
    if isinstance(kind, tuple):
        return (value in kind, value) if value in kind else (False, f"expected one of {', '.join(kind)}")
    if kind == "bool":
        return (True, value) if isinstance(value, bool) else (False, "expected true or false")
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return (True, value) if ok else (False, "expected a whole number")
    if kind == "date":
        if isinstance(value, date):
            return True, value.toordinal()
        return False, "expected a date YYYY-MM-DD"
    return (True, value) if isinstance(value, str) else (False, "expected text")


def _content_hash(data: Mapping[str, Any]) -> str:
    canonical = json.dumps(_jsonable(dict(data)), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
