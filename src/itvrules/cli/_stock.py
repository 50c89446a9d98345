"""``itvrules stock show|receive|allocate|recover``: terminal stock per depot, kept in the ledger.

Stock is what its events say (``itvrules.operations.Stock``): arrivals on the
``depot:<name>`` stream, allocations and recoveries on the customer's. Each
command records one dated event, after checking it against the whole history,
so stock never goes negative on any day, and a recovery names terminals the
trial really fitted. ``--on`` is the day of the movement (and picks the
policy version in force that day).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

import attrs

from ._common import OK, POLICY_HELP, as_of_option, command_parser, date_arg, debug_option, policy_default
from ._ledger import (
    as_of,
    checked_day,
    ledger_option,
    lifecycle_projector,
    new_ledger_removed_on_failure,
    open_db,
)

if TYPE_CHECKING:
    from ..lifecycle import Event
    from ..operations import Stock
    from ..policy._policy import Policy
    from ..store import Ledger

TERMINALS = ("stb", "e8b", "ordinary")
CONDITIONS = ("new", "refurbished")
SOURCE = "itvrules stock"

EPILOG = """\
examples:
  itvrules stock show                                   # counts per depot, as of today
  itvrules stock show --as-of 2025-06-30 --json
  itvrules stock receive 城关 stb new 20 --on 2025-03-20
  itvrules stock receive 城关 e8b new 20 --on 2025-03-20 --ref 送货单0417
  itvrules stock allocate 城关 stb --account 8410950407 --on 2025-03-27
  itvrules stock recover 城关 stb e8b --account 8410950407 --on 2025-07-02

Terminals: stb (set-top box), e8b (E8-B modem), ordinary (ordinary modem);
conditions: new, refurbished (利旧: recovered from a customer, handed out first).

exit status: 0 recorded (or shown); 1 nothing of that terminal in stock, an
unknown account, a recovery of a terminal the trial never fitted, a policy
error or a ledger that cannot be opened; 2 usage error.
"""


def add_parser(sub: Any) -> None:
    parser = command_parser(sub, "stock", help="terminal stock per depot: show, receive, allocate, "
                                               "recover",
                            description="Terminal stock per depot, kept as events in the ledger.",
                            epilog=EPILOG)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = [ledger_option(), _policy_option(), debug_option()]

    show = command_parser(actions, "show", help="counts per depot, terminal and condition",
                          description="Count what each depot holds from the stock events up to "
                                      "--as-of.",
                          epilog=_examples("show"), parents=[*common, as_of_option(
                              "count the movements up to this day")])
    show.add_argument("--json", action="store_true", help="print JSON instead of text")
    show.set_defaults(handler=run_show)

    receive = command_parser(actions, "receive", help="terminals arrive at a depot",
                             description="Record QTY terminals arriving at DEPOT on --on.",
                             epilog=_examples("receive"), parents=common)
    receive.add_argument("depot", metavar="DEPOT", help="depot name")
    receive.add_argument("terminal", metavar="TERMINAL", choices=TERMINALS, help="stb, e8b or ordinary")
    receive.add_argument("condition", metavar="CONDITION", choices=CONDITIONS, help="new or refurbished")
    receive.add_argument("quantity", metavar="QTY", type=_quantity, help="how many (1 or more)")
    receive.add_argument("--ref", metavar="TEXT", default="",
                         help="delivery reference; two deliveries alike on one day need different ones")
    _movement_day(receive)
    receive.set_defaults(handler=run_receive)

    allocate = command_parser(actions, "allocate", help="take a terminal from a depot for an account",
                              description="Take one TERMINAL from DEPOT for an enrolled --account on "
                                          "--on, refurbished (利旧) before new as the policy orders.",
                              epilog=_examples("allocate"),
                              parents=[*common, as_of_option("replay the account to this day")])
    allocate.add_argument("depot", metavar="DEPOT", help="depot name")
    allocate.add_argument("terminal", metavar="TERMINAL", choices=TERMINALS, help="stb, e8b or ordinary")
    _account(allocate)
    _movement_day(allocate)
    allocate.set_defaults(handler=run_allocate)

    recover = command_parser(actions, "recover", help="terminals taken back from an account",
                             description="Record the TERMINALs a line worker took back from "
                                         "--account on --on; they return to DEPOT as refurbished.",
                             epilog=_examples("recover"),
                             parents=[*common, as_of_option("replay the account to this day")])
    recover.add_argument("depot", metavar="DEPOT", help="depot name")
    recover.add_argument("terminals", metavar="TERMINAL", nargs="+", choices=TERMINALS,
                         help="stb, e8b or ordinary")
    _account(recover)
    _movement_day(recover)
    recover.set_defaults(handler=run_recover)


def _examples(action: str) -> str:
    """The group's examples of one action, and the exit statuses."""
    lines = [line for line in EPILOG.splitlines() if line.startswith(f"  itvrules stock {action}")]
    status = EPILOG[EPILOG.index("exit status:"):]
    return "examples:\n" + "\n".join(lines) + "\n\n" + status


def _policy_option() -> argparse.ArgumentParser:
    from pathlib import Path

    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--policy", metavar="FILE", type=Path, default=policy_default(),
                        help=f"{POLICY_HELP}; its allocation_order says which condition goes first")
    return parent


