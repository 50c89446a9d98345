"""``itvrules report weekly|kpi``: the Monday extract and the campaign's key figures, from the ledger."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from . import _report_calls
from ._common import (
    OK,
    REJECTED,
    UsageError,
    as_of_option,
    command_parser,
    debug_option,
    load_policy_arg,
    month_arg,
    note,
    policy_options,
    run_day,
)
from ._ledger import as_of, checked_day, ledger_option, open_db, replayed_states

if TYPE_CHECKING:
    from ..model._results import Eligibility
    from ..policy._policy import Policy
    from ..reports import KpiReport, WeeklyExtract
    from ..store import Ledger

WEEKLY_EPILOG = """\
examples:
  itvrules report weekly -o extract.xlsx                 # last week (the Monday run)
  itvrules report weekly --week 2025-W14 -o extract-2025-W14.csv
  itvrules report weekly --week 2025-W14 -o extract.csv --out-encoding gb18030
  itvrules report weekly --week 2025-W14 --db ledger.db -o extract.xlsx
"""
KPI_EPILOG = """\
examples:
  itvrules report kpi --month 2025-08                          # text on stdout, as of today
  itvrules report kpi --month 2025-08 --as-of 2025-08-31 --eligibility targets.csv
  itvrules report kpi --month 2025-08 --eligibility targets.csv -o kpi.html
  itvrules report kpi --month 2025-08 -o kpi.txt --db ledger.db
"""
STATUS = """
exit status: 0 written; 3 (kpi) some rows of the eligibility file rejected, the
report still written from the others; 2 usage error; 1 policy error, an
unreadable input or a ledger that cannot be read.
"""
WEEKLY_FORMATS = (".csv", ".xlsx")
#: The encodings the extract's CSV is written in (``reports.write_weekly_csv``).
WEEKLY_ENCODINGS = ("utf-8-sig", "gb18030", "utf-8")
KPI_FORMATS = (".html", ".htm", ".txt")


def add_parser(sub: Any) -> None:
    parser = command_parser(sub, "report", help="the Monday extract, the KPI report, the call report",
                            description="Reports from the ledger for the people who run the campaign.",
                            epilog=WEEKLY_EPILOG + KPI_EPILOG.replace("examples:\n", "") + STATUS)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    weekly = command_parser(
        actions, "weekly", help="last week's new trial users and orders not yet installed",
        description="Write the Monday extract of ISO week --week (default: the week before "
                    "this one): the trial users whose install was completed Monday to Sunday, "
                    "and the orders accepted but not installed on Sunday, for the recipients the "
                    "policy names. CSV (one file, a 清单 column) or XLSX (a sheet per list).",
        epilog=WEEKLY_EPILOG + STATUS, parents=[ledger_option(), policy_options(), debug_option()])
    weekly.add_argument("--week", metavar="YYYY-Www", type=_week,
                        help="ISO week, e.g. 2025-W14 (default: last week)")
    weekly.add_argument("-o", "--output", metavar="FILE", required=True, help="FILE.csv or FILE.xlsx")
    weekly.add_argument("--out-encoding", metavar="E", choices=WEEKLY_ENCODINGS,
                        help="encoding of a CSV extract: utf-8-sig (default, Excel opens it) or "
                             "gb18030")
    weekly.set_defaults(handler=run_weekly)
    kpi = command_parser(
        actions, "kpi", help="the campaign's key figures on a day",
        description="Compute the key figures as of --as-of: trial rate of eligible new installs "
                    "against its target (from the --eligibility results), lifecycle counts, "
                    "conversions, cancellations, the month's waivers and bills, first-month call "
                    "priorities, overdue installs and terminal recoveries. Text on stdout, or "
                    "-o FILE.txt / FILE.html (one self-contained page with charts).",
        epilog=KPI_EPILOG + STATUS,
        parents=[ledger_option(), as_of_option("the day the figures are for"), policy_options(),
                 debug_option()])
    kpi.add_argument("--month", metavar="YYYY-MM", type=month_arg, required=True,
                     help="billing month of the waiver and billing figures")
    kpi.add_argument("--eligibility", metavar="FILE",
                     help="eligibility results (the output of itvrules eligibility): the trial "
                          "rate's denominator")
    kpi.add_argument("-o", "--output", metavar="FILE", help="FILE.txt or FILE.html (default: stdout)")
    kpi.set_defaults(handler=run_kpi)
    _report_calls.add_parser(actions)


def _week(text: str) -> str:
    from .._errors import InputError
    from ..reports import parse_iso_week

    try:
        parse_iso_week(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc.problem}") from None
    return text


def _suffix(path: str, allowed: tuple[str, ...], what: str) -> str:
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in allowed:
        raise UsageError(f"{path}: write the {what} as {' or '.join(allowed)}")
    return suffix


def write_atomically(path: str, write: Callable[[str], None]) -> None:
    """``write(part)`` to a part file beside ``path``, renamed onto it only once whole and on disk."""
    from ..runs._parts import write_through_part

    write_through_part(path, write)


# -- weekly ---------------------------------------------------------------------------------


def run_weekly(args: argparse.Namespace) -> int:
    from ..reports import previous_week
    from ..runs._files import check_target

    suffix = _suffix(args.output, WEEKLY_FORMATS, "extract")
    check_target(args.output)  # before the ledger is replayed
    week = args.week or previous_week(run_day())
    policy = load_policy_arg(args)
    with open_db(args) as ledger:
        extract = weekly(policy, ledger, week, engine=args.engine)
    write_weekly(extract, args.output, suffix=suffix, encoding=args.out_encoding)
    note(describe_weekly(extract))
    note(f"output: {args.output}")
    return OK


def weekly(policy: Policy, ledger: Ledger, week: str, *, engine: str | None = None) -> WeeklyExtract:
    """The extract of ISO ``week``, every enrolment replayed to the week's Sunday."""
    from ..reports import parse_iso_week, weekly_extract

    _monday, sunday = parse_iso_week(week)
    checked_day(ledger, sunday, f"--week {week} ends")
    return weekly_extract(policy, replayed_states(policy, ledger, sunday, engine), week)


