"""``itvrules explain``: why one account is decided as it is, rule by rule, in the notice's words."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import TYPE_CHECKING, Any

from ._common import (
    OK,
    UsageError,
    add_column_option,
    columns_of,
    command_parser,
    date_arg,
    debug_option,
    encoding_arg,
    load_policy_arg,
    month_arg,
    policy_options,
)

if TYPE_CHECKING:
    from .._errors import InputError
    from ..hookspecs import RawRow
    from ..model._inputs import Enrollment, Subscriber
    from ..policy._policy import Policy

EPILOG = """\
examples:
  itvrules explain --account 8410950407 crm-feed.csv             # its eligibility
  itvrules explain --account 8410950407 crm-feed.csv --month 2025-08   # its bill for August
  itvrules explain --subscriber '{"account_id": "A1", "plan": "e8-58", "product": "brand"}' \\
                   --accepted-on 2025-04-01
  itvrules explain --enrollment '{"account_id": "A1", "product": "brand",
                   "accepted_on": "2025-03-25", "completed_on": "2025-03-31"}' --month 2025-06
  itvrules explain --enrollment - --month 2025-06 < enrolment.json

It prints the facts the rules read, then every rule in first-match order: the
one that decided (with the notice's text), why each earlier one did not match,
and which were not reached.

exit status: 0 explained; 2 usage error; 1 the account is not in the feed, its
row cannot be read (the error names the field), or a policy error.
"""


def add_parser(sub: Any) -> None:
    parser = command_parser(
        sub, "explain", help="why one account is decided as it is",
        description="Explain one decision: the eligibility of a subscriber (no --month) or the "
                    "fee of an enrolment for --month, from an account's row in FEED or from JSON.",
        epilog=EPILOG, parents=[policy_options(), debug_option()])
    parser.add_argument("feed", metavar="FEED", nargs="?", help="CRM feed holding --account")
    given = parser.add_mutually_exclusive_group(required=True)
    given.add_argument("--account", metavar="ID", help="the account whose row of FEED to explain")
    given.add_argument("--subscriber", metavar="JSON",
                       help="a subscriber as JSON (- reads stdin); may carry accepted_on")
    given.add_argument("--enrollment", metavar="JSON", help="an enrolment as JSON (- reads stdin)")
    parser.add_argument("--month", metavar="YYYY-MM", type=month_arg,
                        help="billing month: explain the fee (default: explain eligibility)")
    parser.add_argument("--accepted-on", metavar="DATE", type=date_arg,
                        help="acceptance day of a --subscriber's order")
    parser.add_argument("--format", dest="in_format", metavar="F",
                        help="read FEED as this format (csv, xlsx, jsonl) whatever its name")
    parser.add_argument("--encoding", type=encoding_arg, metavar="E",
                        help="encoding of a CSV feed (default: detected)")
    add_column_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.account is not None and args.feed is None:
        raise UsageError("--account needs the FEED that holds it")
    if args.account is None and args.feed is not None:
        raise UsageError("a FEED goes with --account ID; --subscriber and --enrollment take JSON")
    if args.enrollment is not None and args.month is None:
        raise UsageError("explaining an enrolment's fee needs --month YYYY-MM")
    policy = load_policy_arg(args)
    if args.account is not None:
        subject, accepted_on = from_feed(policy, args)
    elif args.subscriber is not None:
        subject, accepted_on = _subscriber(_json(args.subscriber, "--subscriber"), args.accepted_on)
    else:
        subject, accepted_on = _enrollment(_json(args.enrollment, "--enrollment")), None
    explanation = policy.explain(subject, args.month if accepted_on is None else None,
                                 accepted_on=accepted_on, engine=args.engine)
    print(explanation.render())
    return OK


def from_feed(policy: Policy, args: argparse.Namespace) -> tuple[Subscriber | Enrollment, date | None]:
    """The account's record in the feed: an enrolment with --month, else a subscriber and its day."""
    from .._errors import InputError
    from ..runs._rows import BILL, ELIGIBILITY
    from ._records import FeedRecords

    account = str(args.account).strip()
    refused: list[tuple[RawRow, InputError]] = []
    columns = columns_of(args)

    def watch(raw: RawRow, error: InputError) -> None:
        if _account_of(raw, columns) == account:
            refused.append((raw, error))

    kind = BILL if args.month is not None else ELIGIBILITY
    with FeedRecords(policy, [args.feed], kind=kind, in_format=args.in_format,
                     encoding=args.encoding, engine=args.engine, watch=watch,
                     columns=columns) as records:
        for _raw, record in records.records():
            if kind == BILL and record.account_id == account:
                return record, None
            if kind == ELIGIBILITY and record[0].account_id == account:
                return record[0], record[1]
    if refused:
        raw, error = refused[0]
        raise InputError(error.field, error.value, f"the row of account {account} cannot be "
                         f"decided: {error.problem}", source=raw.source, row=raw.row)
    raise InputError("account_id", account, "no row of this account in the feed",
                     source=args.feed)


def _account_of(raw: RawRow, columns: dict[str, str] | None = None) -> str | None:
    """The account of a raw row, by the known names or the ``--column`` map."""
    from ..model._parse import normalise_text
    from ..runs._rows import field_of, normalise_header

    explicit = {normalise_header(h): f for h, f in (columns or {}).items()}
    for header, value in raw.values.items():
        key = normalise_header(header)
        field = explicit[key] or None if key in explicit else field_of(header)
        if field == "account_id" and value is not None:
            return normalise_text(str(value))
    return None


def _json(text: str, option: str) -> dict[str, Any]:
    raw = sys.stdin.read() if text == "-" else text
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{option}: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{option}: expected a JSON object of fields")
    return data


def _subscriber(data: dict[str, Any], accepted_on: date | None) -> tuple[Subscriber, date]:
    from .._errors import InputError
    from ..model._convert import structure
    from ..model._inputs import Subscriber
    from ..model._parse import parse_date

    given = data.pop("accepted_on", None)
    if accepted_on is None:
        if given is None:
            raise UsageError("explaining eligibility needs the acceptance day: --accepted-on DATE "
                             "or accepted_on in the JSON")
        try:
            accepted_on = parse_date(given)
        except ValueError as exc:
            raise InputError("accepted_on", given, str(exc)) from None
    return structure(data, Subscriber), accepted_on


def _enrollment(data: dict[str, Any]) -> Enrollment:
    from ..model._convert import structure
    from ..model._inputs import Enrollment

    return structure(data, Enrollment)
