"""``itvrules workorders -o FILE``: what the operator's people must do, from the replayed ledger."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from ._common import (
    OK,
    UsageError,
    as_of_option,
    command_parser,
    date_arg,
    debug_option,
    load_policy_arg,
    note,
    out_encoding_arg,
    policy_options,
    stdout_bytes,
    where,
)
from ._ledger import as_of, checked_day, ledger_option, open_db, replayed_states

if TYPE_CHECKING:
    from ..hookspecs import ExportWriter
    from ..operations import WorkOrder
    from ..policy._policy import Policy
    from ..store import Ledger

#: The columns every order fills; one column a detail follows them (``columns``). Each
#: ``_zh`` column is the Chinese name of the code before it; ``assignee_en`` the office in English.
COLUMNS = ("order_id", "account_id", "kind", "kind_zh", "due", "assignee", "assignee_en",
           "priority", "priority_zh", "status", "status_zh", "clause", "contact_phone")
KIND = "workorders"

EPILOG = """\
examples:
  itvrules workorders -o orders.csv                       # every order, as of today
  itvrules workorders --as-of 2025-06-30 -o orders.xlsx
  itvrules workorders --due-by 2025-06-30 -o todo.csv      # open orders due by then
  itvrules workorders --kind outbound_call --kind recovery --open -o calls.jsonl
  itvrules workorders --db ledger.db -o - | head

Columns: order_id (stable over re-runs), account_id, kind, kind_zh (its Chinese
name), due, assignee, assignee_en (the office in English), priority, priority_zh,
status, status_zh, clause (the notice section), contact_phone, then one column
a detail (accepted_on, completed_on, return_reason, fit, take_back, recovered,
missing, rule, window_start, window_end, hours, viewing_basis, usage_recorded,
silent, low_usage_hours, calls, reached_on, outcome, trial_end, state,
requested_on, effective_on, channel, late, called_on, problem, problem_name,
note, clause_text, cleared_on, and step.<name> for each cancellation step),
empty where a kind has no such detail.

exit status: 0 written; 2 usage error; 1 policy error or a ledger that cannot be read.
"""


def add_parser(sub: Any) -> None:
    from ..operations import WorkOrderKind

    parser = command_parser(
        sub, "workorders", help="write the work orders the ledger implies",
        description="Replay every enrolment in the ledger as of --as-of and write the work orders "
                    "its state implies (install, modem swap, first-month call, expiry reminder, "
                    "cancellation list, terminal recovery), with who does each, by when, and its "
                    "status. The output format follows the file name (.csv, .xlsx, .jsonl).",
        epilog=EPILOG,
        parents=[ledger_option(), as_of_option("the day the orders are computed for"),
                 policy_options(), debug_option()])
    parser.add_argument("-o", "--output", metavar="FILE", required=True,
                        help="output file (.csv, .xlsx, .jsonl); - writes stdout (CSV)")
    parser.add_argument("--due-by", metavar="DATE", type=date_arg,
                        help="only the open orders due on or before DATE (the to-do list)")
    parser.add_argument("--kind", action="append", choices=[k.value for k in WorkOrderKind],
                        help="only orders of this kind (repeat for several)")
    parser.add_argument("--open", action="store_true", help="only orders still open")
    parser.add_argument("--out-format", metavar="F",
                        help="write in this format whatever the file name (default for -: csv)")
    parser.add_argument("--out-encoding", type=out_encoding_arg, metavar="E",
                        help="encoding of a CSV output (default utf-8-sig; gb18030 for legacy tools)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    policy = load_policy_arg(args)
    day = as_of(args)
    writer = pick_writer(args.output, args.out_format, args.out_encoding)
    with open_db(args) as ledger:
        checked_day(ledger, day)
        orders, accounts = collect(policy, ledger, day, engine=args.engine, due_by=args.due_by,
                                   kinds=args.kind, only_open=args.open)
    write_orders(policy, orders, args.output, writer=writer, out_encoding=args.out_encoding)
    note(f"accounts: {accounts} (as of {day})  work orders: {len(orders)}  "
         f"open: {sum(o.is_open for o in orders)}")
    for line in kind_lines(orders):
        note(line)
    note(f"output: {where(args.output)}")
    return OK


def collect(policy: Policy, ledger: Ledger, day: date, *, engine: str | None = None,
            due_by: date | None = None, kinds: Sequence[str] | None = None,
            only_open: bool = False) -> tuple[list[WorkOrder], int]:
    """The orders of every enrolment replayed to ``day``, filtered; and how many accounts."""
    from ..operations import WorkOrder, due_orders, work_orders

    orders: list[WorkOrder] = []
    accounts = 0
    for state in replayed_states(policy, ledger, day, engine):
        accounts += 1
        orders.extend(work_orders(policy, state))
    if due_by is not None:
        orders = due_orders(orders, on=due_by)
    if kinds:
        orders = [o for o in orders if o.kind.value in kinds]
    if only_open:
        orders = [o for o in orders if o.is_open]
    return sorted(orders, key=WorkOrder.sort_key), accounts


def by_kind(orders: Iterable[WorkOrder]) -> dict[str, tuple[int, int]]:
    """kind -> (orders, open orders), in the kinds' own order."""
    from ..operations import WorkOrderKind

    total: Counter[str] = Counter()
    still_open: Counter[str] = Counter()
    for order in orders:
        total[order.kind.value] += 1
        still_open[order.kind.value] += order.is_open
    return {k.value: (total[k.value], still_open[k.value]) for k in WorkOrderKind if total[k.value]}


