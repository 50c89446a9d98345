"""``itvrules explain`` and ``policy lint|diff|test|chart``, and ``--on`` picking a policy version."""

from __future__ import annotations

import io
import json
import sys
from datetime import date
from pathlib import Path

import pytest

import itvrules
from itvrules.cli import main
from itvrules.lifecycle import statechart_mermaid
from itvrules.policy._resources import default_policy_path

SHIPPED_PATH = default_policy_path()
SHIPPED = SHIPPED_PATH.read_text(encoding="utf-8")
CASES = SHIPPED_PATH.with_name("itv-trial.cases.yaml").read_text(encoding="utf-8")
FEED = (
    "宽带账号,套餐,产品类型,小区类型,是否新装,是否已有iTV,线路是否具备,受理日期,竣工日期,是否退单,退单原因,"
    "拆机申请日期,拆机生效日期,转换套餐\n"
    "0001,e8-68,品牌,未提速,否,否,是,2025-04-01,2025-04-03,,,,,\n"
    "0002,e8-58,品牌,未提速,否,否,是,2025-04-02,2025-04-05,,,2025-06-20,,\n"
    "0003,e9-99,包年,已提速,否,否,是,2025-04-02,2025-04-05,,,,,iTV 基础包\n"
    "0004,e8-68,品牌,未提速,否,否,是,2025-04-31,,,,,,\n"
)


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    path = tmp_path / "feed.csv"
    path.write_bytes(FEED.encode("gb18030"))
    return path


def versions(folder: Path) -> Path:
    """Two versions of the shipped policy: 35 CNY until 2025-12-31, 40 CNY from 2026."""
    folder.mkdir(exist_ok=True)
    marker = ("in_force:              # the days this version decides; a later version starts the day "
              "after `until`\n  from: 2025-03-01\n")
    assert SHIPPED.count(marker) == 1
    old = SHIPPED.replace(marker, "in_force: {from: 2025-03-01, until: 2025-12-31}\n")
    new = (SHIPPED.replace(marker, "in_force: {from: 2026-01-01}\n")
           .replace('version: "2025.1"', 'version: "2026.1"')
           .replace('      brand: "35.00"', '      brand: "40.00"'))
    (folder / "a.yaml").write_text(old, encoding="utf-8")
    (folder / "b.yaml").write_text(new, encoding="utf-8")
    return folder


def edited(tmp_path: Path, old: str, new: str, name: str = "edited.yaml") -> Path:
    assert SHIPPED.count(old) == 1, old
    path = tmp_path / name
    path.write_text(SHIPPED.replace(old, new), encoding="utf-8")
    return path


# -- explain ----------------------------------------------------------------------------------


