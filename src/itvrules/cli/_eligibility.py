"""``itvrules eligibility FEED... -o OUT``: which subscribers are trial targets, and why."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import command_parser, debug_option, feed_options, policy_options
from ._feeds import run_feeds
from ._warnings import strict_option

EPILOG = """\
examples:
  itvrules eligibility crm-feed.csv -o targets.csv
  itvrules eligibility registration-form.xlsx -o targets.xlsx --rejects bad-rows.csv
  itvrules eligibility - -o - --rejects bad-rows.csv --format jsonl --out-format jsonl < feed.jsonl
  itvrules eligibility feed.csv -o targets.csv --engine durable

exit status: 0 every row decided; 3 some rows rejected (outputs still written);
2 usage error; 1 policy error or unreadable input, or with --strict any warning
(outputs still written).
"""


def add_parser(sub: Any) -> None:
    parser = command_parser(
        sub, "eligibility", help="decide who is a trial target",
        description="Decide, for every subscriber row of the FEEDs, whether the order accepted on "
                    "its acceptance date (受理日期) makes them a trial target, with the segment or "
                    "the reason, the rule and the notice clause. Rows that cannot be decided go to "
                    "the rejects file.",
        epilog=EPILOG, parents=[feed_options(), policy_options(), strict_option(), debug_option()])
    parser.add_argument("feeds", metavar="FEED", nargs="+", help="CRM feed files; - reads stdin")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..runs._pipeline import run_eligibility

    return run_feeds(args, run_eligibility, kind="eligibility")
