"""The durable-rules engine: each decision table becomes a durable-rules ruleset.

Every durable-rules type and exception stays in this module. What it works
around, measured on durable-rules 2.0.28:

* The C core keeps at most 1024 live sessions per ruleset and crashes past
  that. Each decision uses one session that is deleted right after it, so at
  most one is ever live.
* Rulesets register by name, once, in a host. Names carry the policy's
  content hash, so two policies never share a name and reloading the same
  policy reuses its rulesets.
* It is not thread-safe and its stock ``Host`` runs actions on background
  timer threads. ``_QuietHost`` starts no such threads and every call
  holds one process-wide lock.
* Messages go through ``json.dumps``: facts are ints, bools and strings only
  (day ordinals, month indexes), never ``date`` or ``Decimal``.
* Events are de-duplicated by a 32-bit hash of their id within a session; a
  session here only ever sees one event, and a decision that yields no action
  raises instead of passing silently.
* First hit: rule *i* gets durable-rules priority ``pri: i`` (lower runs
  first). When an event matches several rules, the first one's action takes
  the event and the others never run. (Making rules exclusive by adding the
  negation of every earlier rule was tried first: the C core expands those
  conditions and refuses tables of a dozen rules with error 113.)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

import durable_rules_engine as _dre
from durable import engine as _engine

from .._errors import EngineError
from ..policy._conditions import AllOf, AnyOf, Compare, Condition, fields_of
from ..policy._document import PolicyDocument, Rule
from ..policy._facts import FIELDS
from ._protocol import NoRuleMatched

_DURABLE_OP = {"ne": "$neq", "lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}
_SID = "decision"
_LOCK = threading.RLock()


def durable_condition(cond: Condition) -> dict[str, Any]:
    """durable-rules JSON for ``cond`` (``$and``, ``$or``, ``$lt`` …)."""
    if isinstance(cond, Compare):
        if cond.op == "eq":
            return {cond.field: cond.value}
        if cond.op == "in":
            return {"$or": [{cond.field: v} for v in cond.value]}
        if cond.op == "not_in":
            return {"$and": [{"$neq": {cond.field: v}} for v in cond.value]}
        return {_DURABLE_OP[cond.op]: {cond.field: cond.value}}
    if isinstance(cond, AllOf):
        return {"$and": [durable_condition(p) for p in cond.parts]}
    if isinstance(cond, AnyOf):
        if not cond.parts:
            return {"$never": True}  # a field no message carries: never matches
        return {"$or": [durable_condition(p) for p in cond.parts]}
    raise TypeError(cond)


def ruleset_definition(table: str, rules: tuple[Rule, ...]) -> dict[str, Any]:
    """The durable-rules ruleset of one decision table (actions are run by ``_QuietHost``)."""
    definition: dict[str, Any] = {}
    for index, rule in enumerate(rules):
        parts: list[dict[str, Any]] = [{"table": table}]
        if not (isinstance(rule.when, AllOf) and not rule.when.parts):
            parts.append(durable_condition(rule.when))
        definition[f"r{index}"] = {"all": [{"m": {"$and": parts}}], "pri": index, "run": _noop}
    return definition


def _noop(_closure: Any) -> None:
    """Actions are taken by ``_QuietHost.decide``, which reads which rule fired."""


class _QuietHost(_engine.Host):  # type: ignore[misc]
    """A durable-rules host without background dispatch threads."""

    def _run(self) -> None:
        """Start no timer threads: actions run only inside ``decide``, under the lock."""

    def ensure(self, name: str, definition: dict[str, Any]) -> int:
        """Register ``definition`` as ``name`` unless it is already registered; the C handle."""
        if name not in self._ruleset_directory:
            self.register_rulesets({name: definition})
        return int(self._ruleset_directory[name]._handle)

    def decide(self, handle: int, message: dict[str, Any]) -> str:
        """Post one event in a fresh session and return the name of the rule whose action ran.

        The steps are durable-rules' own action protocol (what ``Host.post``
        does through ``Ruleset.do_actions``): assert the event, start the
        action the match queued, complete it, then delete the session.
        """
        status, state_handle = _dre.assert_event(handle, _encode(message))
        # The session is deleted only once an action started in it: the C core
        # leaves a new session's action context uninitialised until then, and
        # delete_state frees it (a gap used to crash the process). An unhandled
        # event is not stored, so the next decision simply reuses the session.
        if status == 1:
            raise _NotHandled
        if status != 0:
            raise EngineError(f"durable-rules refused the event (status {status})")
        action = _dre.start_action_for_state(handle, state_handle)
        if not action:
            raise EngineError("durable-rules matched the event but queued no action")
        try:
            fired = _fired_rule(action[1])
            _dre.complete_and_start_action(handle, state_handle)
            return fired
        finally:
            _dre.delete_state(handle, _SID)


#: One encoder for every message (``json.dumps`` with options builds a new one per call).
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _fired_rule(payload: str) -> str:
    """The rule name of an action payload ``{"r3":{"m":{...}}}`` without parsing the facts."""
    if not payload.startswith('{"'):
        raise EngineError(f"durable-rules returned an action payload of unknown shape: {payload[:80]}")
    end = payload.index('"', 2)
    if payload[end:end + 2] != '":':
        raise EngineError(f"durable-rules returned an action payload of unknown shape: {payload[:80]}")
    return payload[2:end]


class _NotHandled(Exception):
    pass


_HOST: _QuietHost | None = None


def _host() -> _QuietHost:
    global _HOST
    if _HOST is None:
        _HOST = _QuietHost()
    return _HOST


class DurableEngine:
    """Runs a policy's tables in durable-rules, one short-lived session per decision."""

    name = "durable"

    def __init__(self, document: PolicyDocument) -> None:
        self._handles: dict[str, int] = {}
        self._used: dict[str, tuple[tuple[int, str], ...]] = {}
        self._indexes: dict[str, Mapping[str, int]] = {}
        with _LOCK:
            for table in FIELDS:
                rules = document.table(table)
                name = f"itvrules.{document.id}.{table}.{document.content_hash[:20]}"
                try:
                    self._handles[table] = _host().ensure(name, ruleset_definition(table, rules))
                except Exception as exc:  # durable-rules raises bare Exceptions
                    raise EngineError(f"durable-rules rejected the {table} table: {exc}") from None
                used: set[str] = set()
                for rule in rules:
                    used |= fields_of(rule.when)
                self._used[table] = tuple(
                    (i, f) for i, f in enumerate(FIELDS[table]) if f in used)
                self._indexes[table] = {f"r{i}": i for i in range(len(rules))}

    def decide(self, table: str, facts: tuple[Any, ...]) -> int:
        message: dict[str, Any] = {f: facts[i] for i, f in self._used[table]}
        message["table"] = table
        message["sid"] = _SID
        message["id"] = 1
        try:
            with _LOCK:
                fired = _host().decide(self._handles[table], message)
        except _NotHandled:
            raise NoRuleMatched(table, dict(zip(FIELDS[table], facts, strict=False))) from None
        except EngineError:
            raise
        except Exception as exc:  # MemoryError and bare Exceptions from the C core
            raise EngineError(f"durable-rules failed on the facts {json.dumps(message, default=str)}: "
                              f"{type(exc).__name__}: {exc}") from None
        return self._indexes[table][fired]
