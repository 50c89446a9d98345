"""The durable-rules engine under load: many decisions, threads, gaps, several policies.

durable-rules 2.0.28 has sharp edges the wrapper must hide (its C core keeps at
most 1024 live sessions per ruleset and crashes past that, raises its own
exception when no rule matches, registers rulesets by name for good, is not
thread-safe and drops events whose 32-bit id hash repeats within a session).
Each test here drives one of those edges hard enough that a regression would
show: far more than 1024 decisions, identical facts decided back to back,
gaps interleaved with good decisions, eight threads at once.
"""

from __future__ import annotations

import gc
import json
import os
import random
import resource
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest

if sys.version_info >= (3, 13):
    pytest.skip("durable-rules does not run on Python 3.13 (its extension does not import): "
                "the durable engine is tested on 3.11 and 3.12", allow_module_level=True)

import itvrules
from itvrules.engines import _durable
from itvrules.policy._resources import default_policy_path

CAMPAIGN_FIRST = date(2025, 3, 20)
CAMPAIGN_DAYS = (date(2025, 5, 31) - CAMPAIGN_FIRST).days + 1
PRODUCTS = ("brand", "brand", "brand", "annual", "single_monthly")
PACKAGES = ("basic", "hd")
PLANS = ("e6-49", "e8-58", "e8-68", "e8-88", "e9-79", "e9-129", "e9-139", "e9-169", "E8-68 ",
         "e7-68", "e8", "")


@pytest.fixture(scope="module")
def policy() -> itvrules.Policy:
    return itvrules.load_policy()


def _month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def enrolment_cases(count: int, seed: int, prefix: str = "A") -> list[tuple[itvrules.Enrollment, str]]:
    """``count`` (enrolment, billing month) pairs spread over the campaign and every fee rule.

    Cancellations are requested in each trial month, on the last day of the
    trial, just after it and months later, and take effect at once, a month
    later or never; billing months run from before completion to a year after.
    """
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        accepted = CAMPAIGN_FIRST + timedelta(days=rng.randrange(CAMPAIGN_DAYS))
        product = rng.choice(PRODUCTS)
        kind = rng.random()
        if kind < 0.05:
            enr = itvrules.Enrollment(account_id=f"{prefix}{i:07d}", product=product,
                                      accepted_on=accepted, returned=True, return_reason="线路不具备")
            base = accepted
        elif kind < 0.10:
            enr = itvrules.Enrollment(account_id=f"{prefix}{i:07d}", product=product,
                                      accepted_on=accepted)
            base = accepted
        else:
            completed = accepted + timedelta(days=rng.randrange(11))
            requested = effective = None
            if rng.random() < 0.45:
                requested = _add_months(completed, rng.randrange(6)) + timedelta(days=rng.randrange(31))
                requested = max(requested, accepted)
                lag = rng.choice((0, 0, 5, 31, 62, None))
                effective = None if lag is None else requested + timedelta(days=lag)
            switched = rng.choice(PACKAGES) if rng.random() < 0.15 else None
            enr = itvrules.Enrollment(
                account_id=f"{prefix}{i:07d}", product=product, accepted_on=accepted,
                completed_on=completed, cancel_requested_on=requested,
                cancel_effective_on=effective, switched_to=switched)
            base = completed
        month = base.year * 12 + base.month - 1 + rng.randrange(-2, 12)
        cases.append((enr, _month(month)))
    return cases


def subscriber_cases(count: int, seed: int) -> list[tuple[itvrules.Subscriber, date]]:
    """``count`` (subscriber, acceptance day) pairs reaching every eligibility rule."""
    rng = random.Random(seed)
    return [
        (itvrules.Subscriber(
            account_id=f"S{i:07d}", plan=rng.choice(PLANS), product=rng.choice(PRODUCTS),
            community=rng.choice(("none", "none", "upgrading", "upgraded")),
            new_install=rng.random() < 0.3, has_itv=rng.random() < 0.1,
            line_ready=rng.random() < 0.9),
         CAMPAIGN_FIRST + timedelta(days=rng.randrange(-10, CAMPAIGN_DAYS + 10)))
        for i in range(count)
    ]


