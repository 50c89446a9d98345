"""``itvrules demo``: the whole job on the bundled sample data, in one folder.

The sample feed (``itvrules/sample_data``, made by ``examples/make_sample_data.py``)
ships inside the package, so the demo runs from an installed wheel with no
source tree around. It carries bad rows on purpose; ``manifest.json`` lists
them, and the demo checks that exactly those rows were rejected.

After eligibility and billing it runs the operations side on a fresh SQLite
ledger in the same folder: the feed ingested as events, the work orders, one
campaign week's Monday extract and the KPI report, all as of the day the
sample was extracted, so every run writes the same figures.
"""

from __future__ import annotations

import argparse
import csv
import errno
import json
import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._sheets import display_width
from ..reports._text import pad
from ._common import OK, REJECTED, command_parser, debug_option, load_policy_arg, policy_options
from ._warnings import report_warnings, run_warnings, strict_option, strict_status

if TYPE_CHECKING:
    from ..policy._policy import Policy
    from ..runs._pipeline import RunSummary

FEED = "crm-feed.csv"
FORM = "registration-form.xlsx"
STEPS = "cancellation-steps.csv"
MANIFEST = "manifest.json"
#: August 2025 is the month the sample shows every fee code in: trials still
#: running, the one waived month after a trial, overdue cancellations, switches.
MONTH = "2025-08"
#: The day the sample feed was extracted (its last dated event is 2025-10-15):
#: the ledger is replayed to it, never to the wall clock, so reruns agree.
AS_OF = date(2025, 10, 31)
#: The campaign week of the Monday extract: 2025-03-31 .. 2025-04-06.
WEEK = "2025-W14"
LEDGER = "ledger.db"

EPILOG = f"""\
examples:
  itvrules demo                  # writes into out/demo/
  itvrules demo --out itv-demo   # anywhere else
  itvrules demo --engine durable # the same decisions from the durable-rules engine

It copies the sample CRM feed ({FEED}, GB18030, Chinese headers), the
registration form ({FORM}) and {MANIFEST} into the folder, decides
eligibility, bills {MONTH}, and writes eligibility.csv, bill-{MONTH}.csv and a
rejects file for each. Then it ingests the feed and the cancellation steps
done ({STEPS}) into a fresh ledger ({LEDGER}) as of {AS_OF}, and writes where
every cancellation stands (cancellations.csv), the work orders (workorders.csv), the
Monday extract of {WEEK} (weekly-{WEEK}.csv and .xlsx) and the KPI report
(kpi.txt, kpi.html).
Exit status 0 when the rows rejected are exactly the sample's deliberate bad
rows (listed in {MANIFEST}); 3 if any other row was rejected or one was missed;
with --strict, 1 when a run warned (the sample bills placeholder tariffs).
"""


def add_parser(sub: Any) -> None:
    parser = command_parser(
        sub, "demo", help="run on the bundled sample data",
        description="Run eligibility, one month of billing, the ledger, work orders and reports "
                    "on the bundled sample feed and print what came out.",
        epilog=EPILOG, parents=[policy_options(), strict_option(), debug_option()])
    parser.add_argument("--out", metavar="DIR", type=Path, default=Path("out/demo"),
                        help="folder for the inputs and outputs (default: out/demo)")
    parser.set_defaults(handler=run)


def sample_file(name: str) -> resources.abc.Traversable:
    """A file bundled in ``itvrules/sample_data`` (works from a wheel or a checkout)."""
    return resources.files("itvrules") / "sample_data" / name


