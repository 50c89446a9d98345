"""The ``itvrules`` command line: one module per command group.

``main(argv)`` returns the exit status instead of exiting, so tests and other
programs can call it: 0 every row decided, 3 some rows rejected, 2 usage error,
1 policy error or a file that cannot be read or written (or standard output
closed before the start, ``>&-``, when the command writes to it), 130
interrupted (Ctrl-C), 143 and 129 stopped by SIGTERM and SIGHUP (128 + the
signal), 141 output pipe closed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Sequence
from functools import partial

from .. import __version__
from .._errors import ItvRulesError, PolicyError
from .._extras import missing_extra
from .._paths import os_error_words
from . import (
    _bill,
    _cancellations,
    _demo,
    _eligibility,
    _explain,
    _ingest,
    _plugins_cmd,
    _policy_cmd,
    _report,
    _stock,
    _trial,
    _workorders,
)
from ._common import BROKEN_PIPE, FAILED, INTERRUPTED, PROG, USAGE, UsageError, err
from ._signals import Stopped, stop_on_signals
from ._stdout import stand_in_for_closed_stdout
from ._verbosity import add_verbosity_options, configure

EPILOG = """\
examples:
  itvrules demo                                  # the bundled sample, into out/demo/
  itvrules eligibility crm-feed.csv -o targets.csv
  itvrules bill 2025-07 crm-feed.csv -o bill-2025-07.csv --rejects rejects.csv
  itvrules trial 2025-03-31
  itvrules explain --account 8410950407 crm-feed.csv --month 2025-08
  itvrules ingest crm-feed.csv --db itvrules.db --usage viewing-hours.csv
  itvrules workorders --due-by 2025-06-30 -o todo.csv
  itvrules cancellations list --on 2025-10-31
  itvrules cancellations advance 07931580897 channel --on 2025-03-30 --by 王芳
  itvrules stock receive 城关 stb new 20 --on 2025-03-20
  itvrules report weekly --week 2025-W14 -o extract.xlsx
  itvrules report kpi --month 2025-08 --eligibility targets.csv -o kpi.html
  itvrules policy validate my-policy.yaml
  itvrules policy lint my-policy.yaml
  itvrules policy diff old.yaml new.yaml --feed crm-feed.csv --month 2025-08
  itvrules policy show --json
  itvrules plugins

exit status: 0 every row decided; 3 some rows rejected (outputs still written);
2 usage error; 1 policy error, or a file that cannot be read or written;
130 interrupted (Ctrl-C); 143 stopped by SIGTERM, 129 by SIGHUP.
Run 'itvrules COMMAND --help' for a command's options and examples.
"""


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: global options and one subparser per command."""
    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="iTV free-trial campaign rules: eligibility, trial windows and monthly "
                    "billing, decided from the campaign's policy file.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--debug", action="store_true", default=False,
                        help="show the full traceback of an error")
    add_verbosity_options(parser, top_level=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (_bill, _eligibility, _trial, _explain, _ingest, _workorders, _cancellations, _stock,
                   _report, _policy_cmd, _plugins_cmd, _demo):
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    stand_in_for_closed_stdout()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (status 2)
        return exc.code if isinstance(exc.code, int) else USAGE
    _escape_unencodable_output()
    with stop_on_signals():
        return _run(args)


def _escape_unencodable_output() -> None:
    """Print what the terminal's encoding cannot hold as ``\\udc80``, never fail on it.

    A lone surrogate (from JSON's ``\\ud800`` or a file name that is not UTF-8) has no
    encoding; an explanation or an error naming it is still printed, with the escape.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) in ("strict", "surrogateescape"):
            # A closed or detached stream refuses: nothing will be printed on it anyway.
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")


def _run(args: argparse.Namespace) -> int:
    """The command's handler, its errors turned into one line and a status."""
    debug = bool(getattr(args, "debug", False))
    configure(args)
    fail = partial(_fail, secret=_ledger_url(args))
    try:
        status = int(args.handler(args))
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except Stopped as stopped:  # SIGTERM, SIGHUP: cleaned up as for Ctrl-C
        print(f"{PROG}: stopped by {stopped.name}", file=sys.stderr)
        return stopped.status
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return BROKEN_PIPE
    except UsageError as exc:
        status = fail(exc, debug, USAGE)
        print(f"run '{PROG} {args.command} --help' for the options and examples", file=sys.stderr)
        return status
    except PolicyError as exc:
        return fail(exc, debug, FAILED)
    except ItvRulesError as exc:
        return fail(exc, debug, FAILED)
    except OSError as exc:  # a file the person named: which, what went wrong, what to do
        return fail(exc, debug, FAILED, os_error_words(exc))
    except ImportError as exc:  # a module of an extra that is not installed: name the extra
        missing = missing_extra(exc)
        if missing is None:
            raise
        return fail(missing, debug, FAILED)


def _fail(exc: BaseException, debug: bool, status: int, message: str | None = None, *,
          secret: str | None = None) -> int:
    """One ``itvrules: error:`` line (a policy error adds its problems, one a line), without the
    ledger URL's password whatever quoted it."""
    from ..store._open import mask_secrets

    if debug:
        traceback.print_exc(file=sys.stderr)
    err(mask_secrets(message if message is not None else str(exc), secret))
    return status


def _ledger_url(args: argparse.Namespace) -> str | None:
    """The ledger URL the command line names (``--db`` or ``$ITVRULES_DB``), if it takes one."""
    if not hasattr(args, "db"):
        return None
    return args.db if args.db is not None else os.environ.get("ITVRULES_DB")


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # stdout is not a real file (a test's capture): nothing will flush it at exit


__all__ = ["build_parser", "main"]
