"""SPEC §3, row by row: who is a trial target, and which rule of the shipped policy says so.

Every case names the SPEC §3 table row it exercises; the row fixes the whole
expected answer (eligible, segment, reason, rule id, clause). Each case runs on
both engines, which must agree with SPEC and so with each other.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

import pytest

import itvrules

ENGINES = ("compiled", "durable")
IN_WINDOW = date(2025, 4, 1)

#: SPEC §3 table: row -> (eligible, segment, reason, rule id, notice clause)
SPEC_ROWS: dict[int, tuple[bool, str | None, str, str, str]] = {
    0: (False, None, "outside_campaign", "elig.outside_campaign", "§一"),
    1: (False, None, "no_line", "elig.no_line", "§二"),
    2: (False, None, "already_itv", "elig.already_itv", "§二"),
    3: (False, None, "unknown_plan", "elig.unknown_plan", "§二"),
    4: (False, None, "bundled_itv", "elig.bundled_itv", "§四(三)"),
    5: (False, None, "single_monthly_excluded", "elig.single_monthly_excluded", "§二(三)"),
    6: (True, "new_install", "new_install", "elig.new_install", "§二(三)"),
    7: (True, "upgraded_community", "upgraded_community", "elig.upgraded_community", "§二(一)"),
    8: (True, "legacy_plan", "legacy_plan", "elig.legacy_plan", "§二(二)"),
    9: (False, None, "plan_below_threshold", "elig.plan_below_threshold", "§二(二)"),
}

#: An existing brand user on e8-68 outside any upgraded community: eligible by row 8.
BASE: dict[str, Any] = {
    "account_id": "A001", "plan": "e8-68", "product": "brand", "community": "none",
    "new_install": False, "has_itv": False, "line_ready": True,
}


def sub(**changes: Any) -> dict[str, Any]:
    """The base subscriber's fields with ``changes`` applied."""
    return {**BASE, **changes}


class EligCase(NamedTuple):
    """One example: a subscriber, the acceptance day, the SPEC row that must decide it."""

    id: str
    row: int
    subscriber: dict[str, Any]
    accepted_on: date = IN_WINDOW
    review: bool = False

    @property
    def rule(self) -> str:
        return SPEC_ROWS[self.row][3]


