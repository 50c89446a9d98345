"""The input contract as data: loaded with every problem named, compiled alike for every target.

The contract's checks are held to one meaning three ways: the obvious
evaluation (``holds``), the generated Python of the row path and the Polars
expression of the bulk paths must agree on every row hypothesis finds.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import itvrules
from itvrules.contract import PythonChecks, load_contract
from paths import ROOT

CONTRACT = load_contract()
SHIPPED = ROOT / "rulesets" / "itv-trial.yaml"


def test_the_shipped_contract_names_a_clause_and_words_for_every_check() -> None:
    assert CONTRACT.checks
    for check in CONTRACT.checks:
        # the notice's section, or the project's own rule where the notice does not speak
        assert check.clause.startswith(("§", "feed contract: ")), check.id
        assert check.message and check.field, check.id
    assert CONTRACT.required("bill") == ("account_id", "product", "accepted_on", "completed_on",
                                         "cancel_requested_on", "cancel_effective_on")
    assert CONTRACT.column("accepted_on").header == "受理日期"


def test_every_problem_of_a_broken_contract_is_named_with_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.contract.yaml"
    broken.write_text(
        "format: 1\n"
        "columns:\n"
        "  - {field: a, header: 甲, type: date}\n"
        "  - {field: b, header: 乙, type: money}\n"
        "checks:\n"
        "  - id: late\n"
        "    scope: run\n"
        "    clause: §一\n"
        "    field: a\n"
        "    when: {a: {empty: true}}\n"
        "    message: no a\n"
        "  - id: early\n"
        "    scope: record\n"
        "    clause: §一\n"
        "    field: a\n"
        "    when: {a: {before: {field: c}}}\n"
        "    message: a {nowhere}\n", encoding="utf-8")
    with pytest.raises(itvrules.PolicyError) as caught:
        load_contract(broken)
    said = {(p.field, p.line) for p in caught.value.problems}
    text = str(caught.value)
    assert ("columns.1.type", 4) in said and "unknown type 'money'" in text
    assert ("checks.1.scope", 13) in said and "record checks come before run checks" in text
    assert ("checks.1.when.a.before", 16) in said
    assert ("checks.1.message", 17) in said and "{nowhere}" in text
    assert any(p.field == "cells" for p in caught.value.problems)
    assert str(broken) in text


def test_the_first_failing_check_decides_the_words() -> None:
    checks = PythonChecks(CONTRACT.scoped("record"), "record")
    facts = {"accepted_on": date(2025, 4, 10), "completed_on": date(2025, 4, 9), "returned": True,
             "return_reason": None, "cancel_requested_on": None, "cancel_effective_on": None}
    error = checks.error(facts)
    assert error is not None and error.field == "return_reason"  # listed before the dates
    facts["return_reason"] = "拒装"
    error = checks.error(facts)
    assert error is not None and error.field == "completed_on"
    assert error.problem == "a returned order was never installed, so it has no such date"
    facts.update(returned=False)
    error = checks.error(facts)
    assert error is not None and error.problem == "completion is before acceptance (2025-04-10)"
    facts.update(completed_on=None)
    assert checks.error(facts) is None


DAYS = st.one_of(st.none(), st.dates(date(2025, 3, 1), date(2025, 7, 31)))
ROWS = st.fixed_dictionaries({
    "accepted_on": DAYS, "completed_on": DAYS, "cancel_requested_on": DAYS,
    "cancel_effective_on": DAYS, "returned": st.booleans(),
    "return_reason": st.sampled_from([None, "", "拒装"]),
})


@given(st.lists(ROWS, min_size=1, max_size=30))
def test_python_and_polars_agree_with_the_plain_reading(rows: list[dict[str, Any]]) -> None:
    from itvrules.frames._contract import first_failed
    from itvrules.policy._conditions import holds

    checks = CONTRACT.scoped("record")
    compiled = PythonChecks(checks, "record")
    frame = pl.DataFrame(rows, schema={"accepted_on": pl.Date, "completed_on": pl.Date,
                                       "cancel_requested_on": pl.Date, "cancel_effective_on": pl.Date,
                                       "returned": pl.Boolean, "return_reason": pl.String})
    in_bulk = frame.select(first_failed(checks, CONTRACT.kind)).to_series().to_list()
    for row, bulk in zip(rows, in_bulk, strict=True):
        plain = next((at for at, c in enumerate(checks) if holds(c.when, row)), -1)
        found = compiled.first_failed(row)
        assert (checks.index(found) if found else -1) == plain == bulk, row


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def row(account: str, accepted: str, completed: str = "") -> dict[str, str]:
    return {"account_id": account, "product": "brand", "accepted_on": accepted,
            "completed_on": completed, "cancel_requested_on": "", "cancel_effective_on": ""}


def test_an_order_outside_the_campaign_is_rejected_on_accepted_on(tmp_path: Path) -> None:
    feed = write(tmp_path / "crm.csv", [row("A1", "2025-03-20", "2025-03-22"),
                                        row("A2", "2025-06-01", "2025-06-02"),
                                        row("A3", "2025-03-19", "2025-03-22")])
    summary = itvrules.run_bill(itvrules.load_policy(), "2025-07", [str(feed)], str(tmp_path / "b.csv"),
                                pm=itvrules.plugin_manager(autoload=False), backend="rows")
    assert (summary.decided, summary.rejected) == (1, 2)
    with open(tmp_path / "b.rejects.csv", encoding="utf-8-sig", newline="") as handle:
        rejects = list(csv.DictReader(handle))
    assert [(r["account_id"], r["field"]) for r in rejects] == [("A2", "accepted_on"),
                                                               ("A3", "accepted_on")]
    assert rejects[0]["error"] == ("accepted outside the campaign window of the policy in force that "
                                   "day (2025-03-20 .. 2025-05-31, §一): not a trial enrolment; "
                                   "got 2025-06-01")


def test_fees_with_on_error_checks_the_window_and_fee_trusts_it() -> None:
    policy = itvrules.load_policy()
    late = itvrules.Enrollment(account_id="L1", product="brand", accepted_on=date(2025, 6, 1),
                               completed_on=date(2025, 6, 2))
    assert policy.fee(late, "2025-06").code == "trial"  # fee() trusts an accepted order (SPEC §2)
    refused: list[itvrules.InputError] = []
    for backend in ("rows", "columnar"):
        decided = list(policy.fees([late], "2025-06", backend=backend,
                                   on_error=lambda _item, error: refused.append(error)))
        assert decided == []
    assert [e.field for e in refused] == ["accepted_on", "accepted_on"]


def test_the_window_is_the_one_of_the_version_in_force_on_the_acceptance_day(tmp_path: Path) -> None:
    shipped = SHIPPED.read_text(encoding="utf-8")
    head = "in_force:              # the days this version decides; a later version starts the day " \
           "after `until`\n  from: 2025-03-01\n"
    assert head in shipped
    (tmp_path / "a.yaml").write_text(
        shipped.replace(head, "in_force: {from: 2025-03-01, until: 2026-02-28}\n"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        shipped.replace(head, "in_force: {from: 2026-03-01}\n")
        .replace('version: "2025.1"', 'version: "2026.1"')
        .replace("first_day: 2025-03-20", "first_day: 2026-03-20")
        .replace("last_day: 2025-05-31", "last_day: 2026-05-31"), encoding="utf-8")
    policy = itvrules.load_policy(tmp_path, on=date(2026, 6, 1))
    assert policy.version == "2026.1"
    feed = write(tmp_path / "crm.csv", [row("A1", "2025-04-01", "2025-04-02"),  # 2025's campaign
                                        row("A2", "2026-04-01", "2026-04-02"),  # 2026's campaign
                                        row("A3", "2025-12-01", "2025-12-02")])  # between the two
    summary = itvrules.run_bill(policy, "2026-06", [str(feed)], str(tmp_path / "b.csv"),
                                pm=itvrules.plugin_manager(autoload=False))
    assert (summary.decided, summary.rejected) == (2, 1)
    with open(tmp_path / "b.csv", encoding="utf-8-sig", newline="") as handle:
        codes = {r["account_id"]: r["code"] for r in csv.DictReader(handle)}
    assert codes == {"A1": "default_paid", "A2": "trial"}
    assert policy.campaign_window_on(date(2025, 12, 1)) == (date(2025, 3, 20), date(2025, 5, 31))
    assert policy.campaign_window_on(date(2025, 1, 1)) is None
    assert policy.campaign_window_on(date(2026, 3, 1) - timedelta(days=1)) == \
        (date(2025, 3, 20), date(2025, 5, 31))
