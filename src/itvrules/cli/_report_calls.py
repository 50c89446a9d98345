"""``itvrules report calls``: the week's outbound calls for marketing (§四(五) 回访情况每周一次报市场部)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ._common import (
    OK,
    UsageError,
    command_parser,
    debug_option,
    load_policy_arg,
    note,
    policy_options,
    run_day,
)
from ._ledger import checked_day, ledger_option, open_db, replayed_states

if TYPE_CHECKING:
    from ..policy._policy import Policy
    from ..reports import CallReport
    from ..store import Ledger

EPILOG = """\
examples:
  itvrules report calls                                    # last week, text on stdout
  itvrules report calls --week 2025-04-07 -o calls-2025-04-07.xlsx
  itvrules report calls --week 2025-W15 --db ledger.db -o calls.csv --out-encoding gb18030

The week is its Monday (YYYY-MM-DD) or an ISO week (YYYY-Www); every enrolment
is replayed to the week's Sunday. .csv holds the figures (周次, 类别, 代码, 名称,
数值); .xlsx adds the calls, the silent and low-usage users still waiting and
the work orders for operations; .txt (or no -o) is aligned text.

exit status: 0 written; 2 usage error (a day that is not a Monday, another file
type); 1 policy error or a ledger that cannot be read.
"""
FORMATS = (".csv", ".xlsx", ".txt")
ENCODINGS = ("utf-8-sig", "gb18030", "utf-8")


def add_parser(actions: Any) -> None:
    parser = command_parser(
        actions, "calls", help="the week's outbound calls and their results, for marketing",
        description="Report the first-month outbound calls of one week: calls due, made and "
                    "reached, whether silent and low-usage users were called first, the outcomes, "
                    "the playback problems reported and the work orders they opened for "
                    "operations.",
        epilog=EPILOG, parents=[ledger_option(), policy_options(), debug_option()])
    parser.add_argument("--week", metavar="MONDAY", type=_week,
                        help="the week's Monday YYYY-MM-DD, or YYYY-Www (default: last week)")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="FILE.csv, FILE.xlsx or FILE.txt (default: text on stdout)")
    parser.add_argument("--out-encoding", metavar="E", choices=ENCODINGS,
                        help="encoding of a CSV report: utf-8-sig (default) or gb18030")
    parser.set_defaults(handler=run)


def _week(text: str) -> str:
    from .._errors import InputError
    from ..reports import week_of

    try:
        week_of(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc.problem}") from None
    return text


def run(args: argparse.Namespace) -> int:
    from ..reports import render_calls_text

    suffix = os.path.splitext(args.output)[1].lower() if args.output else None
    if suffix is not None and suffix not in FORMATS:
        raise UsageError(f"{args.output}: write the call report as {' or '.join(FORMATS)}")
    week = args.week or _last_monday()
    policy = load_policy_arg(args)
    with open_db(args) as ledger:
        report = calls(policy, ledger, week, engine=args.engine)
    if args.output is None:
        sys.stdout.write(render_calls_text(report))
        return OK
    write(report, args.output, encoding=args.out_encoding)
    note(describe(report))
    note(f"output: {args.output}")
    return OK


def _last_monday() -> str:
    today = run_day()
    return (today - timedelta(days=today.weekday() + 7)).isoformat()


def calls(policy: Policy, ledger: Ledger, week: str, *, engine: str | None = None) -> CallReport:
    """The call report of ``week``, every enrolment replayed to the week's Sunday."""
    from ..reports import call_report, week_of

    _monday, sunday = week_of(week)
    checked_day(ledger, sunday, f"--week {week} ends")
    return call_report(policy, replayed_states(policy, ledger, sunday, engine), week)


def write(report: CallReport, path: str, *, encoding: str | None = None) -> None:
    from ..reports import render_calls_text, write_calls_csv, write_calls_xlsx
    from ..runs._parts import write_through_part as write_atomically

    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".xlsx":
        write_atomically(path, lambda tmp: write_calls_xlsx(report, tmp))
    elif suffix == ".csv":
        write_atomically(path, lambda tmp: write_calls_csv(report, tmp, encoding=encoding or "utf-8-sig"))
    else:
        def text(tmp: str) -> None:
            with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(render_calls_text(report))

        write_atomically(path, text)


def describe(report: CallReport) -> str:
    first = "yes" if report.priority_first else f"no ({report.others_before_priority} calls to " \
                                                  "others while a priority user waited)"
    return (f"week {report.week} ({report.monday} .. {report.sunday}): {report.calls_due} calls due, "
            f"{report.calls_made} made, {report.calls_reached} reached; priority users first: {first}; "
            f"{len(report.playback_orders)} orders for operations; for {'、'.join(report.recipients)}")