CASES: list[EligCase] = [
    # row 0: the campaign window, 2025-03-20 .. 2025-05-31 inclusive
    EligCase("row0-day-before-window", 0, sub(), date(2025, 3, 19)),
    EligCase("row0-day-after-window", 0, sub(), date(2025, 6, 1)),
    EligCase("row0-other-year", 0, sub(), date(2024, 4, 1)),
    EligCase("row0-beats-no-line", 0, sub(line_ready=False, has_itv=True), date(2025, 6, 1)),
    EligCase("row8-first-window-day", 8, sub(), date(2025, 3, 20)),
    EligCase("row8-last-window-day", 8, sub(), date(2025, 5, 31)),
    # row 1
    EligCase("row1-no-line", 1, sub(line_ready=False)),
    EligCase("row1-beats-already-itv", 1, sub(line_ready=False, has_itv=True)),
    EligCase("row1-beats-new-install", 1, sub(line_ready=False, new_install=True)),
    # row 2
    EligCase("row2-already-itv", 2, sub(has_itv=True)),
    EligCase("row2-beats-unknown-plan", 2, sub(has_itv=True, plan="x1-10")),
    EligCase("row2-beats-upgraded-community", 2, sub(has_itv=True, community="upgraded")),
    # row 3: unknown family or malformed code, flagged for review
    EligCase("row3-unknown-family-x1-10", 3, sub(plan="x1-10"), review=True),
    EligCase("row3-malformed-e8", 3, sub(plan="e8"), review=True),
    EligCase("row3-malformed-empty", 3, sub(plan=""), review=True),
    EligCase("row3-malformed-e8-dash", 3, sub(plan="e8-"), review=True),
    EligCase("row3-beats-new-install", 3, sub(plan="x1-10", new_install=True), review=True),
    EligCase("row3-beats-upgraded-community", 3, sub(plan="e8", community="upgraded"), review=True),
    # row 4: e9 from tier 139 includes iTV
    EligCase("row4-e9-139", 4, sub(plan="e9-139")),
    EligCase("row4-e9-169", 4, sub(plan="e9-169")),
    EligCase("row4-beats-new-install", 4, sub(plan="e9-199", new_install=True)),
    EligCase("row4-beats-upgraded-community", 4, sub(plan="e9-169", community="upgraded")),
    # row 5: a new single-monthly install is excluded, even in an upgraded community
    EligCase("row5-single-monthly-new-install", 5, sub(product="single_monthly", new_install=True)),
    EligCase("row5-beats-upgraded-community", 5,
             sub(product="single_monthly", new_install=True, community="upgraded")),
    EligCase("row5-beats-upgrading-community", 5,
             sub(product="single_monthly", new_install=True, community="upgrading", plan="e6-49")),
    # row 6
    EligCase("row6-new-install-brand", 6, sub(new_install=True, plan="e6-49")),
    EligCase("row6-new-install-annual", 6, sub(new_install=True, product="annual", plan="e8-58")),
    EligCase("row6-beats-upgraded-community", 6, sub(new_install=True, community="upgraded")),
    # row 7
    EligCase("row7-upgraded", 7, sub(community="upgraded", plan="e6-49")),
    EligCase("row7-upgrading", 7, sub(community="upgrading", plan="e8-58")),
    EligCase("row7-beats-legacy-plan", 7, sub(community="upgraded", plan="e9-79")),
    EligCase("row7-existing-single-monthly", 7, sub(community="upgraded", product="single_monthly")),
    # row 8: e8 from 68, e9 from 79 (and below 139)
    EligCase("row8-e8-68", 8, sub(plan="e8-68")),
    EligCase("row8-e8-88", 8, sub(plan="e8-88")),
    EligCase("row8-e9-79", 8, sub(plan="e9-79")),
    EligCase("row8-e9-129", 8, sub(plan="e9-129")),
    EligCase("row8-e9-138", 8, sub(plan="e9-138")),
    EligCase("row8-spaces-and-case-normalised", 8, sub(plan=" E8-68")),
    EligCase("row8-full-width-normalised", 8, sub(plan="ｅ９－７９")),
    EligCase("row8-existing-single-monthly", 8, sub(product="single_monthly", plan="e8-88")),
    # row 9
    EligCase("row9-e6-49", 9, sub(plan="e6-49")),
    EligCase("row9-e8-58", 9, sub(plan="e8-58")),
    EligCase("row9-e8-67", 9, sub(plan="e8-67")),
    EligCase("row9-e9-78", 9, sub(plan="e9-78")),
    EligCase("row9-e6-high-tier", 9, sub(plan="e6-199")),
]


@pytest.fixture(scope="module")
def policy() -> itvrules.Policy:
    return itvrules.load_policy()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_spec_row(policy: itvrules.Policy, case: EligCase, engine: str) -> None:
    eligible, segment, reason, rule, clause = SPEC_ROWS[case.row]
    result = policy.eligibility(itvrules.Subscriber(**case.subscriber),
                                accepted_on=case.accepted_on, engine=engine)
    assert result.eligible is eligible
    assert result.segment == segment
    assert result.reason == reason
    assert result.rule == rule
    assert result.clause == clause
    assert result.review is case.review
    assert result.account_id == case.subscriber["account_id"]


def test_every_row_has_a_case() -> None:
    assert {c.row for c in CASES} == set(SPEC_ROWS)


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("engine", ENGINES)
def test_window_edges_follow_the_policy(policy: itvrules.Policy, engine: str) -> None:
    """The window is the policy's, so its edges are the SPEC §2 days of the campaign year."""
    first, last = policy.campaign_window
    assert (first, last) == (date(2025, 3, 20), date(2025, 5, 31))
    subscriber = itvrules.Subscriber(**sub())
    for day, inside in ((first, True), (last, True),
                        (date.fromordinal(first.toordinal() - 1), False),
                        (date.fromordinal(last.toordinal() + 1), False)):
        result = policy.eligibility(subscriber, accepted_on=day, engine=engine)
        assert (result.rule != "elig.outside_campaign") is inside, day
