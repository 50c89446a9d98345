"""``itvrules cancellations list|advance``: the cancellation list from the command line (§四(五)2).

``list`` replays every enrolment with a cancellation to ``--on`` and says
where it stands: the current step, who owns it, how long it has waited, or
why it is closed. ``advance`` records one step done for one account, checked
against the account's list first: a step out of order is refused naming the
account, the step asked and the step expected.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from ._common import (
    OK,
    POLICY_HELP,
    UsageError,
    command_parser,
    date_arg,
    debug_option,
    note,
    out_encoding_arg,
    policy_default,
)
from ._common import run_day as _today
from ._ledger import checked_day, ledger_option, lifecycle_projector, open_db, replayed_states

if TYPE_CHECKING:
    from ..hookspecs import ExportWriter
    from ..operations import CancellationList
    from ..policy._policy import Policy

COLUMNS = ("account_id", "channel", "contact_phone", "requested_on", "effective_on", "status",
           "step", "step_name", "owner", "step_since", "step_age_days", "open_days", "overdue",
           "late", "closed_on", "closed_reason", "steps_done")
KIND = "cancellations"
SOURCE = "itvrules cancellations"

EPILOG = """\
examples:
  itvrules cancellations list --on 2025-10-31
  itvrules cancellations list --on 2025-10-31 --open -o cancellations.xlsx
  itvrules cancellations advance 07931580897 channel --on 2025-03-30 --by 王芳
  itvrules cancellations advance 07931580897 市场部审核 --on 2025-04-03  # status 1: out of order
  itvrules cancellations advance 07931580897 支撑中心汇总 --on 2025-03-31 --by 孙蒙蒙
  itvrules cancellations advance 07931580897 marketing_review --on 2025-04-03
  itvrules cancellations advance 07931580897 install_centre --on 2025-04-06
  itvrules cancellations advance 07931580897 line_worker_recovery --on 2025-04-11 --depot 城关

Steps, in order (the policy's operations.cancellation_steps): channel 渠道上报,
support_centre 支撑中心汇总, marketing_review 市场部审核, install_centre
装维中心派单, line_worker_recovery 线务员回收. A step may be named by its code
or its Chinese name. A step is overdue once it has waited more than the
policy's cancellation_step_days (7 in the shipped policy, an assumption: the
notice gives no day count).

exit status: 0 listed or recorded; 1 a step out of order, an account without
a cancellation, a policy error or a ledger that cannot be opened; 2 usage error.
"""


def add_parser(sub: Any) -> None:
    parser = command_parser(sub, "cancellations",
                            help="the cancellation list: where each stands, record a step done",
                            description="The cancellation list of §四(五)2, kept in the ledger.",
                            epilog=EPILOG)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = [ledger_option(), _policy_options(), debug_option()]

    listing = command_parser(
        actions, "list", help="where every cancellation stands",
        description="Replay every enrolment with a cancellation to --on and list its current "
                    "step, the step's owner, how many days it has waited and whether that is "
                    "overdue, or when and why the list closed.",
        epilog=_examples("list"), parents=common)
    listing.add_argument("--on", "--as-of", dest="on", metavar="DATE", type=date_arg,
                         help="the day the list is read on; ages count to it (default: today in "
                              "Asia/Shanghai)")
    listing.add_argument("--open", action="store_true", help="only the lists still open")
    listing.add_argument("-o", "--output", metavar="FILE",
                         help="write the list (.csv, .xlsx, .jsonl; - for CSV on stdout) instead "
                              "of printing a table")
    listing.add_argument("--out-format", metavar="F",
                         help="write in this format whatever the file name (default for -: csv)")
    listing.add_argument("--out-encoding", type=out_encoding_arg, metavar="E",
                         help="encoding of a CSV output (default utf-8-sig)")
    listing.set_defaults(handler=run_list)

    advance = command_parser(
        actions, "advance", help="record one step of an account's list as done",
        description="Record that STEP of ACCOUNT's cancellation list was done on --on. The step "
                    "must be the next one; the line worker's recovery with --depot also returns "
                    "the terminals still to take back to that depot's stock.",
        epilog=_examples("advance"), parents=common)
    advance.add_argument("account", metavar="ACCOUNT", help="the account (宽带账号)")
    advance.add_argument("step", metavar="STEP", help="the step done: its code or Chinese name")
    advance.add_argument("--on", metavar="DATE", type=date_arg, required=True,
                         help="the day the step was done")
    advance.add_argument("--by", metavar="NAME", default="", help="who did it (经办人)")
    advance.add_argument("--depot", metavar="DEPOT",
                         help="on the line worker's recovery: the depot the terminals go back to")
    advance.add_argument("--as-of", metavar="DATE", type=date_arg,
                         help="replay the account to this day (default: today in Asia/Shanghai)")
    advance.set_defaults(handler=run_advance)


def _examples(action: str) -> str:
    lines = [line for line in EPILOG.splitlines() if line.startswith(f"  itvrules cancellations {action}")]
    rest = EPILOG[EPILOG.index("Steps, in order"):]
    return "examples:\n" + "\n".join(lines) + "\n\n" + rest


def _policy_options() -> argparse.ArgumentParser:
    from pathlib import Path

    from ..policy._policy import DEFAULT_ENGINE, ENGINES

    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--policy", metavar="FILE", type=Path, default=policy_default(),
                        help=f"{POLICY_HELP}; the version in force on --on is used")
    parent.add_argument("--engine", choices=ENGINES, default=None,
                        help=f"decision engine (default: {DEFAULT_ENGINE})")
    return parent


def _policy(args: argparse.Namespace, day: date) -> Policy:
    from ..policy._policy import DEFAULT_ENGINE, load_policy

    return load_policy(args.policy, engine=args.engine or DEFAULT_ENGINE, on=day)


# -- list ---------------------------------------------------------------------------------------

def collect(policy: Policy, ledger: Any, day: date, *, engine: str | None = None,
            only_open: bool = False) -> list[CancellationList]:
    """Every account's cancellation list on ``day``, oldest request first."""
    from ..operations import cancellation_list

    found = [listed for state in replayed_states(policy, ledger, day, engine)
             if (listed := cancellation_list(policy, state)) is not None]
    if only_open:
        found = [c for c in found if c.is_open]
    return sorted(found, key=lambda c: (c.requested_on, c.account_id))


