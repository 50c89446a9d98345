"""Running a feed through the pipeline for ``bill`` and ``eligibility``: progress, summary, status."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._errors import InputError
from ._common import OK, REJECTED, UsageError, columns_of, load_policy_arg, note, where
from ._progress import progress_for
from ._warnings import report_warnings, run_warnings, strict_status

if TYPE_CHECKING:
    from ..runs._pipeline import RunSummary


def run_feeds(args: argparse.Namespace, runner: Callable[..., RunSummary], *leading: Any,
              kind: str) -> int:
    """Call ``runner(policy, *leading, feeds, output, ...)`` with the command's options.

    Prints how each feed's headers were mapped, ``rows in: N  decided: D
    rejected: R  skipped: S``, where the outputs went and the run's warnings
    (``kind``: ``bill`` or ``eligibility``) on stderr; the status is 0 when
    every row was decided or skipped, 3 when some were rejected, and 1 when
    ``--strict`` was given and there was a warning.
    """
    columns = columns_of(args)
    policy = load_policy_arg(args)
    progress = progress_for(sys.stderr, enabled=not args.no_progress)
    sys.stdout.flush()  # anything printed before the pipeline writes raw bytes to stdout
    try:
        summary = runner(
            policy, *leading, list(args.feeds), args.output,
            rejects=args.rejects, engine=args.engine, in_format=args.in_format,
            out_format=args.out_format, encoding=args.encoding, out_encoding=args.out_encoding,
            progress=progress, stdin=getattr(sys.stdin, "buffer", None),
            stdout=getattr(sys.stdout, "buffer", None), columns=columns,
        )
    except InputError as exc:
        if exc.field == "format":  # an unknown --format, or a file name no format claims
            raise UsageError(str(exc)) from exc
        raise
    finally:
        if progress is not None:
            progress.close()
    report(summary)
    warnings = run_warnings(policy, summary, kind)
    report_warnings(warnings)
    return strict_status(args, len(warnings), REJECTED if summary.rejected else OK, wrote=True)


def report(summary: RunSummary) -> None:
    """The header maps and counts a run reports, and the files written."""
    for header_map in summary.headers:
        note(str(header_map))
    note(f"rows in: {summary.rows_in}  decided: {summary.decided}  rejected: {summary.rejected}  "
         f"skipped: {summary.skipped}")
    note(f"output: {where(summary.output)}")
    if summary.rejects is not None or summary.rejected:
        note(f"rejects: {where(summary.rejects)}")
