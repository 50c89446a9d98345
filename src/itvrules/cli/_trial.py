"""``itvrules trial DATE``: the free months, trial end and contract of a completion date."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from .._errors import InputError
from ..model._months import month_index, month_text
from ._common import OK, command_parser, date_arg, debug_option, load_policy_arg, policy_options

EPILOG = """\
examples:
  itvrules trial 2025-03-31          # trial 2025-03..2025-05, ends 2025-05-31
  itvrules trial 2025/12/15          # crosses the year: Dec, Jan, Feb; ends 2026-02-28
  itvrules trial 20250420 --json     # machine-readable
  itvrules trial 2025-04-20 --policy my-policy.yaml
"""


def add_parser(sub: Any) -> None:
    parser = command_parser(
        sub, "trial", help="trial window of a completion date",
        description="Show the free trial months of an iTV install completed on DATE: "
                    "the completion month and the full months after it, the last free day, "
                    "the month a late cancellation is still waived, and the in-network "
                    "agreement of a user who continues.",
        epilog=EPILOG, parents=[policy_options(), debug_option()])
    parser.add_argument("date", metavar="DATE", type=date_arg,
                        help="completion date (竣工日期): YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(handler=run)


#: The last month a date can name (9999-12): a trial or contract past it cannot be written.
_LAST_MONTH = month_index(date.max)


def _too_late(day: date) -> InputError:
    return InputError("date", day.isoformat(), "the trial, waiver or contract of this completion "
                      "date would run past 9999-12, the last month a date can name")


def describe(args: argparse.Namespace) -> dict[str, Any]:
    """The trial window of ``args.date`` under the chosen policy, JSON-ready."""
    policy = load_policy_arg(args)
    try:
        window = policy.trial_window(args.date)
    except (OverflowError, ValueError):
        raise _too_late(args.date) from None
    params = policy.parameters
    after = month_index(window.end) + 1
    waived = [month_text(after + k) for k in range(int(params["waived_months_after_trial"]))]
    if after + len(waived) - 1 > _LAST_MONTH or any(
            len(month.partition("-")[0]) != 4 for month in (window.contract_start, window.contract_end)):
        raise _too_late(args.date)
    return {
        "policy": {"id": policy.id, "version": policy.version},
        "completed_on": window.start.isoformat(),
        "trial_months": list(window.months),
        "trial_end": window.end.isoformat(),
        "late_cancel_waiver_months": waived,
        "contract_start": window.contract_start,
        "contract_end": window.contract_end,
        "contract_months": int(params["contract_months"]),
    }


def run(args: argparse.Namespace) -> int:
    info = describe(args)
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return OK
    months = info["trial_months"]
    lines = [
        ("completed on", info["completed_on"]),
        ("trial months", f"{', '.join(months)} ({len(months)} free)"),
        ("trial ends", info["trial_end"]),
        ("late-cancel waiver", ", ".join(info["late_cancel_waiver_months"]) or "none"),
        ("contract", f"{info['contract_start']} .. {info['contract_end']} "
                     f"({info['contract_months']} months, if the user continues)"),
        ("policy", f"{info['policy']['id']} {info['policy']['version']}"),
    ]
    for label, value in lines:
        print(f"{label:<19} {value}")
    return OK
