"""The hypothesis strategies of the test suite, all in one module.

Why the data is biased rather than uniform: the rules only change their answer
at a handful of dates and numbers, and uniformly drawn values almost never land
on them.

* Subscribers mostly have a ready line, no iTV and no speed-up, so the plan
  rules, which come last in §3's first-hit order, decide a good share of them.
* Plan tiers cluster around the thresholds 68 (e8), 79 (e9) and 139 (e9
  includes iTV), one below, on and above each, because an off-by-one in a
  ``ge`` condition is only visible there. Codes come in the spellings feeds
  really carry (upper case, padded, full-width, other dashes), next to unknown
  families and malformed text that must decide as ``unknown_plan``.
* Acceptance dates sit on the campaign's first and last day and the day on
  either side (2025-03-19/20, 2025-05-31/06-01): the window is inclusive.
* Completion dates favour month ends (a completion on the 31st has a one-day
  first trial month), month starts, December (the trial runs into the next
  year and through February) and leap days (2027-12 completions end on
  2028-02-29), where calendar-month arithmetic usually breaks.
* Cancellations are requested at every moment that matters to §5: before the
  completion, inside each trial month, on the trial end day, the day after,
  months later; and take effect the same day or month, the next month, much
  later, or at an unknown date, or carry an effective date with no request.
* Billing months run from two months before the completion month to eight
  after it, so every fee rule (not started, trial, the waived month, overdue,
  paid, cancelled) is reached.

Every enrolment drawn here is valid input (SPEC §9); invalid rows are the
business of the feed and model tests.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from hypothesis import strategies as st

import itvrules

KNOWN_FAMILIES = ("e6", "e8", "e9")
#: One below, on and above each threshold: e8 from 68, e9 from 79, e9 includes iTV from 139.
THRESHOLD_TIERS = (67, 68, 69, 78, 79, 80, 138, 139, 140)
#: The thresholds' neighbours, the notice's examples and the extremes a code may carry.
EDGE_TIERS = (0, 49, 58, *THRESHOLD_TIERS, 88, 99, 128, 129, 169, 199, 99999)
UNKNOWN_FAMILIES = ("e7", "e10", "e", "e99", "c8", "itv", "e8x", "lan")
MALFORMED_PLANS = (
    "", " ", "e8", "e8-", "-68", "68", "e8_68", "e8 68", "e8--68", "e8-6a", "e8-68-1",
    "e8-123456", "8e-68", "e8－", "ｅ８", "e8.68", "套餐e8-68", "e8-68元", "None", "null",
)
DASHES = ("-", "－", "–", "—", "‐", "‑")
RETURN_REASONS = ("线路不具备安装条件", "用户拒绝安装", "no free port in the cabinet", "地址错误")
CHANNELS = ("伊山一分局", "伊山二分局", "营业厅", "客服中心", "提速施工队")


@cache
def shipped_policy() -> itvrules.Policy:
    """The shipped policy, loaded once: the strategies read its window and packages."""
    return itvrules.load_policy()


# -- calendar helpers (independent of the library, so tests do not grade it with itself)


def month_of(day: date) -> str:
    """``"YYYY-MM"`` of ``day``."""
    return f"{day.year:04d}-{day.month:02d}"


def shift_month(year: int, month: int, k: int) -> tuple[int, int]:
    """The calendar month ``k`` months after ``year-month`` (``k`` may be negative)."""
    index = year * 12 + month - 1 + k
    return index // 12, index % 12 + 1


def month_after(day: date, k: int) -> str:
    """``"YYYY-MM"`` of the month ``k`` months after the month of ``day``."""
    year, month = shift_month(day.year, day.month, k)
    return f"{year:04d}-{month:02d}"


def first_of(year: int, month: int) -> date:
    return date(year, month, 1)


def last_of(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def trial_end(completed_on: date, trial_months: int = 3) -> date:
    """Last day of the trial of a completion on ``completed_on`` (SPEC §4)."""
    return last_of(*shift_month(completed_on.year, completed_on.month, trial_months - 1))


# -- plan codes and subscribers ------------------------------------------------------


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def spellings(draw: st.DrawFn, code: str) -> str:
    """``code`` as a feed may spell it: case, padding, full-width, another dash."""
    family, _, tier = code.partition("-")
    text = family + draw(st.sampled_from(DASHES)) + tier
    if draw(st.booleans()):
        text = text.upper()
    if draw(st.booleans()):
        text = _full_width(text)
    pad = st.sampled_from(("", " ", "  ", "\t", "\u3000"))
    return draw(pad) + text + draw(pad)


def canonical_plans() -> st.SearchStrategy[str]:
    """Well-formed codes of the known families, tiers clustered at the thresholds."""
    tiers = st.one_of(st.sampled_from(THRESHOLD_TIERS), st.sampled_from(EDGE_TIERS),
                      st.integers(0, 300))
    return st.builds(lambda f, t: f"{f}-{t}", st.sampled_from(KNOWN_FAMILIES), tiers)


def plan_codes() -> st.SearchStrategy[str]:
    """Any plan text a feed may carry: known, oddly spelled, unknown family, malformed."""
    unknown = st.builds(lambda f, t: f"{f}-{t}", st.sampled_from(UNKNOWN_FAMILIES),
                        st.sampled_from(EDGE_TIERS))
    return st.one_of(
        canonical_plans(),
        canonical_plans(),
        canonical_plans().flatmap(spellings),
        unknown,
        st.sampled_from(MALFORMED_PLANS),
        st.text(max_size=8),
    )


def account_ids() -> st.SearchStrategy[str]:
    """Account ids as text: digits with leading zeros, letters, a Chinese prefix."""
    return st.one_of(
        st.text(alphabet="0123456789", min_size=1, max_size=12),
        st.text(alphabet="0123456789ABCDEFXYZ-", min_size=1, max_size=10).map(lambda s: "A" + s),
        st.builds(lambda n: f"伊山{n:06d}", st.integers(0, 999_999)),
    )


def mostly(value: bool) -> st.SearchStrategy[bool]:
    """``value`` four times in five: most subscribers must get past the first rules."""
    return st.integers(0, 4).map(lambda n: value if n else not value)


def subscribers() -> st.SearchStrategy[itvrules.Subscriber]:
    """Any valid subscriber, with plan codes from :func:`plan_codes`.

    Lines are mostly ready, iTV mostly absent and communities mostly not sped
    up, so that the plan rules (§3 rules 3-9), which come last, decide often.
    """
    community = st.sampled_from((itvrules.Community.NONE, *itvrules.Community))
    return st.builds(
        itvrules.Subscriber,
        account_id=account_ids(),
        plan=plan_codes(),
        product=st.sampled_from(itvrules.Product),
        community=community,
        new_install=st.booleans(),
        has_itv=mostly(False),
        line_ready=mostly(True),
    )


# -- dates ------------------------------------------------------------------------------


def _day_between(low: date, high: date) -> st.SearchStrategy[date]:
    """A day in ``[low, high]``, often one of the two ends."""
    if high <= low:
        return st.just(low)
    return st.one_of(st.just(low), st.just(high), st.dates(low, high))


def accepted_dates() -> st.SearchStrategy[date]:
    """Acceptance dates, a third of them on or next to the campaign's first and last day."""
    first, last = shipped_policy().campaign_window
    one = timedelta(days=1)
    edges = (first - one, first, first + one, last - one, last, last + one)
    return st.one_of(
        st.sampled_from(edges),
        st.dates(first, last),
        st.dates(first - timedelta(days=400), last + timedelta(days=400)),
    )


