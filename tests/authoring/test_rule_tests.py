"""Rule tests in YAML beside the policy: loading, running, coverage, and the pytest plugin."""

from __future__ import annotations

import importlib.metadata
import textwrap
from pathlib import Path

import pytest

import itvrules
from itvrules.authoring._casefile import policy_path_for
from itvrules.authoring._rule_tests import uncovered_text
from paths import ROOT

pytest_plugins = ["pytester"]

SHIPPED_POLICY = ROOT / "rulesets" / "itv-trial.yaml"
SHIPPED_CASES = ROOT / "rulesets" / "itv-trial.cases.yaml"
POLICY = itvrules.load_policy(SHIPPED_POLICY)
ENGINES = ("compiled", "durable")
TABLES = ("eligibility", "fees", "lifecycle", "terminals")


def write(folder: Path, text: str, name: str = "itv-trial.cases.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[itvrules.PolicyProblem]:
    with pytest.raises(itvrules.PolicyError) as err:
        itvrules.load_cases(path, POLICY)
    assert err.value.problems, str(err.value)
    return list(err.value.problems)


# -- the shipped cases ---------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_shipped_cases_pass_and_reach_every_rule_of_every_table(engine: str) -> None:
    cases = itvrules.load_cases(SHIPPED_CASES, POLICY)
    report = itvrules.run_cases(POLICY, cases, engine, require_full_coverage=True)
    assert [r.describe() for r in report.failures] == []
    assert report.engine == engine
    for table in TABLES:
        assert report.uncovered[table] == (), table
        assert report.covered[table] == tuple(rule.id for rule in POLICY.rules(table))
    assert report.ok
    assert {case.table for case in cases} == set(TABLES)


def test_shipped_case_names_are_unique_and_say_what_they_show() -> None:
    names = [case.name for case in itvrules.load_cases(SHIPPED_CASES, POLICY)]
    assert len(names) == len(set(names))
    assert all(len(name.split("-")) >= 3 for name in names), names


def test_shipped_case_file_is_not_a_policy_version() -> None:
    # the folder of the shipped policy holds its cases; loading the folder still finds one policy
    assert itvrules.load_policy(SHIPPED_POLICY.parent).id == "itv-trial"


# -- every kind of problem, with file, line and field ------------------------------------------
GOOD_FEE_CASE = """\
  - name: default-paid-in-july
    table: fees
    enrollment: {account_id: "079360318823", product: brand, accepted_on: 2025-04-03,
                 completed_on: 2025-04-07}
    month: 2025-07
    expect: {code: default_paid, amount: "35.00"}
"""

#: (id, case file text, line, field, words the message must contain)
PROBLEMS = [
    ("malformed-yaml", """
        policy: itv-trial
        cases:
          - name: broken
            table: fees
            expect: {code: trial]
            month: 2025-07
        """, 5, "(syntax)", "expected ',' or '}', but got ']'"),
    ("unknown-table", """
        policy: itv-trial
        cases:
          - name: fee-table-misspelt
            table: fee
            enrollment: {account_id: "1", product: brand, accepted_on: 2025-04-03}
            month: 2025-07
            expect: {code: default_paid}
        """, 4, "cases[0].table", "unknown table 'fee'"),
    ("missing-input", """
        policy: itv-trial
        cases:
          - name: no-acceptance-day
            table: eligibility
            subscriber: {account_id: "079360125841", plan: e8-68, product: brand}
            expect: {eligible: true}
        """, 3, "cases[0]", "missing input 'accepted_on'"),
    ("input-of-another-table", """
        policy: itv-trial
        cases:
          - name: month-on-an-eligibility-case
            table: eligibility
            subscriber: {account_id: "079360125841", plan: e8-68, product: brand}
            accepted_on: 2025-04-01
            month: 2025-04
            expect: {eligible: true}
        """, 7, "cases[0].month", "not an input of an eligibility case"),
    ("unknown-expect-field", """
        policy: itv-trial
        cases:
          - name: misspelt-field
            table: eligibility
            subscriber: {account_id: "079360125841", plan: e8-68, product: brand}
            accepted_on: 2025-04-01
            expect:
              eligble: true
        """, 8, "cases[0].expect.eligble", "did you mean 'eligible'"),
    ("rule-that-does-not-exist", """
        policy: itv-trial
        cases:
          - name: rule-renamed-since
            table: fees
            enrollment: {account_id: "1", product: brand, accepted_on: 2025-04-03}
            month: 2025-07
            expect:
              code: not_started
              rule: fee.not_begun
        """, 9, "cases[0].expect.rule", "a case for a rule that does not exist: 'fee.not_begun'"),
    ("rule-of-another-table", """
        policy: itv-trial
        cases:
          - name: lifecycle-rule-on-a-fee
            table: fees
            enrollment: {account_id: "1", product: brand, accepted_on: 2025-04-03}
            month: 2025-07
            expect: {rule: life.install}
        """, 7, "cases[0].expect.rule", "it is a rule of the lifecycle table"),
    ("rule-list-with-a-missing-rule", """
        policy: itv-trial
        cases:
          - name: transition-that-does-not-exist
            table: lifecycle
            events:
              - {kind: accepted, on: 2025-04-01}
            as_of: 2025-04-02
            expect:
              rules: [life.install, life.teleport]
        """, 9, "cases[0].expect.rules", "a case for a rule that does not exist: 'life.teleport'"),
    ("bad-subscriber-boolean", """
        policy: itv-trial
        cases:
          - name: new-install-maybe
            table: eligibility
            subscriber:
              account_id: "079360125841"
              plan: e8-68
              product: brand
              new_install: maybe
            accepted_on: 2025-04-01
            expect: {eligible: true}
        """, 9, "cases[0].subscriber.new_install", "bad input: expected a boolean"),
    ("bad-subscriber-enum", """
        policy: itv-trial
        cases:
          - name: product-unknown
            table: eligibility
            subscriber: {account_id: "079360125841", plan: e8-68, product: prepaid}
            accepted_on: 2025-04-01
            expect: {eligible: true}
        """, 5, "cases[0].subscriber.product", "expected one of: brand, annual, single_monthly"),
    ("completion-before-acceptance", """
        policy: itv-trial
        cases:
          - name: completed-before-accepted
            table: fees
            enrollment:
              account_id: "079360125841"
              product: brand
              accepted_on: 2025-04-03
              completed_on: 2025-03-30
            month: 2025-05
            expect: {code: trial}
        """, 9, "cases[0].enrollment.completed_on", "completion is before acceptance (2025-04-03)"),
    ("month-not-yyyy-mm", """
        policy: itv-trial
        cases:
          - name: month-without-zero
            table: fees
            enrollment: {account_id: "1", product: brand, accepted_on: 2025-04-03}
            month: 2025-7
            expect: {code: not_started}
        """, 6, "cases[0].month", "exactly 'YYYY-MM'"),
    ("unknown-switched-package", """
        policy: itv-trial
        cases:
          - name: switched-to-sports
            table: fees
            enrollment: {account_id: "1", product: brand, accepted_on: 2025-04-03,
                         completed_on: 2025-04-07, switched_to: sports}
            month: 2025-07
            expect: {code: switched}
        """, 6, "cases[0].enrollment.switched_to", "unknown iTV package 'sports'"),
    ("event-date-not-a-date", """
        policy: itv-trial
        cases:
          - name: install-on-february-30
            table: lifecycle
            events:
              - kind: accepted
                on: 2025-02-01
              - kind: installed
                on: 2025-02-30
            as_of: 2025-04-01
            expect: {state: trial}
        """, 9, "cases[0].events[1].on", "not a calendar date"),
    ("event-out-of-order", """
        policy: itv-trial
        cases:
          - name: effective-before-install
            table: lifecycle
            events:
              - {kind: accepted, on: 2025-04-01}
              - {kind: cancel_effective, on: 2025-04-03}
            as_of: 2025-04-10
            expect: {state: closed}
        """, 7, "cases[0].events[1].kind", "event out of order"),
    ("money-as-float", """
        policy: itv-trial
        cases:
          - name: amount-unquoted
            table: fees
            enrollment: {account_id: "1", product: brand, accepted_on: 2025-04-03,
                         completed_on: 2025-04-07}
            month: 2025-07
            expect:
              amount: 35.00
        """, 9, "cases[0].expect.amount", "quoted decimal string"),
    ("case-file-for-another-policy", "policy: itv-trial-2026\ncases:\n" + GOOD_FEE_CASE,
     1, "policy", "a case file for another policy: it tests 'itv-trial-2026'"),
    ("duplicate-case-name", "policy: itv-trial\ncases:\n" + GOOD_FEE_CASE + GOOD_FEE_CASE,
     9, "cases[1].name", "duplicate case name (first on line 3)"),
    ("no-expectation", """
        policy: itv-trial
        cases:
          - name: asserts-nothing
            table: eligibility
            subscriber: {account_id: "079360125841", plan: e8-68, product: brand}
            accepted_on: 2025-04-01
            expect: {}
        """, 7, "cases[0].expect", "missing expect"),
]


@pytest.mark.parametrize(("text", "line", "field", "words"), [p[1:] for p in PROBLEMS],
                         ids=[p[0] for p in PROBLEMS])
def test_problem_names_file_line_and_field(tmp_path: Path, text: str, line: int, field: str,
                                           words: str) -> None:
    path = write(tmp_path, text)
    found = problems_of(path)
    matching = [p for p in found if p.field == field]
    assert matching, [str(p) for p in found]
    problem = matching[0]
    assert problem.source == str(path)
    assert problem.line == line, str(problem)
    assert words in problem.message, str(problem)
    assert f"{path}:{line}: {field}: " in str(problem)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, """
        policy: another-policy
        cases:
          - name: one
            table: fee
          - name: two
            table: eligibility
            subscriber: {account_id: "1", plan: e8-68, product: brand}
            accepted_on: 2025-04-01
            expect: {eligible: yes-please}
          - name: three
            table: fees
            enrollment: {account_id: "1", product: brand, accepted_on: 2025-04-03}
            month: 2025-07
            expect: {rule: fee.nope}
        """)
    with pytest.raises(itvrules.PolicyError) as err:
        itvrules.load_cases(path, POLICY)
    fields = [p.field for p in err.value.problems]
    assert fields == ["policy", "cases[0].table", "cases[1].expect.eligible", "cases[2].expect.rule"]
    assert "4 problem(s) in the case file" in str(err.value)
    assert isinstance(err.value, ValueError)


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(itvrules.PolicyError, match="cannot read the case file"):
        itvrules.load_cases(tmp_path / "nowhere.cases.yaml", POLICY)


