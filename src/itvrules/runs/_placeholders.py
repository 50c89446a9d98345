"""Rows a bill run charged from a tariff the policy marks a placeholder, counted on every path.

A placeholder tariff is a value the operator has not supplied yet: a bill
that charges it must say so. Every bill path (rows, columnar CSV, Parquet)
feeds its decisions here, a row or a case at a time, and the run's
``RunSummary.placeholder_charges`` carries the counts by package.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..policy._policy import Policy


class PlaceholderTally:
    """Counts, by package, the rows charged an amount above 0 from a placeholder tariff."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self._rows: Counter[str] = Counter()

    def add(self, package: str | None, product: str, amount: Decimal | int, rows: int = 1) -> None:
        """``rows`` rows of ``product`` charged ``amount`` (yuan or fen) from ``package``'s tariff."""
        if (package is not None and rows and amount > 0
                and self._policy.placeholder_tariff(package, product) is not None):
            self._rows[package] += rows

    def counts(self) -> dict[str, int]:
        """Rows by package code, in the policy's order of packages; packages with none left out."""
        return {code: self._rows[code] for code in self._policy.packages if self._rows[code]}