def run_list(args: argparse.Namespace) -> int:
    day: date = args.on if args.on is not None else _today()
    policy = _policy(args, day)
    writer = _writer(args) if args.output is not None else None
    with open_db(args) as ledger:
        checked_day(ledger, day, "--on")
        lists = collect(policy, ledger, day, engine=args.engine, only_open=args.open)
    if args.output is None:
        print_table(lists, day, policy)
        return OK
    assert writer is not None
    write_lists(lists, args.output, writer=writer, out_encoding=args.out_encoding)
    note(summary_line(lists, day))
    note(f"output: {'stdout' if args.output == '-' else args.output}")
    return OK


def summary_line(lists: Iterable[CancellationList], day: date) -> str:
    """``cancellations as of D: N (open n, overdue n, late n; closed n)``."""
    lists = list(lists)
    still = [c for c in lists if c.is_open]
    return (f"cancellations as of {day}: {len(lists)} (open {len(still)}, overdue "
            f"{sum(c.overdue for c in still)}, late {sum(c.late for c in still)}; closed "
            f"{len(lists) - len(still)})")


def by_step(lists: Iterable[CancellationList], policy: Policy) -> dict[str, int]:
    """How many open lists wait at each step (in the list's order), then how many are closed."""
    from ..operations import cancellation_steps

    lists = list(lists)
    counts = {f"{s.step} {s.name}": sum(1 for c in lists if c.step is not None and c.step.step == s.step)
              for s in cancellation_steps(policy)}
    counts["closed"] = sum(1 for c in lists if not c.is_open)
    return {key: n for key, n in counts.items() if n}


def row(listed: CancellationList) -> dict[str, Any]:
    """One output row: dates as dates, flags as yes/no, the steps done as one text cell."""
    step = listed.step
    done = "; ".join(f"{s} {on}" + (f" {listed.done_by[s]}" if listed.done_by.get(s) else "")
                     for s, on in listed.steps_done)
    return {"account_id": listed.account_id, "channel": listed.channel,
            "contact_phone": listed.contact_phone, "requested_on": listed.requested_on,
            "effective_on": listed.effective_on or "",
            "status": "open" if listed.is_open else "closed",
            "step": step.step if step else "", "step_name": step.name if step else "",
            "owner": listed.owner, "step_since": listed.step_since or "",
            "step_age_days": "" if listed.step_age_days is None else listed.step_age_days,
            "open_days": listed.open_days, "overdue": _yes(listed.overdue),
            "late": _yes(listed.late), "closed_on": listed.closed_on or "",
            "closed_reason": listed.closed_reason, "steps_done": done}


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def print_table(lists: list[CancellationList], day: date, policy: Policy) -> None:
    """The list for a person at the terminal: one line a cancellation, then the counts."""
    print(summary_line(lists, day))
    for listed in lists:
        when = f"requested {listed.requested_on}, effective {listed.effective_on or '-'}"
        if listed.step is not None:
            flags = "".join((" OVERDUE" if listed.overdue else "", " late" if listed.late else ""))
            print(f"  {listed.account_id}  {when}  at {listed.step.step} {listed.step.name} "
                  f"({listed.owner}) {listed.step_age_days} days{flags}")
        else:
            print(f"  {listed.account_id}  {when}  closed {listed.closed_on}: {listed.closed_reason}")
    for key, n in by_step(lists, policy).items():
        print(f"  {key:<36} {n:>5}")


