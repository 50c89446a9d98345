"""What every command shares: exit statuses, argument types, options, messages."""

from __future__ import annotations

import argparse
import codecs
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO, cast

from .._errors import InputError
from .._errors import UsageError as UsageError  # the commands raise the library's one UsageError
from ..model._months import parse_month
from ..model._parse import parse_date

if TYPE_CHECKING:
    from ..policy._policy import Policy

PROG = "itvrules"

# Exit statuses.
OK = 0
FAILED = 1  # a policy error or unreadable input
USAGE = 2  # argparse's own status for a bad command line
REJECTED = 3  # some rows rejected; the outputs are still written
BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool cut off by `| head`
INTERRUPTED = 130  # 128 + SIGINT

#: Encodings that cannot carry every name a feed holds (never write gbk).
_LOSSY_OUT = {"gbk", "cp936", "gb2312", "euc_cn"}


def err(message: str, stream: TextIO | None = None) -> None:
    """One ``itvrules: error: ...`` line on stderr."""
    print(f"{PROG}: error: {message}", file=stream or sys.stderr)


def note(message: str) -> None:
    """A line for the person at the terminal: stderr, so stdout stays data (none with ``-q``)."""
    from ._verbosity import QUIET

    if not QUIET.on:
        print(message, file=sys.stderr)


def month_arg(text: str) -> str:
    """argparse type for a billing month: exactly ``YYYY-MM`` (``2025-6`` is a usage error)."""
    try:
        parse_month(text)
    except InputError as exc:
        why = "write YYYY-MM, e.g. 2025-07" if exc.problem.startswith("a billing month") \
            else exc.problem
        raise argparse.ArgumentTypeError(f"{text!r} is not a billing month: {why}") from None
    return text


def date_arg(text: str) -> date:
    """argparse type for a day: YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD or 2025年3月31日."""
    try:
        return parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date ({exc})") from None


def encoding_arg(text: str) -> str:
    """argparse type for an input encoding Python knows."""
    try:
        return codecs.lookup(text).name
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {text!r}") from None


def out_encoding_arg(text: str) -> str:
    """argparse type for an output encoding; GBK is refused since it loses rare characters."""
    name = encoding_arg(text)
    if name.replace("-", "_") in _LOSSY_OUT:
        raise argparse.ArgumentTypeError(
            f"{text!r} cannot encode every name (e.g. 䶮, 𠮷); use gb18030, a superset of GBK")
    return name


def command_parser(sub: Any, name: str, *, help: str, description: str, epilog: str,
                   parents: list[argparse.ArgumentParser] | None = None) -> argparse.ArgumentParser:
    """A subcommand parser whose ``--help`` ends with worked examples, shown as written."""
    return sub.add_parser(  # type: ignore[no-any-return]
        name, help=help, description=description, epilog=epilog, parents=parents or [],
        formatter_class=argparse.RawDescriptionHelpFormatter)


def debug_option() -> argparse.ArgumentParser:
    """``--debug``, ``-v`` and ``-q`` accepted after the command too (argparse.SUPPRESS keeps the
    top-level value)."""
    from ._verbosity import add_verbosity_options

    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error")
    add_verbosity_options(parent, top_level=False)
    return parent


ON_HELP = ("decide with the policy version in force on DATE (needed when --policy names a "
           "folder of several versions; a single file must be in force that day)")


#: The environment variable that names the policy when ``--policy`` is not given.
POLICY_ENV = "ITVRULES_POLICY"
POLICY_HELP = (f"policy file, or a folder of its versions (default: ${POLICY_ENV}, else the "
               "shipped itv-trial policy)")


def policy_default() -> str | None:
    """``$ITVRULES_POLICY`` when set and not empty: ``--policy`` given on the line wins over it."""
    return os.environ.get(POLICY_ENV) or None


def policy_options() -> argparse.ArgumentParser:
    """``--policy``, ``--on`` and ``--engine``, shared by every command that decides."""
    from ..policy._policy import DEFAULT_ENGINE, ENGINES

    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--policy", metavar="FILE", type=Path, default=policy_default(),
                        help=POLICY_HELP)
    parent.add_argument("--on", metavar="DATE", type=date_arg, default=None, help=ON_HELP)
    parent.add_argument("--engine", choices=ENGINES, default=None,
                        help=f"decision engine (default: {DEFAULT_ENGINE})")
    return parent