def kind_lines(orders: Iterable[WorkOrder]) -> list[str]:
    """``  安装 install          323  open    15``: one line a kind, for summaries."""
    from ..operations import bilingual
    from ..reports._text import pad

    return [f"  {pad(bilingual('kind', kind), 24)} {total:>5}  open {still_open:>5}"
            for kind, (total, still_open) in by_kind(orders).items()]


def columns(policy: Policy) -> tuple[str, ...]:
    """The export's columns: those of every order, then one a detail the policy's orders may have."""
    from ..operations import detail_fields

    return (*COLUMNS, *detail_fields(policy))


def order_row(order: WorkOrder) -> dict[str, Any]:
    """One output row: a cell a column, the kind's details each in its own (days as dates)."""
    from ..operations import chinese_name, is_date_detail, owner_in_english

    row: dict[str, Any] = {
        "order_id": order.order_id, "account_id": order.account_id, "kind": order.kind.value,
        "kind_zh": chinese_name("kind", order.kind.value), "due": order.due,
        "assignee": order.assignee, "assignee_en": owner_in_english(order.assignee),
        "priority": order.priority, "priority_zh": chinese_name("priority", order.priority),
        "status": order.status, "status_zh": chinese_name("status", order.status),
        "clause": order.clause, "contact_phone": order.contact_phone}
    for key, text in order.details.items():
        row[key] = (date.fromisoformat(text) if text else None) if is_date_detail(key) else text
    return row


def pick_writer(output: str, out_format: str | None, out_encoding: str | None) -> ExportWriter:
    """The export writer the file name (or ``--out-format``) picks, tried before any work is done."""
    from .._errors import InputError
    from ..runs._files import STDIN, check_target, probe
    from ..runs._plugins import plugin_manager, writer_for

    check_target(output)  # a folder that does not exist: before the ledger is replayed
    try:
        writer = writer_for(plugin_manager(), output,
                            out_format or ("csv" if output == STDIN else None))
        probe(writer, COLUMNS, KIND, out_encoding)
    except InputError as exc:  # no format for that name, or one that cannot hold work orders
        raise UsageError(str(exc)) from exc
    return writer


def write_orders(policy: Policy, orders: Iterable[WorkOrder], output: str, *,
                 writer: ExportWriter | None = None, out_encoding: str | None = None) -> None:
    """Write ``policy``'s orders with ``writer`` (default: the one the file name picks)."""
    from ..runs._files import open_target

    writer = writer if writer is not None else pick_writer(output, None, out_encoding)
    with open_target(output, stdout_bytes()) as stream:
        sink = writer.open(stream, columns(policy), kind=KIND, encoding=out_encoding)
        for order in orders:
            sink.write(order_row(order))
        sink.close()