def _writer(args: argparse.Namespace) -> ExportWriter:
    return pick_writer(args.output, args.out_format, args.out_encoding)


def pick_writer(output: str, out_format: str | None = None,
                out_encoding: str | None = None) -> ExportWriter:
    """The export writer the file name (or ``--out-format``) picks, tried before any work is done."""
    from .._errors import InputError
    from ..runs._files import STDIN, probe
    from ..runs._plugins import plugin_manager, writer_for

    try:
        writer = writer_for(plugin_manager(), output, out_format or ("csv" if output == STDIN else None))
        probe(writer, COLUMNS, KIND, out_encoding)
    except InputError as exc:
        raise UsageError(str(exc)) from exc
    return writer


def write_lists(lists: Iterable[CancellationList], output: str, *, writer: ExportWriter,
                out_encoding: str | None = None) -> None:
    """Write the lists with ``writer``, one row a cancellation."""
    from ..runs._files import open_target
    from ._common import stdout_bytes

    with open_target(output, stdout_bytes()) as stream:
        sink = writer.open(stream, COLUMNS, kind=KIND, encoding=out_encoding)
        for listed in lists:
            sink.write(row(listed))
        sink.close()


# -- advance ------------------------------------------------------------------------------------

def run_advance(args: argparse.Namespace) -> int:
    from itertools import chain

    from .._errors import InputError
    from ..lifecycle import EventKind, replay
    from ..lifecycle._replay import step_problem
    from ..operations import Stock, cancellation_list, cancellation_steps, step_event
    from ._steps import recovery_event

    day: date = args.as_of if args.as_of is not None else _today()
    if args.on > day:
        raise UsageError(f"--on {args.on} is after the run day {day}: a step is recorded once done")
    policy = _policy(args, args.on)
    event = step_event(policy, args.account, args.step, args.on, by=args.by, source=SOURCE)
    step = event.data["step"]
    where = f"account {args.account}"
    with open_db(args, write=True) as ledger:
        checked_day(ledger, day)
        mine = list(ledger.events(args.account))
        if not any(e.kind == EventKind.ACCEPTED for e in mine):
            raise InputError("account", args.account, "no enrolment of this account in the ledger "
                             "(ingest its order first)")
        if event.event_id in {e.event_id for e in mine}:
            print(f"{where}: {step} on {args.on} is already recorded, nothing added")
            return OK
        state = replay(policy, mine, as_of=day, engine=args.engine)
        codes = [s.step for s in cancellation_steps(policy)]
        problem = step_problem(codes, state.cancellation_steps, step, on=args.on,
                               requested=state.cancel_requested_on,
                               installed=state.completed_on is not None)
        if problem is not None:
            raise InputError("step", None, problem, source=where)
        new = [event]
        if args.depot:
            recovered = recovery_event(policy, mine, step, args.depot, account_id=args.account,
                                       on=args.on, source=SOURCE)
            if recovered is not None:
                new.append(recovered)
        try:
            after = replay(policy, [*mine, *new], as_of=day, engine=args.engine)
        except InputError as exc:
            raise InputError(exc.field, None, exc.problem, source=where) from None
        Stock.from_events(policy, chain(ledger.events(), new[1:]))  # stock never below zero
        ledger.append(new, projector=lifecycle_projector(policy, day, args.engine))
    listed = cancellation_list(policy, after)
    assert listed is not None
    names = {s.step: s.name for s in cancellation_steps(policy)}
    by = f" by {args.by.strip()}" if args.by.strip() else ""
    print(f"{where}: {step} {names[step]} done on {args.on}{by}")
    if len(new) > 1:
        print(f"{where}: recovered {' '.join(new[1].data['terminals'].split(','))} into "
              f"{args.depot} on {args.on}")
    if listed.step is not None:
        print(f"{where}: next {listed.step.step} {listed.step.name} ({listed.owner})")
    else:
        print(f"{where}: list closed on {listed.closed_on}: {listed.closed_reason}")
        if listed.missing:
            print(f"{where}: still to take back into stock: {', '.join(listed.missing)} "
                  "(itvrules stock recover, or --depot on this step)")
    return OK
