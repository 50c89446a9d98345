"""What a command warns about, and ``--strict``, which makes any warning fail the command.

A run warns when its decisions rest on a value the policy marks a
placeholder: a bill for every placeholder tariff it charged (with the rows
counted on every backend, ``RunSummary.placeholder_charges``), any run for a
placeholder among the values its decisions read. With ``--strict`` the
outputs are still written, then the command ends with one line saying how
many warnings failed it, and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..policy._assumptions import PRODUCTS, placeholders_under
from ._common import FAILED, PROG, err

if TYPE_CHECKING:
    from ..policy._policy import Policy
    from ..runs._common import RunSummary

#: The sections of a policy whose values the decisions of each run read (tariffs are counted
#: row by row instead).
READS = {"bill": ("campaign", "parameters", "fees"),
         "eligibility": ("campaign", "catalogue", "eligibility")}


def strict_option() -> argparse.ArgumentParser:
    """``--strict``: any warning makes the command exit 1, after its outputs are written."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--strict", action="store_true",
                        help="exit 1 when there is any warning (the outputs are still written), "
                             "e.g. a bill charged from a tariff the policy marks a placeholder")
    return parent


def warn(message: str) -> None:
    """One ``itvrules: warning: ...`` line on stderr."""
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def run_warnings(policy: Policy, summary: RunSummary, kind: str) -> list[str]:
    """The warnings of a bill or eligibility run, as sentences."""
    out = [_tariff_warning(policy, code, rows) for code, rows in summary.placeholder_charges.items()]
    if summary.decided:
        for path, entry in placeholders_under(policy.assumption_entries, READS[kind]):
            out.append(f"{_rows(summary.decided)} decided with {path}, which the policy marks a "
                       f"placeholder ({_where(entry.id, entry.clause)}): {entry.text} — set the "
                       "real value in the policy")
    return out


def _tariff_warning(policy: Policy, code: str, rows: int) -> str:
    package = policy.packages[code]
    marked = {product: package.tariff[product] for product in PRODUCTS
              if policy.placeholder_tariff(code, product) is not None}
    amounts = {f"{amount:.2f}" for amount in marked.values()}
    shown = amounts.pop() if len(amounts) == 1 else \
        ", ".join(f"{product} {amount:.2f}" for product, amount in marked.items())
    entry = next(policy.placeholder_tariff(code, p) for p in marked)
    assert entry is not None
    name = f" ({package.name})" if package.name and package.name != code else ""
    return (f"{_rows(rows)} charged with placeholder tariff {code}{name} {shown} — the policy "
            f"marks it a placeholder ({_where(package.clause or entry.clause, entry.id)}); "
            "set the real tariff in the policy")


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _where(*parts: str) -> str:
    return ", ".join(part for part in parts if part)


def report_warnings(warnings: list[str]) -> None:
    """Each warning on its own line of stderr."""
    for message in warnings:
        warn(message)


def strict_status(args: argparse.Namespace, warnings: int, status: int, *,
                  wrote: bool = False) -> int:
    """``status``, or 1 with a closing line when ``--strict`` was given and there were warnings
    (``wrote``: the command wrote its outputs, and the line says so)."""
    if not getattr(args, "strict", False) or not warnings:
        return status
    written = "; the outputs are written" if wrote else ""
    err(f"strict mode: {warnings} warning(s) fail the command{written}")
    return FAILED
