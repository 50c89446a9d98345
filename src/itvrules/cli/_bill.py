"""``itvrules bill MONTH FEED... -o EXPORT``: what billing charges each enrolment for a month."""

from __future__ import annotations

import argparse
from functools import partial
from typing import Any

from ._common import command_parser, debug_option, feed_options, month_arg, policy_options
from ._feeds import run_feeds
from ._warnings import strict_option

EPILOG = """\
examples:
  itvrules bill 2025-07 crm-feed.csv -o bill-2025-07.csv
  itvrules bill 2025-07 week1.xlsx week2.xlsx -o bill.jsonl --rejects bad-rows.csv
  itvrules bill 2025-07 gbk-export.csv -o bill.csv --out-encoding gb18030
  cat feed.csv | itvrules bill 2025-07 - -o - --rejects rejects.csv --out-format jsonl | head
  itvrules bill 2025-07 feed.csv -o bill.csv --engine durable --policy my-policy.yaml
  itvrules bill 2025-07 big-feed.csv -o bill.csv --backend rows
  itvrules bill 2025-07 feed.parquet -o bill.parquet
  itvrules bill 2025-07 feed.parquet -o bill.csv --rejects bad-rows.parquet
  itvrules bill 2025-07 feed.csv -o bill.parquet --backend rows
  itvrules bill 2025-07 feed.csv -o bill.csv --strict    # status 1 on a placeholder tariff

exit status: 0 every row decided; 3 some rows rejected (outputs still written);
2 usage error; 1 policy error or unreadable input, or with --strict any warning
(outputs still written).
"""


def add_parser(sub: Any) -> None:
    parser = command_parser(
        sub, "bill", help="bill a month: one export row per enrolment",
        description="Decide billing MONTH for every trial enrolment in the FEEDs (CSV, XLSX, "
                    "JSONL or Parquet; English or Chinese headers) and write the billing export: "
                    "code, gross, waived, amount (yuan and fen), rule and notice clause per row. "
                    "Rows that cannot be decided go to the rejects file, naming source, row and "
                    "field.",
        epilog=EPILOG, parents=[feed_options(), policy_options(), strict_option(), debug_option()])
    parser.add_argument("month", metavar="MONTH", type=month_arg, help="billing month, YYYY-MM")
    parser.add_argument("feeds", metavar="FEED", nargs="+", help="CRM feed files; - reads stdin")
    parser.add_argument("--backend", choices=("auto", "rows", "columnar"), default="auto",
                        help="how rows are processed: columnar (whole columns at a time, for large "
                             "CSV and JSONL feeds, and in Parquet batches for one Parquet feed to a "
                             "Parquet export), rows (one at a time, needed by plug-ins that check "
                             "or complete rows) or auto (columnar whenever it can serve the run; "
                             "the default); all give the same results")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..runs._pipeline import run_bill

    return run_feeds(args, partial(run_bill, backend=args.backend), args.month, kind="bill")
