"""A bill run counts the rows it charged from a placeholder tariff, the same on every backend.

The counts (``RunSummary.placeholder_charges``) are checked against the
decisions themselves: ``Policy.fee`` of each enrolment, counted when it
charged an amount above 0 from a tariff the policy marks a placeholder.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

import itvrules
from itvrules.policy._resources import default_policy_path
from samples import random_enrolments

MONTH = "2025-08"
COLUMNS = ("account_id", "product", "accepted_on", "completed_on", "returned", "return_reason",
           "cancel_requested_on", "cancel_effective_on", "switched_to")
SHIPPED = default_policy_path().read_text(encoding="utf-8")


def edited(tmp_path: Path, *edits: tuple[str, str]) -> itvrules.Policy:
    text = SHIPPED
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "edited.yaml"
    path.write_text(text, encoding="utf-8")
    return itvrules.load_policy(path)


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else ""
    return str(getattr(value, "value", value))


def write_feed(folder: Path, enrollments: list[itvrules.Enrollment]) -> tuple[Path, Path]:
    """The enrolments as a CSV feed and as a Parquet feed (text cells)."""
    rows = [{name: cell(getattr(e, name)) for name in COLUMNS} for e in enrollments]
    feed = folder / "feed.csv"
    with feed.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    parquet = folder / "feed.parquet"
    pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String)).write_parquet(parquet)
    return feed, parquet


def expected(policy: itvrules.Policy, enrollments: list[itvrules.Enrollment]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for enrollment in enrollments:
        fee = policy.fee(enrollment, MONTH)
        if (fee.package is not None and fee.amount > 0
                and policy.placeholder_tariff(fee.package, enrollment.product.value)):
            counts[fee.package] += 1
    return dict(counts)


def every_backend(policy: itvrules.Policy, folder: Path,
                  enrollments: list[itvrules.Enrollment]) -> dict[str, itvrules.RunSummary]:
    feed, parquet = write_feed(folder, enrollments)
    pm = itvrules.plugin_manager(autoload=False)
    found = {backend: itvrules.run_bill(policy, MONTH, [str(feed)], str(folder / f"{backend}.csv"),
                                        backend=backend, pm=pm)
             for backend in ("rows", "columnar")}
    found["parquet"] = itvrules.run_bill(policy, MONTH, [str(parquet)], str(folder / "bill.parquet"),
                                         backend="columnar", pm=pm)
    for summary in found.values():
        assert summary.rejected == 0 and summary.decided == len(enrollments)
    return found


@pytest.fixture(scope="module")
def enrollments() -> list[itvrules.Enrollment]:
    return random_enrolments(itvrules.load_policy(), 3000, seed=12)


def test_every_backend_counts_the_placeholder_charges_of_the_shipped_policy(
        enrollments: list[itvrules.Enrollment], tmp_path: Path) -> None:
    policy = itvrules.load_policy()
    want = expected(policy, enrollments)
    assert set(want) == {"basic", "hd"} and min(want.values()) > 10  # not vacuous
    for backend, summary in every_backend(policy, tmp_path, enrollments).items():
        assert summary.placeholder_charges == want, backend
        assert list(summary.placeholder_charges) == ["basic", "hd"]  # the policy's order


def test_only_the_tariffs_a_placeholder_covers_are_counted(
        enrollments: list[itvrules.Enrollment], tmp_path: Path) -> None:
    policy = edited(tmp_path, ("    covers: [packages.basic, packages.hd]",
                               "    covers: [packages.basic.tariff.annual]"))
    want = expected(policy, enrollments)
    every_basic = expected(itvrules.load_policy(), enrollments)["basic"]
    assert set(want) == {"basic"} and 0 < want["basic"] < every_basic
    for backend, summary in every_backend(policy, tmp_path, enrollments).items():
        assert summary.placeholder_charges == want, backend


def test_a_waived_charge_is_not_counted(enrollments: list[itvrules.Enrollment],
                                        tmp_path: Path) -> None:
    """With basic the default package, trial months charge it waived in full: amount 0, not
    counted; the months billed after the trial are."""
    policy = edited(tmp_path, ("  default_package: quanneng", "  default_package: basic"))
    want = expected(policy, enrollments)
    decided = [policy.fee(e, MONTH) for e in enrollments]
    waived = sum(1 for d in decided if d.package == "basic" and d.gross > 0 and d.amount == 0)
    charged = sum(1 for d in decided if d.package == "basic" and d.amount > 0)
    assert waived > 0 and want["basic"] == charged
    for backend, summary in every_backend(policy, tmp_path, enrollments).items():
        assert summary.placeholder_charges == want, backend


def test_no_placeholder_charged_no_count(enrollments: list[itvrules.Enrollment],
                                         tmp_path: Path) -> None:
    unswitched = [e for e in enrollments if e.switched_to is None]
    for backend, summary in every_backend(itvrules.load_policy(), tmp_path, unswitched).items():
        assert summary.placeholder_charges == {}, backend


def test_an_eligibility_run_counts_none(tmp_path: Path) -> None:
    feed = Path(__file__).parent.parent / "feeds" / "subscribers.csv"
    summary = itvrules.run_eligibility(itvrules.load_policy(), [str(feed)],
                                       str(tmp_path / "out.csv"),
                                       pm=itvrules.plugin_manager(autoload=False))
    assert summary.decided and summary.placeholder_charges == {}