def write_weekly(extract: WeeklyExtract, path: str, *, suffix: str | None = None,
                 encoding: str | None = None) -> None:
    from ..reports import write_weekly_csv, write_weekly_xlsx

    suffix = suffix or os.path.splitext(path)[1].lower()
    if suffix == ".xlsx":
        write_atomically(path, lambda tmp: write_weekly_xlsx(extract, tmp))
    else:
        write_atomically(path, lambda tmp: write_weekly_csv(extract, tmp,
                                                            encoding=encoding or "utf-8-sig"))


def describe_weekly(extract: WeeklyExtract) -> str:
    return (f"week {extract.week} ({extract.monday} .. {extract.sunday}): "
            f"{len(extract.new_trials)} new trial users, {len(extract.not_installed)} orders not "
            f"installed; for {'、'.join(extract.recipients)}")


# -- kpi ------------------------------------------------------------------------------------


def run_kpi(args: argparse.Namespace) -> int:
    from ..reports import render_text
    from ..runs._files import check_target

    suffix = _suffix(args.output, KPI_FORMATS, "KPI report") if args.output else None
    if args.output:
        check_target(args.output)  # before the ledger is replayed
    policy = load_policy_arg(args)
    day = as_of(args)
    results, rejected = (read_eligibility(args.eligibility) if args.eligibility else (None, 0))
    with open_db(args) as ledger:
        report = kpi_report(policy, ledger, day, args.month, results, engine=args.engine)
    if suffix is None:
        sys.stdout.write(render_text(report))
        return REJECTED if rejected else OK
    write_report(report, args.output)
    note(describe_kpi(report))
    note(f"output: {args.output}")
    return REJECTED if rejected else OK


def write_report(report: KpiReport, path: str) -> None:
    """The report as text (``.txt``) or one self-contained HTML page (``.html``), UTF-8."""
    from ..reports import render_html, render_text

    html = os.path.splitext(path)[1].lower() in (".html", ".htm")
    text = render_html(report) if html else render_text(report)

    def write(temporary: str) -> None:
        with open(temporary, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)

    write_atomically(path, write)


def kpi_report(policy: Policy, ledger: Ledger, day: date, month: str,
               results: list[Eligibility] | None, *, engine: str | None = None) -> KpiReport:
    """The key figures of every enrolment replayed to ``day``."""
    from ..reports import kpi

    checked_day(ledger, day)
    return kpi(policy, replayed_states(policy, ledger, day, engine), results, as_of=day, month=month)


def read_eligibility(path: str) -> tuple[list[Eligibility], int]:
    """The results of an ``itvrules eligibility`` run, and how many rows could not be read.

    A row that cannot be read is named on stderr and left out; the trial rate is
    then computed from the others, and the command exits 3.
    """
    from .._errors import InputError
    from ._tables import eligibility_row, read_table

    results: list[Eligibility] = []
    rejected = 0
    for raw, values in read_table(path, "eligibility"):
        try:
            if isinstance(values, InputError):
                raise values
            results.append(eligibility_row(values))
        except InputError as exc:
            rejected += 1
            note(f"{raw.source}, row {raw.row}: {exc.field}: {exc.problem} (left out)")
    return results, rejected


def describe_kpi(report: KpiReport) -> str:
    if not report.eligibility_given:
        rate = "not given (no --eligibility)"
    elif report.trial_rate is None:
        rate = "no rate (no eligible new install)"
    else:
        rate = f"{report.trial_rate:.1%} (target {report.trial_rate_target:.0%})"
    return (f"as of {report.as_of}: {report.enrolments} enrolments, new-install trial rate {rate}; "
            f"{report.month}: billed {report.billed:.2f} CNY, waived {report.waived_total:.2f} CNY")
