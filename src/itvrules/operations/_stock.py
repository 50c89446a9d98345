"""Terminal stock per depot, kept as events (notice §四(六)).

A depot's stock is what its events say: terminals received (``depot:<name>``
stream), allocated to an account, recovered from one. The methods decide and
return the event to record, and ``Stock.from_events`` replays recorded
events through the same code, so the ledger and a live ``Stock`` always agree.
Recovered terminals return as refurbished (利旧), and the policy's
``allocation_order`` hands them out before new ones (§四(六)1 尽量使用利旧终端).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum
from typing import TypeVar

from .._errors import InputError, ItvRulesError
from ..lifecycle import Event, EventKind
from ..model._enums import _StrEnum
from ..policy._policy import Policy

#: Stock arrivals are recorded on the stream ``depot:<name>``.
DEPOT_PREFIX = "depot:"

_INFLOWS = frozenset({EventKind.STOCK_RECEIVED, EventKind.TERMINALS_RECOVERED})
_STOCK_KINDS = _INFLOWS | {EventKind.TERMINAL_ALLOCATED}


class Terminal(_StrEnum):
    """A terminal a line worker carries: set-top box, E8-B modem, ordinary modem."""

    STB = "stb"
    E8B = "e8b"
    ORDINARY = "ordinary"


class Condition(_StrEnum):
    """New from the supplier, or refurbished (利旧: recovered from a customer)."""

    NEW = "new"
    REFURBISHED = "refurbished"


class StockError(ItvRulesError):
    """A depot has none of a terminal to hand out: stock never goes negative."""

    def __init__(self, depot: str, terminal: str, problem: str, *,
                 source: str | None = None, row: int | None = None) -> None:
        self.depot = depot
        self.terminal = terminal
        self.problem = problem
        self.source = source
        self.row = row
        where = ""
        if source is not None:
            where = f"{source}, row {row}: " if row is not None else f"{source}: "
        super().__init__(f"{where}depot {depot!r}, terminal {terminal}: {problem}")


_E = TypeVar("_E", bound=StrEnum)


def _member(kind: type[_E], field: str, value: object) -> _E:
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    allowed = ", ".join(m.value for m in kind)
    raise InputError(field, value, f"expected one of: {allowed}")


def _depot(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError("depot", value, "expected the depot's name")
    return value


def _quantity(value: object) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError("quantity", value, "expected a whole number of terminals ≥ 1")
    return value


def _required(data: Mapping[str, str], field: str) -> str:
    if field not in data:
        raise InputError(field, None, "missing from the stock event")
    return data[field]


class Stock:
    """Terminal counts per depot, terminal and condition."""

    def __init__(self, policy: Policy) -> None:
        order = policy.document.operations["allocation_order"]
        self.allocation_order = tuple(_member(Condition, "allocation_order", c) for c in order)
        self._counts: dict[tuple[str, Terminal, Condition], int] = {}

    @classmethod
    def from_events(cls, policy: Policy, events: Iterable[Event]) -> Stock:
        """The stock the recorded events leave; other kinds of events are ignored.

        Events apply by date and, within a day, arrivals before allocations, so
        the result does not depend on the order the events come in. An event
        that cannot apply raises ``InputError`` or ``StockError``
        naming its source and row.
        """
        stock = cls(policy)
        relevant = [e for e in events if e.kind in _STOCK_KINDS]
        relevant.sort(key=lambda e: (e.on, e.kind not in _INFLOWS))
        for event in relevant:
            source, row = event.source or f"account {event.account_id}", event.source_row or None
            try:
                stock._apply(event)
            except InputError as exc:
                raise exc.at(source, row) from None
            except StockError as exc:
                raise StockError(exc.depot, exc.terminal, f"{exc.problem} ({event.kind.value} for "
                                 f"{event.account_id} on {event.on})", source=source, row=row) from None
        return stock

    # -- commands: decide, apply, return the event to record --------------------------------
    def receive(self, depot: str, terminal: str, condition: str, quantity: int = 1, *,
                on: date, source: str = "", source_row: int = 0) -> Event:
        """Terminals arrive at ``depot``."""
        _depot(depot)
        event = Event(account_id=f"{DEPOT_PREFIX}{depot}", kind=EventKind.STOCK_RECEIVED, on=on,
                      data={"depot": depot, "terminal": terminal, "condition": condition,
                            "quantity": _quantity(quantity)},
                      source=source, source_row=source_row)
        self._apply(event)
        return event

    def allocate(self, depot: str, terminal: str, *, account_id: str, on: date,
                 source: str = "", source_row: int = 0) -> Event:
        """Take one ``terminal`` from ``depot`` for ``account_id``, 利旧 first.

        The condition chosen is ``event.data["condition"]``. Raises
        ``StockError`` when no condition the policy allows is in stock.
        """
        kind = _member(Terminal, "terminal", terminal)
        _depot(depot)
        for condition in self.allocation_order:
            if self._counts.get((depot, kind, condition), 0) > 0:
                break
        else:
            tried = ", ".join(self.allocation_order)
            raise StockError(depot, kind.value, f"none in stock (conditions tried: {tried})")
        event = Event(account_id=account_id, kind=EventKind.TERMINAL_ALLOCATED, on=on,
                      data={"depot": depot, "terminal": kind.value, "condition": condition.value},
                      source=source, source_row=source_row)
        self._apply(event)
        return event

    def recover(self, depot: str, *terminals: str, account_id: str, on: date,
                source: str = "", source_row: int = 0) -> Event:
        """Terminals a line worker took back from ``account_id`` return to ``depot`` as refurbished."""
        event = Event(account_id=account_id, kind=EventKind.TERMINALS_RECOVERED, on=on,
                      data={"depot": depot, "terminals": ",".join(terminals)},
                      source=source, source_row=source_row)
        self._apply(event)
        return event

    # -- one path for commands and replay ---------------------------------------------------
    def _apply(self, event: Event) -> None:
        data = event.data
        depot = _depot(_required(data, "depot"))
        if event.kind == EventKind.STOCK_RECEIVED:
            if event.account_id != f"{DEPOT_PREFIX}{depot}":
                raise InputError("account_id", event.account_id,
                                 f"stock for depot {depot!r} is recorded on '{DEPOT_PREFIX}{depot}'")
            terminal = _member(Terminal, "terminal", _required(data, "terminal"))
            condition = _member(Condition, "condition", _required(data, "condition"))
            self._add(depot, terminal, condition, _quantity(_required(data, "quantity")))
        elif event.kind == EventKind.TERMINAL_ALLOCATED:
            terminal = _member(Terminal, "terminal", _required(data, "terminal"))
            condition = _member(Condition, "condition", _required(data, "condition"))
            if self._counts.get((depot, terminal, condition), 0) < 1:
                raise StockError(depot, terminal.value, f"no {condition.value} one in stock")
            self._add(depot, terminal, condition, -1)
        elif event.kind == EventKind.TERMINALS_RECOVERED:
            names = [t.strip() for t in _required(data, "terminals").split(",") if t.strip()]
            if not names:
                raise InputError("terminals", data["terminals"], "expected at least one terminal")
            recovered = [_member(Terminal, "terminals", name) for name in names]
            for terminal in recovered:
                self._add(depot, terminal, Condition.REFURBISHED, 1)

    def _add(self, depot: str, terminal: Terminal, condition: Condition, n: int) -> None:
        key = (depot, terminal, condition)
        self._counts[key] = self._counts.get(key, 0) + n

    # -- queries ----------------------------------------------------------------------------
    def available(self, depot: str, terminal: str, condition: str | None = None) -> int:
        """How many ``terminal`` (of ``condition``, or of any) ``depot`` holds."""
        kind = _member(Terminal, "terminal", terminal)
        conditions = list(Condition) if condition is None else [_member(Condition, "condition", condition)]
        return sum(self._counts.get((depot, kind, c), 0) for c in conditions)

    def counts(self) -> dict[tuple[str, str, str], int]:
        """``{(depot, terminal, condition): n}`` for what is on the shelves, sorted."""
        return {(d, t.value, c.value): n for (d, t, c), n in sorted(self._counts.items()) if n}

    def by_depot(self) -> dict[str, dict[tuple[str, str], int]]:
        """``{depot: {(terminal, condition): n}}``: one depot's shelves at a glance."""
        out: dict[str, dict[tuple[str, str], int]] = {}
        for (depot, terminal, condition), n in self.counts().items():
            out.setdefault(depot, {})[(terminal, condition)] = n
        return out
