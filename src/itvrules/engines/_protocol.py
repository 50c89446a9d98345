"""What every engine offers: given a table and its facts, the first rule that matches."""

from __future__ import annotations

from typing import Any, Protocol

from .._errors import EngineError


class NoRuleMatched(EngineError):
    """A decision table has a gap: no rule matched these facts."""

    def __init__(self, table: str, facts: dict[str, Any]) -> None:
        self.table = table
        self.facts = facts
        super().__init__(f"no rule of the {table} table matched {facts}; "
                         "add a final rule with `when: {}` to close the gap")


class Engine(Protocol):
    """A compiled policy: ``decide`` returns the index of the first matching rule."""

    name: str

    def decide(self, table: str, facts: tuple[Any, ...]) -> int:
        """Index into the table's rules; raises ``NoRuleMatched`` on a gap."""
        ...