# -- running: a readable difference ----------------------------------------------------------
def run_one(tmp_path: Path, text: str, engine: str = "compiled") -> itvrules.CaseResult:
    cases = itvrules.load_cases(write(tmp_path, text), POLICY)
    report = itvrules.run_cases(POLICY, cases, engine)
    assert len(report.results) == 1
    return report.results[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_failing_eligibility_case_shows_expected_got_and_the_explanation(tmp_path: Path,
                                                                        engine: str) -> None:
    result = run_one(tmp_path, """
        policy: itv-trial
        cases:
          - name: e8-68-thought-below-threshold
            table: eligibility
            subscriber: {account_id: "079360517733", plan: e8-68, product: brand}
            accepted_on: 2025-05-06
            expect:
              eligible: false
              reason: plan_below_threshold
              rule: elig.legacy_plan
        """, engine)
    assert not result.passed
    assert result.differences == (
        "eligible: expected false, got true (line 8)",
        "reason: expected plan_below_threshold, got legacy_plan (line 9)",
    )
    text = result.describe()
    assert text.startswith(f"eligibility case 'e8-68-thought-below-threshold' "
                           f"({tmp_path / 'itv-trial.cases.yaml'}:3) on the {engine} engine: failed")
    assert "why:" in text
    assert "=> 9. elig.legacy_plan [§二(二)] decided" in text
    assert result.reached == ("elig.legacy_plan",)


def test_failing_fee_case_shows_money_as_written(tmp_path: Path) -> None:
    result = run_one(tmp_path, """
        policy: itv-trial
        cases:
          - name: third-trial-month-thought-charged
            table: fees
            enrollment: {account_id: "079360125847", product: brand, accepted_on: 2025-03-25,
                         completed_on: 2025-03-31}
            month: 2025-05
            expect: {code: default_paid, amount: "35", waived: "35.00"}
        """)
    assert result.differences == ("code: expected default_paid, got trial (line 8)",
                                  "amount: expected 35.00, got 0.00 (line 8)")
    assert "=> 4. fee.trial [§三] decided" in result.describe()
    assert str(result.got["waived"]) == "35.00"


def test_failing_lifecycle_case_shows_the_replayed_transitions(tmp_path: Path) -> None:
    result = run_one(tmp_path, """
        policy: itv-trial
        cases:
          - name: trial-thought-over-in-may
            table: lifecycle
            account_id: "079360402218"
            events:
              - {kind: accepted, on: 2025-03-25, data: {product: brand, prior_modem: ordinary}}
              - {kind: installed, on: 2025-03-28}
            as_of: 2025-05-31
            expect:
              state: converted_paid
              rules: [life.install, life.convert_paid]
        """)
    assert result.differences == (
        "state: expected converted_paid, got trial (line 11)",
        "rules: expected to appear: life.install, life.convert_paid; missing: life.convert_paid; "
        "got: life.install, life.trial_month (line 12)",
    )
    text = result.describe()
    assert "2025-03-28 installed: accepted -> trial (life.install [§三])" in text
    assert "2025-05-01 month_started: trial -> trial (life.trial_month [§三])" in text


def test_terminals_case_compares_schemes_in_any_order(tmp_path: Path) -> None:
    text = """
        policy: itv-trial
        cases:
          - name: ordinary-modem-swapped
            table: terminals
            events:
              - {kind: accepted, on: 2025-04-01, data: {prior_modem: ordinary}}
              - {kind: installed, on: 2025-04-02}
            as_of: 2025-04-10
            expect: {item_scheme: [leased_e8b, trial_stb], take_back: [ordinary], fitted: %s}
        """
    assert run_one(tmp_path, text % "[e8b, stb]").passed
    failed = run_one(tmp_path, text % "[stb]")
    assert failed.differences == ("fitted: expected [stb], got [stb, e8b] (line 9)",)
    assert "term.install_existing_ordinary [§四(六)4]" in failed.describe()


def test_expected_refusal_passes_and_an_unexpected_success_fails(tmp_path: Path) -> None:
    text = """
        policy: itv-trial
        cases:
          - name: return-needs-a-reason
            table: lifecycle
            events:
              - {kind: accepted, on: 2025-04-14}
              - {kind: returned, on: 2025-04-16%s}
            as_of: 2025-04-20
            expect: {error: out of order}
        """
    refused = run_one(tmp_path, text % "")
    assert refused.passed and "returned on 2025-04-16 is not allowed" in refused.got["error"]
    accepted = run_one(tmp_path, text % ", data: {reason: 无线路}")
    assert not accepted.passed
    assert accepted.differences == ("error: expected a refusal saying 'out of order', but the events "
                                    "replayed to state 'returned'",)


def test_unknown_engine_is_a_value_error(tmp_path: Path) -> None:
    cases = itvrules.load_cases(SHIPPED_CASES, POLICY)
    with pytest.raises(ValueError, match="engine"):
        itvrules.run_cases(POLICY, cases, "drools")


def test_cases_of_one_policy_do_not_run_on_another(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(SHIPPED_POLICY.read_text(encoding="utf-8").replace("id: itv-trial", "id: other"),
                     encoding="utf-8")
    cases = itvrules.load_cases(SHIPPED_CASES, POLICY)
    with pytest.raises(itvrules.PolicyError, match="is for policy 'itv-trial', not 'other'"):
        itvrules.run_cases(itvrules.load_policy(other), cases)


# -- coverage ---------------------------------------------------------------------------------
def test_coverage_names_the_rule_a_removed_case_reached() -> None:
    cases = itvrules.load_cases(SHIPPED_CASES, POLICY)
    full = itvrules.run_cases(POLICY, cases)
    reaching = {r.case.name for r in full.results if "fee.switched" in r.reached}
    assert reaching
    kept = [c for c in cases if c.name not in reaching]
    report = itvrules.run_cases(POLICY, kept)
    assert report.uncovered["fees"] == ("fee.switched",)
    assert "fee.switched" not in report.covered["fees"]
    assert all(report.uncovered[t] == () for t in TABLES if t != "fees")
    assert report.ok  # uncovered rules are listed, not failures ...
    assert not itvrules.run_cases(POLICY, kept, require_full_coverage=True).ok  # ... unless required
    assert "fees: 7/8 rules reached; no case reaches: fee.switched" in report.render()
    assert uncovered_text(report.uncovered) == "fees: fee.switched"


def test_a_lifecycle_case_does_not_count_for_terminal_coverage() -> None:
    cases = [c for c in itvrules.load_cases(SHIPPED_CASES, POLICY) if c.table == "lifecycle"]
    report = itvrules.run_cases(POLICY, cases)
    assert report.uncovered["lifecycle"] == ()
    assert report.uncovered["terminals"] == tuple(r.id for r in POLICY.rules("terminals"))
    assert report.uncovered["eligibility"] == tuple(r.id for r in POLICY.rules("eligibility"))


# -- finding the policy -------------------------------------------------------------------------
def test_policy_is_found_beside_the_case_file_or_by_path(tmp_path: Path) -> None:
    assert policy_path_for(SHIPPED_CASES) == SHIPPED_POLICY
    (tmp_path / "cases").mkdir()
    (tmp_path / "policies").mkdir()
    policy = tmp_path / "policies" / "county.yaml"
    policy.write_text(SHIPPED_POLICY.read_text(encoding="utf-8"), encoding="utf-8")
    by_path = write(tmp_path / "cases", "policy: ../policies/county.yaml\ncases:\n" + GOOD_FEE_CASE,
                    "smoke.cases.yaml")
    assert policy_path_for(by_path) == tmp_path / "cases" / "../policies/county.yaml"
    assert [c.name for c in itvrules.load_cases(by_path, POLICY)] == ["default-paid-in-july"]
    alone = write(tmp_path / "cases", "policy: itv-trial\ncases:\n" + GOOD_FEE_CASE, "alone.cases.yaml")
    with pytest.raises(itvrules.PolicyError, match=r"alone.cases.yaml:1: policy: no policy beside"):
        policy_path_for(alone)


def test_policy_path_naming_another_policy_is_a_problem(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(SHIPPED_POLICY.read_text(encoding="utf-8").replace("id: itv-trial", "id: other"),
                     encoding="utf-8")
    path = write(tmp_path, "policy: other.yaml\ncases:\n" + GOOD_FEE_CASE, "x.cases.yaml")
    [problem] = problems_of(path)
    assert (problem.line, problem.field) == (1, "policy")
    assert "a case file for another policy: other.yaml is policy 'other'" in problem.message


# -- the pytest plugin --------------------------------------------------------------------------
PLUGIN_CASES = """
policy: itv-trial
cases:
  - name: legacy-e9-79
    table: eligibility
    subscriber: {account_id: "079360517731", plan: e9-79, product: brand}
    accepted_on: 2025-05-06
    expect: {eligible: true, segment: legacy_plan, rule: elig.legacy_plan}
  - name: july-thought-free
    table: fees
    enrollment: {account_id: "079360318823", product: brand, accepted_on: 2025-04-03,
                 completed_on: 2025-04-07}
    month: 2025-07
    expect: {code: trial, amount: "0.00"}
"""


@pytest.fixture
def plugin_dir(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project folder with the shipped policy; the plugin loads through its entry point."""
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    (pytester.path / "itv-trial.yaml").write_text(SHIPPED_POLICY.read_text(encoding="utf-8"),
                                                  encoding="utf-8")
    return pytester


def test_plugin_is_registered_as_a_pytest_entry_point() -> None:
    found = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="pytest11")}
    assert found.get("itvrules") == "itvrules.pytest_plugin"


def test_plugin_collects_one_item_per_case_and_runs_them(plugin_dir: pytest.Pytester) -> None:
    write(plugin_dir.path, PLUGIN_CASES)
    result = plugin_dir.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "itv-trial.cases.yaml::legacy-e9-79 PASSED*",
        "itv-trial.cases.yaml::july-thought-free FAILED*",
        "fees case 'july-thought-free' (*itv-trial.cases.yaml:8) on the compiled engine: failed",
        "  code: expected trial, got default_paid (line 13)",
        "  amount: expected 0.00, got 35.00 (line 13)",
        "why:",
        "*=> 8. fee.default_paid ?§四(二)2? decided",  # fnmatch: ? for the brackets
    ])
    line = next(ln for ln in result.outlines if ln.startswith("itvrules: rules no case reaches:"))
    assert "itv-trial.cases.yaml (itv-trial 2025.1): eligibility: elig.outside_campaign" in line
    assert "elig.legacy_plan" not in line and "fee.default_paid" not in line
    assert "terminals: term.install_existing_ordinary" in line


@pytest.mark.durable
def test_plugin_runs_the_chosen_engine(plugin_dir: pytest.Pytester) -> None:
    write(plugin_dir.path, PLUGIN_CASES)
    result = plugin_dir.runpytest("-p", "no:cacheprovider", "--itvrules-engine", "durable")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["fees case 'july-thought-free' * on the durable engine: failed"])


def test_plugin_reports_a_bad_case_file_as_a_collection_error(plugin_dir: pytest.Pytester) -> None:
    write(plugin_dir.path, PLUGIN_CASES.replace("rule: elig.legacy_plan", "rule: elig.legacy"))
    result = plugin_dir.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*itv-trial.cases.yaml:7: cases?0?.expect.rule: case 'legacy-e9-79': a case for a rule "
        "that does not exist: 'elig.legacy' *",
    ])


def test_plugin_finds_the_policy_by_path_and_can_require_full_coverage(
        plugin_dir: pytest.Pytester) -> None:
    (plugin_dir.path / "checks").mkdir()
    passing = PLUGIN_CASES.replace("policy: itv-trial", "policy: ../itv-trial.yaml") \
        .replace("{code: trial, amount: \"0.00\"}", "{code: default_paid, amount: \"35.00\"}")
    write(plugin_dir.path / "checks", passing, "smoke.cases.yaml")
    result = plugin_dir.runpytest("-p", "no:cacheprovider", "checks")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.OK
    full = plugin_dir.runpytest("-p", "no:cacheprovider", "--itvrules-full-coverage", "checks")
    full.assert_outcomes(passed=2)
    assert full.ret == pytest.ExitCode.TESTS_FAILED
    full.stdout.fnmatch_lines(["itvrules: rules no case reaches: checks/smoke.cases.yaml *",
                               "itvrules: --itvrules-full-coverage: every rule needs a case*"])


def test_plugin_runs_the_shipped_cases_with_full_coverage(plugin_dir: pytest.Pytester) -> None:
    (plugin_dir.path / "itv-trial.cases.yaml").write_text(SHIPPED_CASES.read_text(encoding="utf-8"),
                                                          encoding="utf-8")
    result = plugin_dir.runpytest("-p", "no:cacheprovider", "--itvrules-full-coverage")
    cases = len(itvrules.load_cases(SHIPPED_CASES, POLICY))
    result.assert_outcomes(passed=cases)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["itvrules: every rule of itv-trial 2025.1 is reached by a case in "
                                 "itv-trial.cases.yaml"])