def test_explain_an_accounts_eligibility_from_a_feed(feed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--account", "0002", str(feed)]) == 0
    out = capsys.readouterr().out
    policy = itvrules.load_policy()
    sub = itvrules.Subscriber(account_id="0002", plan="e8-58", product="brand")
    assert out == policy.explain(sub, accepted_on=date(2025, 4, 2)).render() + "\n"
    assert "=> 10. elig.plan_below_threshold" in out


def test_explain_an_accounts_fee_from_a_feed(feed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--account", "0002", str(feed), "--month", "2025-07"]) == 0
    out = capsys.readouterr().out
    policy = itvrules.load_policy()
    enr = itvrules.Enrollment(account_id="0002", product="brand", accepted_on=date(2025, 4, 2),
                              completed_on=date(2025, 4, 5), cancel_requested_on=date(2025, 6, 20))
    assert out == policy.explain(enr, "2025-07").render() + "\n"
    assert "fee.late_cancel_waiver" in out
    assert "decision:\n" in out and "  gross = 35.00\n" in out and "  waived = 35.00\n" in out


def test_explain_reads_a_package_name_as_bill_does(feed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--account", "0003", str(feed), "--month", "2025-08"]) == 0
    out = capsys.readouterr().out
    assert "=> 7. fee.switched" in out and "  package = basic\n" in out


def test_explain_an_unknown_or_unreadable_account_is_status_1(feed: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--account", "9999", str(feed)]) == 1
    assert "account_id: no row of this account in the feed" in capsys.readouterr().err
    assert main(["explain", "--account", "0004", str(feed), "--month", "2025-07"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("itvrules: error: feed.csv, row 5: accepted_on: the row of account 0004")
    assert "not a calendar date" in err


@pytest.mark.durable
def test_explain_json_subjects(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    policy = itvrules.load_policy()
    subscriber = {"account_id": "A1", "plan": "e9-169", "product": "brand", "accepted_on": "2025-04-01"}
    assert main(["explain", "--subscriber", json.dumps(subscriber)]) == 0
    sub = itvrules.Subscriber(account_id="A1", plan="e9-169", product="brand")
    assert capsys.readouterr().out == policy.explain(sub, accepted_on=date(2025, 4, 1)).render() + "\n"
    assert main(["explain", "--subscriber", '{"account_id": "A1", "plan": "e9-169", "product": "brand"}',
                 "--accepted-on", "2025-06-01"]) == 0
    assert "=> 1. elig.outside_campaign" in capsys.readouterr().out
    enrollment = {"account_id": "A1", "product": "brand", "accepted_on": "2025-03-25",
                  "completed_on": "2025-03-31"}
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(enrollment)))
    assert main(["explain", "--enrollment", "-", "--month", "2025-06", "--engine", "durable"]) == 0
    assert "=> 8. fee.default_paid" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["explain"], "one of the arguments --account --subscriber --enrollment is required"),
    (["explain", "--account", "0001"], "--account needs the FEED"),
    (["explain", "--subscriber", '{"account_id": "A1"}', "feed.csv"], "a FEED goes with --account"),
    (["explain", "--enrollment", "{}"], "needs --month YYYY-MM"),
    (["explain", "--subscriber", "{not json"], "--subscriber: not JSON"),
    (["explain", "--subscriber", "[1, 2]"], "expected a JSON object"),
    (["explain", "--subscriber", '{"account_id": "A1", "plan": "e8-68", "product": "brand"}'],
     "needs the acceptance day"),
    (["explain", "--account", "1", "f.csv", "--month", "2025-7"], "is not a billing month"),
])
def test_explain_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_explain_a_bad_json_field_is_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--enrollment", '{"account_id": "A1", "product": "tv", '
                 '"accepted_on": "2025-03-25"}', "--month", "2025-06"]) == 1
    assert "product" in capsys.readouterr().err


# -- policy lint ------------------------------------------------------------------------------


def test_lint_the_shipped_policy(capsys: pytest.CaptureFixture[str]) -> None:
    from itvrules.authoring._lint import lint

    infos = [f for f in lint(itvrules.load_policy().document) if f.severity == "info"]
    assert main(["policy", "lint"]) == 0
    out = capsys.readouterr().out.splitlines()
    # The values the shipped policy's assumptions cover are its only warnings.
    marked = [path for entry in itvrules.load_policy().assumption_entries for path in entry.covers]
    assert [line.split(" warning [")[1].split(":")[0] for line in out[:-1]] == \
        [f"{entry.kind}] {path}" for entry in itvrules.load_policy().assumption_entries
         for path in entry.covers]
    assert out[-1] == (f"{SHIPPED_PATH}: 0 error(s), {len(marked)} warning(s), {len(infos)} info(s) "
                       "(--verbose shows the infos)")
    assert main(["policy", "lint", "--verbose"]) == 0
    out = capsys.readouterr().out
    assert out.count(": info [overlap] ") == len(infos)
    assert f"{SHIPPED_PATH}:{infos[0].line}: info [overlap] {infos[0].table} {infos[0].rule}:" in out
    assert "    witness: " in out