def _rss_bytes() -> int:
    """Resident memory now (``/proc``), else the peak so far (``getrusage``)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def _policy_variant(tmp_path: Path, name: str, *edits: tuple[str, str]) -> itvrules.Policy:
    """The shipped policy file with each ``(old, new)`` text edit applied once."""
    text = default_policy_path().read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return itvrules.load_policy(path)


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__]


def _assert_no_durable_type(exc: BaseException) -> None:
    for link in _exception_chain(exc):
        for kind in type(link).__mro__:
            assert not kind.__module__.startswith("durable"), (link, kind)


# -- volume -----------------------------------------------------------------------


@pytest.mark.slow
def test_100k_fee_decisions_match_the_compiled_engine(policy: itvrules.Policy) -> None:
    """Far past the 1024-session limit, with identical facts back to back, nothing is lost."""
    cases = enrolment_cases(95_000, seed=1)
    # 5,000 decisions of one and the same enrolment and month in a row: the
    # same facts and event id each time; every one must come back, none
    # swallowed as a repeat of the one before.
    cases += [cases[0]] * 5_000
    assert len(cases) == 100_000

    durable = [policy.fee(enr, month, engine="durable") for enr, month in cases]
    compiled = [policy.fee(enr, month, engine="compiled") for enr, month in cases]

    assert len(durable) == len(cases)
    assert durable == compiled
    assert [d.account_id for d in durable] == [enr.account_id for enr, _ in cases]
    assert [d.month for d in durable] == [month for _, month in cases]
    assert {d.code for d in durable} == {c.value for c in itvrules.FeeCode}


@pytest.mark.slow
def test_eligibility_past_the_session_limit_matches_the_compiled_engine(
        policy: itvrules.Policy) -> None:
    cases = subscriber_cases(20_000, seed=2)
    durable = [policy.eligibility(sub, accepted_on=day, engine="durable") for sub, day in cases]
    compiled = [policy.eligibility(sub, accepted_on=day, engine="compiled") for sub, day in cases]
    assert durable == compiled
    assert {e.reason for e in durable} == \
        {r.value for r in itvrules.IneligibleReason} | {s.value for s in itvrules.Segment}


@pytest.mark.slow
def test_memory_stays_flat(policy: itvrules.Policy) -> None:
    """100k more decisions after a 10k warm-up grow resident memory by less than 20 MB.

    A session kept per decision would cost the C core tens of kilobytes each
    (and crash at 1024 of them); results are dropped as they come, so any
    growth is the engine's.
    """
    cases = enrolment_cases(5_000, seed=3)
    fee = policy.fee

    def run(count: int) -> int:
        paid = 0
        for i in range(count):
            enr, month = cases[i % len(cases)]
            paid += fee(enr, month, engine="durable").amount > 0
        return paid

    assert run(10_000) > 0
    gc.collect()
    before = _rss_bytes()
    assert run(100_000) > 0
    gc.collect()
    growth = _rss_bytes() - before
    assert growth < 20 * 2**20, f"resident memory grew by {growth / 2**20:.1f} MB"


# -- threads -------------------------------------------------------------------------


@pytest.mark.slow
def test_eight_threads_decide_as_one(policy: itvrules.Policy) -> None:
    """Eight threads at once, each with its own enrolments, give the single-thread answers."""
    batches = [enrolment_cases(2_000, seed=100 + t, prefix=f"T{t}-") for t in range(8)]
    subscribers = subscriber_cases(500, seed=4)
    start = threading.Barrier(len(batches))

    def decide(batch: list[tuple[itvrules.Enrollment, str]],
               barrier: threading.Barrier | None) -> tuple[list[object], list[object]]:
        if barrier is not None:
            barrier.wait()  # all eight threads start deciding at the same moment
        fees: list[object] = []
        ages: list[object] = []
        for i, (enr, month) in enumerate(batch):
            fees.append(policy.fee(enr, month, engine="durable"))
            if i % 4 == 0:  # the eligibility table runs in between, on the same host
                sub, day = subscribers[i // 4 % len(subscribers)]
                ages.append(policy.eligibility(sub, accepted_on=day, engine="durable"))
        return fees, ages

    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(decide, batches, [start] * len(batches)))
    alone = [decide(batch, None) for batch in batches]

    assert threaded == alone
    for batch, (fees, _) in zip(batches, threaded, strict=True):
        assert fees == [policy.fee(enr, month, engine="compiled") for enr, month in batch]


# -- gaps ------------------------------------------------------------------------------


def test_a_fee_gap_is_an_engine_error_and_the_engine_keeps_working(tmp_path: Path) -> None:
    gap = _policy_variant(tmp_path, "gap.yaml", (
        "  - id: fee.default_paid\n"
        "    clause: §四(二)2\n"
        "    text: 体验用户到期,未办理注销手续,则视同愿意继续使用并缴纳 iTV全能包费用\n"
        "    when: {}\n"
        "    then: {code: default_paid, charge: default_package}\n", ""))
    assert [r.id for r in gap.rules("fees")][-1] == "fee.switched"
    paying = itvrules.Enrollment(account_id="A1", product="brand", accepted_on=date(2025, 4, 1),
                                 completed_on=date(2025, 4, 2))

    with pytest.raises(itvrules.EngineError, match="fees") as caught:
        gap.fee(paying, "2025-09", engine="durable")
    _assert_no_durable_type(caught.value)

    # Gaps interleaved with good decisions, more often than the C core has
    # session slots: an unhandled event must neither leak its session nor
    # crash the process when it is cleaned up.
    for round_ in range(1_500):
        with pytest.raises(itvrules.EngineError):
            gap.fee(paying, "2025-09", engine="durable")
        if round_ % 2 == 0:
            with pytest.raises(itvrules.EngineError):
                gap.fee(paying, "2026-01", engine="durable")
        assert gap.fee(paying, "2025-05", engine="durable").code == "trial"
    assert list(gap.fees([paying] * 3, "2025-06", engine="durable")) == \
        [gap.fee(paying, "2025-06", engine="compiled")] * 3


def test_an_eligibility_gap_is_an_engine_error(tmp_path: Path) -> None:
    gap = _policy_variant(tmp_path, "gap.yaml", (
        "    when: {}\n    then: {eligible: false, reason: plan_below_threshold}\n",
        "    when: {community: none, plan_family: e6}\n"
        "    then: {eligible: false, reason: plan_below_threshold}\n"))
    low = itvrules.Subscriber(account_id="S1", plan="e8-58", product="brand")
    legacy = itvrules.Subscriber(account_id="S2", plan="e8-68", product="brand")
    for _ in range(3):
        with pytest.raises(itvrules.EngineError, match="eligibility") as caught:
            gap.eligibility(low, accepted_on=date(2025, 4, 1), engine="durable")
        _assert_no_durable_type(caught.value)
        assert gap.eligibility(legacy, accepted_on=date(2025, 4, 1), engine="durable").eligible


def test_a_core_fault_surfaces_as_an_engine_error(policy: itvrules.Policy,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """What the C core raises past its session limit (MemoryError) is translated."""
    enr = itvrules.Enrollment(account_id="A1", product="brand", accepted_on=date(2025, 4, 1),
                              completed_on=date(2025, 4, 2))
    assert policy.fee(enr, "2025-04", engine="durable").code == "trial"  # rulesets registered

    def out_of_sessions(_handle: int, _message: str) -> tuple[int, int]:
        raise MemoryError

    monkeypatch.setattr(_durable._dre, "assert_event", out_of_sessions)
    with pytest.raises(itvrules.EngineError, match="MemoryError") as caught:
        policy.fee(enr, "2025-05", engine="durable")
    _assert_no_durable_type(caught.value)
    monkeypatch.undo()
    assert policy.fee(enr, "2025-05", engine="durable").code == "trial"


# -- several policies in one process ---------------------------------------------------------


def _registered_names() -> set[str]:
    return set(_durable._host()._ruleset_directory)


def test_policies_with_different_content_get_their_own_rulesets(tmp_path: Path) -> None:
    shipped = itvrules.load_policy()
    dearer = _policy_variant(tmp_path, "dearer.yaml", ('      brand: "35.00"\n', '      brand: "40.00"\n'))
    shorter = _policy_variant(tmp_path, "shorter.yaml", ("  trial_months: 3 ", "  trial_months: 2 "))
    policies = (shipped, dearer, shorter)
    assert len({p.id for p in policies}) == 1
    assert len({p.content_hash for p in policies}) == 3

    enr = itvrules.Enrollment(account_id="A1", product="brand", accepted_on=date(2025, 4, 1),
                              completed_on=date(2025, 4, 10))
    # Interleaved, so a ruleset shared by name would give one policy's answer to another.
    for _ in range(2):
        assert shipped.fee(enr, "2025-06", engine="durable").code == "trial"
        assert shorter.fee(enr, "2025-06", engine="durable").code == "default_paid"
        assert shorter.fee(enr, "2025-06", engine="durable").amount == 35
        assert dearer.fee(enr, "2025-07", engine="durable").amount == 40
        assert shipped.fee(enr, "2025-07", engine="durable").amount == 35
        assert shorter.trial_window(enr.completed_on).months == ("2025-04", "2025-05")

    names = _registered_names()
    for table in ("eligibility", "fees"):
        mine = {p.content_hash: [n for n in names if f".{table}." in n and p.content_hash[:20] in n]
                for p in policies}
        assert all(len(found) == 1 for found in mine.values()), mine
        assert len({found[0] for found in mine.values()}) == 3


def test_the_same_policy_loaded_twice_shares_its_rulesets(tmp_path: Path) -> None:
    enr = itvrules.Enrollment(account_id="A1", product="brand", accepted_on=date(2025, 4, 1),
                              completed_on=date(2025, 4, 10))
    first = itvrules.load_policy()
    assert first.fee(enr, "2025-07", engine="durable").code == "default_paid"
    before = _registered_names()

    copy = tmp_path / "copy.yaml"
    copy.write_text("# the same rules under another name\n"
                    + default_policy_path().read_text(encoding="utf-8"), encoding="utf-8")
    again = [itvrules.load_policy(), itvrules.load_policy(copy), itvrules.load_policy(engine="durable")]
    for policy in again:
        assert policy.content_hash == first.content_hash
        assert policy.fee(enr, "2025-07", engine="durable") == first.fee(enr, "2025-07")
        assert policy.eligibility(itvrules.Subscriber(account_id="S", plan="e9-79", product="brand"),
                                  accepted_on=date(2025, 4, 1), engine="durable").eligible
    assert _registered_names() == before


# -- no durable-rules names outside the engine module ------------------------------------------


def test_the_public_namespace_has_no_durable_type() -> None:
    for name in dir(itvrules):
        value = getattr(itvrules, name)
        module = getattr(value, "__module__", None) or getattr(value, "__name__", "")
        assert not str(module).startswith("durable"), name
        if isinstance(value, type):
            assert all(not k.__module__.startswith("durable") for k in value.__mro__), name


def test_bad_input_through_the_durable_engine_raises_library_errors(policy: itvrules.Policy) -> None:
    enr = itvrules.Enrollment(account_id="A1", product="brand", accepted_on=date(2025, 4, 1),
                              completed_on=date(2025, 4, 2), switched_to="gold")
    with pytest.raises(itvrules.InputError, match="switched_to") as caught:
        policy.fee(enr, "2025-08", engine="durable")
    _assert_no_durable_type(caught.value)
    with pytest.raises(itvrules.InputError, match="month") as caught:
        policy.fee(enr, "2025-8", engine="durable")
    _assert_no_durable_type(caught.value)


def test_durable_is_imported_only_when_its_engine_is_used() -> None:
    script = textwrap.dedent("""
        import json, sys
        from datetime import date
        import itvrules

        def loaded():
            return sorted(m for m in sys.modules if m.split(".")[0].startswith("durable"))

        seen = {"import": loaded()}
        policy = itvrules.load_policy()
        enr = itvrules.Enrollment(account_id="A1", product="brand",
                                  accepted_on=date(2025, 4, 1), completed_on=date(2025, 4, 2))
        sub = itvrules.Subscriber(account_id="S1", plan="e8-68", product="brand")
        policy.fee(enr, "2025-06")
        list(policy.fees([enr], "2025-06"))
        policy.eligibility(sub, accepted_on=date(2025, 4, 1))
        seen["compiled"] = loaded()
        code = policy.fee(enr, "2025-06", engine="durable").code
        seen["durable"] = loaded()
        seen["code"] = code
        print(json.dumps(seen))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["import"] == []
    assert seen["compiled"] == []
    assert "durable" in seen["durable"]
    assert "durable_rules_engine" in seen["durable"]
    assert seen["code"] == "trial"