def on_option() -> argparse.ArgumentParser:
    """``--on DATE`` alone, for the ``policy`` commands that name their file as an argument."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--on", metavar="DATE", type=date_arg, default=None, help=ON_HELP)
    return parent


def column_arg(text: str) -> tuple[str, str]:
    """argparse type for ``--column HEADER=FIELD``; ``HEADER=`` ignores the column."""
    header, sep, field = text.partition("=")
    if not sep or not header.strip():
        raise argparse.ArgumentTypeError(
            f"expected HEADER=FIELD (e.g. 完工日期=completed_on; HEADER= ignores it), got {text!r}")
    return header.strip(), field.strip()


def add_column_option(parser: argparse.ArgumentParser) -> None:
    """``--column HEADER=FIELD``, repeatable: read a column whatever its header."""
    parser.add_argument("--column", dest="columns", metavar="HEADER=FIELD", action="append",
                        type=column_arg, default=[],
                        help="read the column HEADER as FIELD (e.g. 完工日期=completed_on), for a "
                             "header that is not a known name; HEADER= ignores a column that only "
                             "resembles one; repeatable")


def columns_of(args: argparse.Namespace) -> dict[str, str] | None:
    """The ``--column`` options as a header → field map (None when there are none)."""
    mapping: dict[str, str] = {}
    for header, field in getattr(args, "columns", None) or ():
        if mapping.get(header, field) != field:
            raise UsageError(f"--column {header}= is given twice, as {mapping[header]!r} and "
                             f"{field!r}")
        mapping[header] = field
    return mapping or None


def feed_options() -> argparse.ArgumentParser:
    """Input and output options of ``bill`` and ``eligibility``."""
    parent = argparse.ArgumentParser(add_help=False)
    add_column_option(parent)
    parent.add_argument("-o", "--output", metavar="EXPORT", required=True,
                        help="output file; its extension picks the format (.csv, .xlsx, .jsonl, "
                             ".parquet); - writes stdout (not Parquet), and then --rejects FILE "
                             "is needed")
    parent.add_argument("--rejects", metavar="FILE",
                        help="where rows that cannot be decided go, written every run (the header "
                             "only when none were): default beside the output (bill.csv -> "
                             "bill.rejects.csv); needed with -o -")
    parent.add_argument("--format", dest="in_format", metavar="F",
                        help="read every feed as this format (csv, xlsx, jsonl, parquet) whatever "
                             "its name; needed for - (stdin) unless it is CSV")
    parent.add_argument("--out-format", metavar="F",
                        help="write the output in this format whatever its name (default for -: csv)")
    parent.add_argument("--encoding", type=encoding_arg, metavar="E",
                        help="encoding of CSV feeds (default: detected: UTF-8 with or without BOM, "
                             "UTF-16, GB18030)")
    parent.add_argument("--out-encoding", type=out_encoding_arg, metavar="E",
                        help="encoding of CSV outputs (default utf-8-sig, which Excel opens; "
                             "gb18030 for legacy importers)")
    parent.add_argument("--no-progress", action="store_true",
                        help="never show the progress line (it shows only on a terminal anyway)")
    return parent


def load_policy_arg(args: argparse.Namespace) -> Policy:
    """The policy named by ``--policy`` (or the shipped one) in force ``--on``, with ``--engine``."""
    from ..policy._policy import DEFAULT_ENGINE, load_policy

    return load_policy(args.policy, engine=args.engine or DEFAULT_ENGINE, on=getattr(args, "on", None))


#: The campaign's day changes at midnight in Asia/Shanghai, not on UTC.
TIME_ZONE = "Asia/Shanghai"


def run_day() -> date:
    """Today in Asia/Shanghai: the one reading of the wall clock, a default for ``--as-of``.

    Without time-zone data installed (a bare Windows Python) it is the machine's local day.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return datetime.now(ZoneInfo(TIME_ZONE)).date()
    except ZoneInfoNotFoundError:
        return date.today()


def as_of_option(what: str) -> argparse.ArgumentParser:
    """``--as-of DATE``: the day the ledger is replayed to (default today)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--as-of", metavar="DATE", type=date_arg, default=None,
                        help=f"{what} (default: today in {TIME_ZONE})")
    return parent


def stdout_bytes() -> IO[bytes]:
    """Standard output as bytes, where ``-o -`` writes."""
    return cast(IO[bytes], getattr(sys.stdout, "buffer", sys.stdout))


def where(path: str | None) -> str:
    """How a summary names an output: a path, or stdout for ``-``."""
    if path is None:
        return "(not written)"
    return "stdout" if path == "-" else path