def test_lint_errors_are_status_1_and_come_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = edited(tmp_path, "  contract_start_offset: 3 ", "  contract_start_offset: 2 ")
    text = path.read_text(encoding="utf-8").replace('      brand: "20.00"', '      brand: "0.00"')
    path.write_text(text, encoding="utf-8")
    assert main(["policy", "lint", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{path}: error [parameter] parameters contract_start_offset: ")
    assert "warning [parameter] packages basic.brand" in lines[2]
    marked = sum(len(entry.covers) for entry in itvrules.load_policy(path).assumption_entries)
    assert lines[-1].startswith(f"{path}: 1 error(s), {1 + marked} warning(s)")


def test_lint_an_invalid_policy_is_status_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = edited(tmp_path, "  trial_months: 3", "  trial_months: three")
    assert main(["policy", "lint", str(path)]) == 1
    assert "parameters.trial_months" in capsys.readouterr().err


# -- policy diff ------------------------------------------------------------------------------


def test_diff_two_versions_and_their_impact(feed: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    new = edited(tmp_path, "  waived_months_after_trial: 1", "  waived_months_after_trial: 2")
    new.write_text(new.read_text(encoding="utf-8").replace('version: "2025.1"', 'version: "2025.2"'),
                   encoding="utf-8")
    assert main(["policy", "diff", str(SHIPPED_PATH), str(new)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("policy itv-trial: 2025.1 -> 2025.2\n")
    assert "~ parameter waived_months_after_trial changed: 1 -> 2" in out
    assert "impact on" not in out
    assert main(["policy", "diff", str(SHIPPED_PATH), str(new), "--feed", str(feed),
                 "--month", "2025-08"]) == 0
    captured = capsys.readouterr()
    old_policy, new_policy = itvrules.load_policy(), itvrules.load_policy(new)
    enr = itvrules.Enrollment(account_id="0002", product="brand", accepted_on=date(2025, 4, 2),
                              completed_on=date(2025, 4, 5), cancel_requested_on=date(2025, 6, 20))
    assert (old_policy.fee(enr, "2025-08").code, new_policy.fee(enr, "2025-08").code) == \
        ("cancellation_overdue", "late_cancel_waiver")
    assert "impact on 3 account(s) billed for 2025-08:\n  1 change decision" in captured.out
    assert "0002: cancellation_overdue 35.00 (fee.cancellation_overdue) -> late_cancel_waiver 0.00" \
        in captured.out
    assert "1 row(s) cannot be read and are left out" in captured.err


def test_diff_usage_and_policy_errors(tmp_path: Path, feed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "diff", str(SHIPPED_PATH), str(SHIPPED_PATH), "--feed", str(feed)]) == 2
    assert "--feed and --month go together" in capsys.readouterr().err
    other = edited(tmp_path, "id: itv-trial", "id: other-campaign")
    assert main(["policy", "diff", str(SHIPPED_PATH), str(other)]) == 1
    assert "a diff compares versions of one policy" in capsys.readouterr().err


# -- policy test ------------------------------------------------------------------------------


def test_policy_test_runs_the_cases_beside_the_policy(capsys: pytest.CaptureFixture[str]) -> None:
    policy = itvrules.load_policy()
    cases = itvrules.load_cases(SHIPPED_PATH.with_name("itv-trial.cases.yaml"), policy)
    assert main(["policy", "test"]) == 0
    out = capsys.readouterr().out
    assert f"{len(cases)} case(s), {len(cases)} passed, 0 failed" in out
    assert itvrules.run_cases(policy, cases).render() in out
    assert "fees: 8/8 rules reached" in out


def test_a_failing_case_is_status_1_with_its_difference(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "mine.yaml"
    policy.write_text(SHIPPED, encoding="utf-8")
    line = "    expect: {eligible: true, segment: legacy_plan, rule: elig.legacy_plan}"
    assert CASES.count(line) >= 1
    (tmp_path / "mine.cases.yaml").write_text(
        CASES.replace(line, "    expect: {eligible: true, segment: new_install, rule: elig.legacy_plan}", 1),
        encoding="utf-8")
    assert main(["policy", "test", str(policy)]) == 1
    out = capsys.readouterr().out
    assert f"cases: {tmp_path / 'mine.cases.yaml'}" in out
    assert "1 failed" in out
    assert "segment: expected new_install, got legacy_plan" in out
    # with only --cases, the policy is the one beside the cases file
    assert main(["policy", "test", "--cases", str(tmp_path / "mine.cases.yaml")]) == 1
    assert "1 failed" in capsys.readouterr().out


def test_policy_test_full_coverage_and_missing_cases(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "bare.yaml"
    policy.write_text(SHIPPED, encoding="utf-8")
    assert main(["policy", "test", str(policy)]) == 2
    assert "no cases file beside" in capsys.readouterr().err
    few = tmp_path / "few.cases.yaml"
    head = CASES.split("  - name: accepted-the-day-after-the-campaign-closes")[0]
    few.write_text(head.replace("policy: itv-trial", "policy: bare.yaml"), encoding="utf-8")
    assert main(["policy", "test", str(policy), "--cases", str(few)]) == 0
    assert "eligibility: 1/10 rules reached; no case reaches: elig.no_line" in capsys.readouterr().out
    assert main(["policy", "test", str(policy), "--cases", str(few), "--full-coverage"]) == 1
    assert "full coverage is required" in capsys.readouterr().out


# -- policy chart -----------------------------------------------------------------------------


def test_policy_chart_prints_the_mermaid_statechart(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "chart"]) == 0
    out = capsys.readouterr().out
    assert out == statechart_mermaid(itvrules.load_policy())
    assert out.startswith("stateDiagram-v2\n")


# -- --on -------------------------------------------------------------------------------------


def test_on_picks_the_version_of_a_policy_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = versions(tmp_path / "policy")
    assert main(["policy", "show", str(folder)]) == 1
    assert "say which day to decide for (on=DATE, --on DATE)" in capsys.readouterr().err
    assert main(["policy", "show", str(folder), "--on", "2026-01-01", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == "2026.1"
    assert main(["trial", "2025-03-31", "--policy", str(folder), "--on", "2025-06-01"]) == 0
    assert "itv-trial 2025.1" in capsys.readouterr().out
    for command in (["policy", "lint", str(folder)], ["policy", "chart", str(folder)]):
        assert main([*command, "--on", "2026-02-01"]) == 0
    capsys.readouterr()
    assert main(["policy", "lint", str(folder), "--on", "2025-01-01"]) == 1
    assert "no version of the policy is in force on 2025-01-01" in capsys.readouterr().err


def test_on_reaches_bill_through_the_common_options(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    folder = versions(tmp_path / "policy")
    feed = tmp_path / "bill.csv"
    feed.write_text("account_id,product,accepted_on,completed_on,cancel_requested_on,"
                    "cancel_effective_on\nA1,brand,2025-03-25,2025-03-31,,\n", encoding="utf-8")
    amounts = {}
    for day in ("2025-12-31", "2026-01-01"):
        out = tmp_path / f"bill-{day}.csv"
        assert main(["bill", "2025-07", str(feed), "-o", str(out), "--policy", str(folder),
                     "--on", day]) == 0
        row = out.read_text(encoding="utf-8-sig").splitlines()[1].split(",")
        amounts[day] = row[7]
    assert amounts == {"2025-12-31": "35.00", "2026-01-01": "40.00"}
    assert main(["bill", "2025-07", str(feed), "-o", str(tmp_path / "x.csv"), "--on", "2025-02-30"]) == 2
    assert "'2025-02-30' is not a date" in capsys.readouterr().err


@pytest.mark.parametrize("command", [
    ["explain"], ["ingest"], ["workorders"], ["stock"], ["stock", "show"], ["stock", "receive"],
    ["stock", "allocate"], ["stock", "recover"], ["report"], ["report", "weekly"], ["report", "kpi"],
    ["policy", "lint"], ["policy", "diff"], ["policy", "test"], ["policy", "chart"],
], ids=" ".join)
def test_every_new_command_help_shows_examples_and_statuses(command: list[str],
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    examples = out.split("examples:", 1)[1].strip().splitlines()
    assert examples[0].lstrip().startswith(f"itvrules {' '.join(command[:2])}")
    assert "exit status" in out