def _movement_day(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--on", metavar="DATE", type=date_arg, required=True,
                        help="the day of the movement")


def _account(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--account", metavar="ID", required=True, help="the enrolled account")


def _quantity(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of terminals ≥ 1")
    return int(text)


def _policy(args: argparse.Namespace, day: date | None) -> Policy:
    from ..policy._policy import load_policy

    return load_policy(args.policy, on=day)


def stock_on(policy: Policy, events: Iterable[Event], day: date | None = None) -> Stock:
    """The stock the events dated up to ``day`` (all, when None) leave."""
    from ..operations import Stock

    return Stock.from_events(policy, (e for e in events if day is None or e.on <= day))


def run_show(args: argparse.Namespace) -> int:
    day = as_of(args)
    policy = _policy(args, args.as_of)
    with open_db(args) as ledger:
        depots = stock_on(policy, ledger.events(), day).by_depot()
    if args.json:
        out: dict[str, dict[str, dict[str, int]]] = {}
        for depot, shelves in depots.items():
            for (terminal, condition), n in shelves.items():
                out.setdefault(depot, {}).setdefault(terminal, {})[condition] = n
        print(json.dumps({"as_of": day.isoformat(), "depots": out}, ensure_ascii=False, indent=2))
        return OK
    print(f"stock as of {day}")
    if not depots:
        print("  (no terminals in stock)")
    for depot, shelves in depots.items():
        print(f"depot {depot}")
        for (terminal, condition), n in shelves.items():
            print(f"  {terminal:<9} {condition:<12} {n:>5}")
    return OK


def run_receive(args: argparse.Namespace) -> int:
    from ..operations import Stock

    policy = _policy(args, args.on)
    event = Stock(policy).receive(args.depot, args.terminal, args.condition, args.quantity,
                                  on=args.on, source=SOURCE)
    if args.ref:
        event = attrs.evolve(event, data={**event.data, "ref": args.ref})
    with new_ledger_removed_on_failure(args), open_db(args, create=True) as ledger:
        added = _record(policy, ledger, event, projector=None)
        stock = stock_on(policy, ledger.events(), args.on)
    _said(added, f"received {args.quantity} {args.condition} {args.terminal} at {args.depot} on "
                 f"{args.on}")
    _left(stock, args.depot, args.terminal, args.on)
    return OK


def run_allocate(args: argparse.Namespace) -> int:
    policy = _policy(args, args.on)
    with open_db(args, write=True) as ledger:
        checked_day(ledger, as_of(args))
        _known_account(ledger, args.account)
        event = stock_on(policy, ledger.events(), args.on).allocate(
            args.depot, args.terminal, account_id=args.account, on=args.on, source=SOURCE)
        added = _record(policy, ledger, event, projector=lifecycle_projector(policy, as_of(args)),
                        day=as_of(args))
        stock = stock_on(policy, ledger.events(), args.on)
    _said(added, f"allocated a {event.data['condition']} {args.terminal} from {args.depot} to "
                 f"{args.account} on {args.on}")
    _left(stock, args.depot, args.terminal, args.on)
    return OK


def run_recover(args: argparse.Namespace) -> int:
    from ..operations import Stock

    policy = _policy(args, args.on)
    event = Stock(policy).recover(args.depot, *args.terminals, account_id=args.account, on=args.on,
                                  source=SOURCE)
    with open_db(args, write=True) as ledger:
        checked_day(ledger, as_of(args))
        _known_account(ledger, args.account)
        added = _record(policy, ledger, event, projector=lifecycle_projector(policy, as_of(args)),
                        day=as_of(args))
        stock = stock_on(policy, ledger.events(), args.on)
    _said(added, f"recovered {' '.join(args.terminals)} from {args.account} into {args.depot} "
                 f"on {args.on}")
    for terminal in dict.fromkeys(args.terminals):
        _left(stock, args.depot, terminal, args.on)
    return OK


def _known_account(ledger: Ledger, account: str) -> None:
    from .._errors import InputError
    from ..lifecycle import EventKind

    if not any(e.kind == EventKind.ACCEPTED for e in ledger.events(account)):
        raise InputError("account", account, "no enrolment of this account in the ledger "
                         "(ingest its order first)")


def _record(policy: Policy, ledger: Ledger, event: Event, *, projector: Any,
            day: date | None = None) -> bool:
    """Check ``event`` against the whole history, then append it; whether it was new."""
    from itertools import chain

    from ..lifecycle import replay

    stock_on(policy, chain(ledger.events(), [event]))  # no day of the history may go below zero
    if day is not None:  # the account's lifecycle must accept it (a recovery of what was fitted)
        mine = list(ledger.events(event.account_id))
        if event.event_id not in {e.event_id for e in mine}:
            replay(policy, [*mine, event], as_of=day)
    return ledger.append([event], projector=projector).added == 1


def _said(added: bool, what: str) -> None:
    print(what if added else f"{what}: already recorded, nothing added")


def _left(stock: Stock, depot: str, terminal: str, day: date) -> None:
    counts = ", ".join(f"{stock.available(depot, terminal, c)} {c}" for c in CONDITIONS)
    print(f"{depot} holds {terminal}: {counts} (on {day})")
