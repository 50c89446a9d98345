"""The in-memory mirror of a policy file: validated, parameters resolved."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from ._assumptions import Assumption
from ._conditions import Condition


@attrs.frozen
class Rule:
    """One row of a first-hit decision table."""

    id: str
    clause: str
    text: str
    when: Condition
    then: Mapping[str, Any]
    line: int | None = None
    note: str = ""


@attrs.frozen
class Package:
    """An iTV package and its monthly tariff per broadband product (Decimal CNY)."""

    code: str
    name: str
    clause: str
    tariff: Mapping[str, Decimal]


@attrs.frozen
class State:
    """A state of the enrolment lifecycle, with the notice text it comes from."""

    name: str
    clause: str
    text: str
    final: bool = False


@attrs.frozen
class PolicyDocument:
    """Everything a policy file says, checked and ready to compile."""

    source: str
    id: str
    version: str
    #: first and last day this version is in force (None: open-ended or unstated)
    in_force_from: date | None
    in_force_until: date | None
    title: str
    #: the ``assumptions:`` entries: values assumed or left as placeholders, and where
    assumptions: tuple[Assumption, ...]
    campaign_first_day: date
    campaign_last_day: date
    campaign_clause: str
    parameters: Mapping[str, Any]
    families: Mapping[str, int | None]
    known_codes: tuple[str, ...]
    packages: Mapping[str, Package]
    tables: Mapping[str, tuple[Rule, ...]]
    lifecycle_states: Mapping[str, State]
    lifecycle_initial: str
    #: recipients, cancellation-list steps and stock allocation order
    operations: Mapping[str, Any]
    content_hash: str

    @property
    def eligibility(self) -> tuple[Rule, ...]:
        return self.tables["eligibility"]

    @property
    def fees(self) -> tuple[Rule, ...]:
        return self.tables["fees"]

    def table(self, name: str) -> tuple[Rule, ...]:
        """The rules of a table: ``eligibility``, ``fees``, ``lifecycle`` or ``terminals``."""
        return self.tables[name]