YEARS = st.integers(2024, 2029)
MONTHS = st.integers(1, 12)
EDGE_COMPLETIONS = (
    date(2025, 3, 31), date(2025, 5, 31), date(2025, 6, 1), date(2025, 12, 15),
    date(2025, 12, 31), date(2026, 1, 31), date(2027, 12, 1), date(2027, 12, 31),
    date(2028, 2, 29), date(2024, 2, 29), date(2028, 1, 31), date(2025, 11, 30),
)


def completion_dates() -> st.SearchStrategy[date]:
    """Completion dates biased to month ends, month starts, December and leap days."""
    return st.one_of(
        st.sampled_from(EDGE_COMPLETIONS),
        st.builds(last_of, YEARS, MONTHS),
        st.builds(first_of, YEARS, MONTHS),
        st.builds(lambda y, d: date(y, 12, d), YEARS, st.integers(1, 31)),
        st.dates(date(2024, 1, 1), date(2029, 12, 31)),
    )


#: Months of every length: 28 and 29 days (February), 30, 31, and a December into the next year.
MONTHS_OF_EVERY_LENGTH = ((2025, 2), (2028, 2), (2025, 4), (2025, 3), (2025, 12), (2026, 1))


@st.composite
def completions_on_every_day(draw: st.DrawFn) -> date:
    """Completion days 1..31 of months of every length (the first month's window crosses them)."""
    year, month = draw(st.sampled_from(MONTHS_OF_EVERY_LENGTH))
    return date(year, month, draw(st.integers(1, calendar.monthrange(year, month)[1])))


def viewing_hours() -> st.SearchStrategy[Decimal]:
    """Hours of one day's viewing: zero often, fractions of a hour, a whole night."""
    return st.one_of(st.just(Decimal(0)),
                     st.decimals(Decimal(0), Decimal(24), places=2, allow_nan=False,
                                 allow_infinity=False))


def _lags() -> st.SearchStrategy[int]:
    """Days from acceptance to completion: same day, within the 7-day SLA, or late."""
    return st.one_of(st.just(0), st.integers(1, 7), st.integers(8, 120))


# -- cancellations ----------------------------------------------------------------------

REQUEST_TIMINGS = ("none", "before_completion", "trial_month_1", "trial_month_2",
                   "trial_month_3", "trial_end", "day_after_trial", "months_later")