def sample_manifest() -> dict[str, Any]:
    """What the sample files hold, including the rows that are bad on purpose."""
    return json.loads(sample_file(MANIFEST).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def run(args: argparse.Namespace) -> int:
    from .._paths import folder_problem
    from ..runs._pipeline import run_bill, run_eligibility

    out: Path = args.out
    problem = folder_problem(str(out))
    if problem is not None:
        raise NotADirectoryError(errno.ENOTDIR, problem, str(out))
    out.mkdir(parents=True, exist_ok=True)
    written = [out / name for name in (FEED, FORM, STEPS, MANIFEST)]
    for name, target in zip((FEED, FORM, STEPS, MANIFEST), written, strict=True):
        with sample_file(name).open("rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    feed = str(out / FEED)
    policy = load_policy_arg(args)
    eligibility = run_eligibility(policy, [feed], str(out / "eligibility.csv"),
                                  rejects=str(out / "eligibility-rejects.csv"), engine=args.engine)
    bill = run_bill(policy, MONTH, [feed], str(out / f"bill-{MONTH}.csv"),
                    rejects=str(out / f"bill-{MONTH}-rejects.csv"), engine=args.engine)
    bad = sample_manifest()[FEED]["bad_rows"]
    print(f"itvrules demo: policy {policy.id} {policy.version}, sample feed {FEED} "
          f"({bill.rows_in} rows, GB18030, Chinese headers)")
    surprises = _summarise("eligibility", "eligibility", eligibility, bad)
    surprises += _summarise(f"billing {MONTH}", "bill", bill, bad)
    warnings = run_warnings(policy, eligibility, "eligibility") + run_warnings(policy, bill, "bill")
    sys.stdout.flush()  # the warnings (stderr) follow the billing summary
    report_warnings(warnings)
    for summary in (eligibility, bill):
        written += [Path(p) for p in (summary.output, summary.rejects) if p is not None]
    operations, more = _operations(policy, out, feed, bad, args.engine)
    surprises += operations
    written += more
    print("\nfiles written:")
    for path in written:
        print(f"  {path}")
    print(f"\nnext: {_command()} eligibility {out / FORM} -o {out / 'form-eligibility.csv'}")
    print(f"      {_command()} workorders --db {out / LEDGER} --as-of {AS_OF} --due-by {AS_OF} "
          f"--open -o {out / 'todo.csv'}")
    return strict_status(args, len(warnings), REJECTED if surprises else OK, wrote=True)


def _operations(policy: Policy, out: Path, feed: str, bad: list[dict[str, Any]],
                engine: str | None) -> tuple[int, list[Path]]:
    """Ledger, work orders, weekly extract and KPI report; surprises and the files written."""
    from ..store import open_ledger
    from . import _report, _workorders
    from ._ingest import ingest
    from ._report import kpi_report, read_eligibility, write_report

    ledger_path, rejects = out / LEDGER, out / "ingest-rejects.csv"
    for stale in (ledger_path, rejects, *(ledger_path.with_name(LEDGER + s) for s in ("-wal", "-shm"))):
        stale.unlink(missing_ok=True)  # a fresh ledger each run: the demo shows one ingest
    files: list[Path] = [ledger_path]
    with open_ledger(ledger_path) as ledger:
        ingested = ingest(policy, [feed], ledger, as_of=AS_OF, rejects=str(rejects), engine=engine,
                          steps=str(out / STEPS))
        print(f"\nledger {LEDGER} as of {AS_OF}: rows in: {ingested.rows_in}  ingested: "
              f"{ingested.ingested}  rejected: {ingested.rejected}  events added: {ingested.added}")
        print(f"  cancellation steps ({STEPS}): rows in: {ingested.steps_in}  ingested: "
              f"{ingested.steps_ingested}  rejected: {ingested.steps_rejected}")
        if ingested.rejects is not None:
            files.append(Path(ingested.rejects))
        rejected = list(_read_csv(rejects)) if ingested.rejects else []
        expected = {int(b["row"]) for b in bad if "bill" in b["rejected_by"]}
        surprises = _check_rejects(expected, {int(r["source_row"]) for r in rejected
                                              if r["source"] == FEED})
        if ingested.steps_rejected:
            print(f"  UNEXPECTED: {ingested.steps_rejected} step rows rejected (see {rejects.name})")
            surprises += ingested.steps_rejected

        orders, accounts = _workorders.collect(policy, ledger, AS_OF, engine=engine)
        _workorders.write_orders(policy, orders, str(out / "workorders.csv"))
        files.append(out / "workorders.csv")
        print(f"\nwork orders as of {AS_OF}: {len(orders)} for {accounts} accounts, "
              f"{sum(o.is_open for o in orders)} open")
        print("\n".join(_workorders.kind_lines(orders)))

        files.append(_cancellation_lists(policy, ledger, out, engine))

        extract = _report.weekly(policy, ledger, WEEK, engine=engine)
        for suffix in (".csv", ".xlsx"):
            target = out / f"weekly-{WEEK}{suffix}"
            _report.write_weekly(extract, str(target))
            files.append(target)
        print(f"\nMonday extract: {_report.describe_weekly(extract)}")

        results, _unread = read_eligibility(str(out / "eligibility.csv"))
        report = kpi_report(policy, ledger, AS_OF, MONTH, results, engine=engine)
    for name in ("kpi.txt", "kpi.html"):
        write_report(report, str(out / name))
        files.append(out / name)
    print(f"\nKPI {_report.describe_kpi(report)}")
    return surprises, files


def _cancellation_lists(policy: Policy, ledger: Any, out: Path, engine: str | None) -> Path:
    """Where every cancellation stands on the demo's day, written and summed up by step."""
    from . import _cancellations

    lists = _cancellations.collect(policy, ledger, AS_OF, engine=engine)
    target = out / "cancellations.csv"
    _cancellations.write_lists(lists, str(target), writer=_cancellations.pick_writer(str(target)))
    print(f"\n{_cancellations.summary_line(lists, AS_OF)}")
    for key, n in _cancellations.by_step(lists, policy).items():
        print(f"  {key:<32} {n:>5}")
    return target


def _command() -> str:
    """How to run itvrules again as printed: its path when it is not on the PATH (make's .venv)."""
    started = sys.argv[0]
    if Path(started).name == "itvrules" and shutil.which("itvrules") is None:
        return started
    return "itvrules"


def _summarise(title: str, kind: str, summary: RunSummary, bad: list[dict[str, Any]]) -> int:
    """Counts by reason or fee code, money totals, rejects; returns how many rejects surprised."""
    print(f"\n{title}: rows in: {summary.rows_in}  decided: {summary.decided}  "
          f"rejected: {summary.rejected}  skipped: {summary.skipped}")
    for header_map in summary.headers:
        print(f"  {header_map}")
    rows = list(_read_csv(Path(summary.output)))
    if kind == "eligibility":
        _print_counts(Counter(_verdict(row) for row in rows))
    else:
        _print_counts(Counter(row["code"] for row in rows))
        gross, waived, billed = (sum((Decimal(row[column]) for row in rows), Decimal("0.00"))
                                 for column in ("gross", "waived", "amount"))
        print(f"  total billed {billed:>10.2f} CNY   total waived {waived:>10.2f} CNY"
              f"   (gross {gross:.2f})")
    rejected = list(_read_csv(Path(summary.rejects))) if summary.rejects else []
    if rejected:
        fields = Counter(r["field"] for r in rejected)
        print("  rejected by field: " + ", ".join(f"{k} {n}" for k, n in sorted(fields.items())))
    expected = {int(b["row"]) for b in bad if kind in b["rejected_by"]}
    return _check_rejects(expected, {int(r["source_row"]) for r in rejected})


def _check_rejects(expected: set[int], got: set[int]) -> int:
    """Say whether the rejected rows are the sample's deliberate bad rows; count surprises."""
    if got == expected:
        print(f"  the {len(got)} rejected rows are the sample's deliberate bad rows "
              f"(see {MANIFEST}); every other row was decided")
        return 0
    if got - expected:
        print(f"  UNEXPECTED: rows rejected that are not bad on purpose: {sorted(got - expected)}")
    if expected - got:
        print(f"  UNEXPECTED: bad rows that were not rejected: {sorted(expected - got)}")
    return len(got ^ expected)


def _verdict(row: dict[str, str]) -> str:
    eligible = row.get("eligible", "").strip().lower() in ("true", "1", "yes", "是")
    return f"{'eligible' if eligible else 'not eligible'}: {row.get('reason', '?')}"


def _print_counts(counts: Counter[str]) -> None:
    width = max((display_width(k) for k in counts), default=0)
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {pad(key, width)}  {n:>4}")


def _read_csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle)