EFFECTIVE_TIMINGS = ("unknown", "same_day", "same_month", "next_month", "trial_end",
                     "day_after_trial", "much_later")


def _request_day(draw: st.DrawFn, accepted: date, completed: date | None,
                 trial_months: int) -> date | None:
    if completed is None:
        if draw(st.booleans()):
            return None
        return accepted + timedelta(days=draw(st.integers(0, 120)))
    timing = draw(st.sampled_from(REQUEST_TIMINGS))
    end = trial_end(completed, trial_months)
    if timing == "none":
        return None
    if timing == "before_completion":
        return draw(_day_between(accepted, max(accepted, completed - timedelta(days=1))))
    if timing.startswith("trial_month_"):
        k = int(timing.rsplit("_", 1)[1])
        year, month = shift_month(completed.year, completed.month, k - 1)
        return draw(_day_between(max(completed, first_of(year, month)), last_of(year, month)))
    if timing == "trial_end":
        return end
    if timing == "day_after_trial":
        return end + timedelta(days=1)
    return end + timedelta(days=draw(st.integers(28, 400)))


def _effective_day(draw: st.DrawFn, requested: date, completed: date | None,
                   trial_months: int) -> date | None:
    timing = draw(st.sampled_from(EFFECTIVE_TIMINGS))
    if timing in ("trial_end", "day_after_trial") and completed is not None:
        day = trial_end(completed, trial_months)
        if timing == "day_after_trial":
            day += timedelta(days=1)
        if day >= requested:
            return day
        timing = "same_day"
    if timing == "unknown":
        return None
    if timing == "same_day":
        return requested
    if timing == "same_month":
        return draw(_day_between(requested, last_of(requested.year, requested.month)))
    if timing == "next_month":
        year, month = shift_month(requested.year, requested.month, 1)
        return draw(_day_between(first_of(year, month), last_of(year, month)))
    return requested + timedelta(days=draw(st.integers(32, 500)))


# -- enrolments and billing months ------------------------------------------------------


def package_codes() -> st.SearchStrategy[str]:
    """The iTV packages the shipped policy knows (the 全能包 included)."""
    return st.sampled_from(sorted(shipped_policy().packages))


@st.composite
def enrollments(draw: st.DrawFn) -> itvrules.Enrollment:
    """A valid enrolment (SPEC §9): returned, not yet installed, or completed and maybe cancelled."""
    trial_months = int(shipped_policy().parameters["trial_months"])
    kind = draw(st.sampled_from(("completed", "completed", "completed", "edge_completion",
                                 "pending", "returned")))
    extras = {
        "channel": draw(st.one_of(st.none(), st.sampled_from(CHANNELS))),
        "contact_phone": draw(st.one_of(st.none(), st.integers(13_000_000_000, 19_999_999_999).map(str))),
        "prior_modem": draw(st.one_of(st.none(), st.sampled_from(itvrules.PriorModem))),
    }
    account_id = draw(account_ids())
    product = draw(st.sampled_from(itvrules.Product))
    switched_to = draw(st.one_of(st.none(), package_codes()))
    if kind == "returned":
        return itvrules.Enrollment(
            account_id=account_id, product=product, accepted_on=draw(accepted_dates()),
            returned=True, return_reason=draw(st.sampled_from(RETURN_REASONS)),
            switched_to=switched_to, **extras)
    completed: date | None
    if kind == "edge_completion":
        completed = draw(completion_dates())
        accepted = completed - timedelta(days=draw(_lags()))
    else:
        accepted = draw(accepted_dates())
        completed = None if kind == "pending" else accepted + timedelta(days=draw(_lags()))
    requested = _request_day(draw, accepted, completed, trial_months)
    effective = None if requested is None else _effective_day(draw, requested, completed, trial_months)
    if effective is not None and draw(st.integers(0, 4)) == 0:
        requested = None  # an effective date with no request (taken as requested then, §5)
    return itvrules.Enrollment(
        account_id=account_id, product=product, accepted_on=accepted, completed_on=completed,
        cancel_requested_on=requested, cancel_effective_on=effective, switched_to=switched_to,
        **extras)


def billing_months(anchor: date, before: int = 2, after: int = 8) -> st.SearchStrategy[str]:
    """A ``"YYYY-MM"`` from ``before`` months before the month of ``anchor`` to ``after`` after."""
    return st.integers(-before, after).map(lambda k: month_after(anchor, k))


def anchor_of(enrollment: itvrules.Enrollment) -> date:
    """The day billing months are drawn around: the completion, else the acceptance."""
    return enrollment.completed_on or enrollment.accepted_on


def enrollment_months() -> st.SearchStrategy[tuple[itvrules.Enrollment, str]]:
    """An enrolment and a billing month around its completion month (-2 .. +8)."""
    return enrollments().flatmap(
        lambda enr: st.tuples(st.just(enr), billing_months(anchor_of(enr))))
