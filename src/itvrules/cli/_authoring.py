"""``itvrules policy lint|diff|test|chart``: what a policy author runs before a version ships."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._common import (
    FAILED,
    OK,
    UsageError,
    add_column_option,
    columns_of,
    command_parser,
    debug_option,
    encoding_arg,
    month_arg,
    note,
    on_option,
)
from ._warnings import strict_option, strict_status

LINT_EPILOG = """\
examples:
  itvrules policy lint                           # the shipped policy
  itvrules policy lint my-policy.yaml --verbose  # with the overlaps first-match tables resolve
  itvrules policy lint rulesets/ --on 2026-01-01 # the version in force that day
  itvrules policy lint my-policy.yaml --strict   # status 1 on a warning (a placeholder tariff)
"""
DIFF_EPILOG = """\
examples:
  itvrules policy diff old.yaml new.yaml
  itvrules policy diff old.yaml new.yaml --feed crm-feed.csv --month 2025-08   # and the bills it moves
"""
TEST_EPILOG = """\
examples:
  itvrules policy test                           # the shipped policy against its own cases
  itvrules policy test my-policy.yaml --cases my-policy.cases.yaml
  itvrules policy test --engine durable
"""
CHART_EPILOG = """\
examples:
  itvrules policy chart                          # Mermaid stateDiagram-v2 on stdout
  itvrules policy chart my-policy.yaml > lifecycle.mmd
"""
STATUS = {
    "lint": "\nexit status: 0 no error (warnings and infos do not fail); 1 an error or an invalid policy,"
            "\nor with --strict a warning.",
    "diff": "\nexit status: 0 compared (whatever the differences); 1 an invalid policy or feed; 2 usage.",
    "test": "\nexit status: 0 every case passed; 1 a case failed, or an invalid policy or case file.",
    "chart": "\nexit status: 0 drawn; 1 an invalid policy.",
}
SEVERITIES = ("error", "warning", "info")

if TYPE_CHECKING:
    from ..authoring._lint import Finding


def add_parsers(actions: Any) -> None:
    """The authoring subcommands of ``itvrules policy``."""
    from ..policy._policy import ENGINES

    lint = command_parser(
        actions, "lint", help="check every table for gaps, shadowed rules and odd parameters",
        description="Check the policy's decision tables over every class of input: inputs no "
                    "rule decides (gaps), rules that can never decide (shadowed), rules that "
                    "overlap (information: first match resolves them), and parameters out of a "
                    "sane range. Every finding comes with a witness input. Every value the "
                    "policy's assumptions mark as an assumption or a placeholder is a warning "
                    "at its line.",
        epilog=LINT_EPILOG + STATUS["lint"], parents=[on_option(), strict_option(), debug_option()])
    lint.add_argument("file", metavar="POLICY", nargs="?", type=Path,
                      help="policy file or folder of versions (default: the shipped policy)")
    lint.set_defaults(handler=run_lint)

    diff = command_parser(
        actions, "diff", help="what changed between two versions, and what it does to bills",
        description="Compare two versions of one policy: campaign window, parameters, catalogue, "
                    "packages, lifecycle states and every rule added, removed, changed or moved. "
                    "With --feed and --month, bill the feed under both and count what changes.",
        epilog=DIFF_EPILOG + STATUS["diff"], parents=[debug_option()])
    diff.add_argument("old", metavar="OLD", type=Path, help="the version in force now")
    diff.add_argument("new", metavar="NEW", type=Path, help="the version to compare with it")
    diff.add_argument("--feed", metavar="FILE", help="a CRM feed to bill under both versions")
    diff.add_argument("--month", metavar="YYYY-MM", type=month_arg, help="the month to bill")
    diff.add_argument("--encoding", type=encoding_arg, metavar="E",
                      help="encoding of a CSV feed (default: detected)")
    add_column_option(diff)
    diff.set_defaults(handler=run_diff)

    test = command_parser(
        actions, "test", help="run the policy's rule-test cases and report rule coverage",
        description="Run the rule-test cases of a policy (default: the cases file beside it, "
                    "<name>.cases.yaml; with only --cases, the policy that file names) and print "
                    "every failure with its differences and why, then which rules no case "
                    "reaches.",
        epilog=TEST_EPILOG + STATUS["test"], parents=[on_option(), debug_option()])
    test.add_argument("file", metavar="POLICY", nargs="?", type=Path,
                      help="policy file or folder of versions (default: the shipped policy)")
    test.add_argument("--cases", metavar="FILE", type=Path, help="the cases file (*.cases.yaml)")
    test.add_argument("--engine", choices=ENGINES, default=None,
                      help="engine that decides the cases (default: the policy's)")
    test.add_argument("--full-coverage", action="store_true",
                      help="also fail when a rule is reached by no case")
    test.set_defaults(handler=run_test)

    chart = command_parser(
        actions, "chart", help="the lifecycle statechart (Mermaid)",
        description="Print the policy's lifecycle table as a Mermaid stateDiagram-v2: states with "
                    "their notice clauses, and every transition with its event, guard and rule id.",
        epilog=CHART_EPILOG + STATUS["chart"], parents=[on_option(), debug_option()])
    chart.add_argument("file", metavar="POLICY", nargs="?", type=Path,
                       help="policy file or folder of versions (default: the shipped policy)")
    chart.set_defaults(handler=run_chart)


def run_lint(args: argparse.Namespace) -> int:
    from ..authoring._lint import lint
    from ..policy._policy import load_policy

    policy = load_policy(args.file, on=args.on)
    findings = lint(policy.document)
    counts = Counter(f.severity for f in findings)
    shown = [f for f in findings if args.verbose or f.severity != "info"]  # -v: the infos too
    order = {s: i for i, s in enumerate(SEVERITIES)}
    for finding in sorted(shown, key=lambda f: order.get(f.severity, len(order))):
        print(finding_text(policy.source, finding))
    hidden = "" if args.verbose or not counts["info"] else " (--verbose shows the infos)"
    print(f"{policy.source}: {counts['error']} error(s), {counts['warning']} warning(s), "
          f"{counts['info']} info(s){hidden}")
    return strict_status(args, counts["warning"], FAILED if counts["error"] else OK)


def finding_text(source: str, finding: Finding) -> str:
    """``file:line: severity [kind] table rule: message``, then the witness, as compilers print."""
    where = f"{source}:{finding.line}" if finding.line else source
    rule = f" {finding.rule}" if finding.rule else ""
    text = f"{where}: {finding.severity} [{finding.kind}] {finding.table}{rule}: {finding.message}"
    if finding.witness:
        text += "\n    witness: " + finding.witness_text()
    return text


def run_diff(args: argparse.Namespace) -> int:
    from ..authoring._diff import diff_impact, diff_policies
    from ..policy._policy import load_policy

    if (args.feed is None) != (args.month is None):
        raise UsageError("--feed and --month go together: the impact is a feed billed for a month")
    old, new = load_policy(args.old), load_policy(args.new)
    diff = diff_policies(old, new)
    if args.feed is not None:
        from ._records import FeedRecords

        with FeedRecords(old, [args.feed], encoding=args.encoding,
                         columns=columns_of(args)) as records:
            enrollments = [record for _raw, record in records.records()]
            if records.rejected:
                note(f"{args.feed}: {records.rejected} row(s) cannot be read and are left out "
                     "(itvrules bill lists them)")
        import attrs

        diff = attrs.evolve(diff, impact=diff_impact(old, new, enrollments, args.month))
    print(diff.render())
    return OK


def run_test(args: argparse.Namespace) -> int:
    from ..authoring._casefile import CASE_SUFFIXES, load_cases, policy_path_for
    from ..authoring._rule_tests import run_cases
    from ..policy._policy import load_policy

    path = args.file
    if path is None and args.cases is not None:
        path = policy_path_for(args.cases)
    policy = load_policy(path, on=args.on)
    cases_path = args.cases
    if cases_path is None:
        source = Path(policy.source)
        stem = source.name[: -len(source.suffix)] if source.suffix else source.name
        cases_path = source.with_name(stem + CASE_SUFFIXES[0])
        if not cases_path.is_file():
            raise UsageError(f"no cases file beside {source} ({cases_path.name}); name one with "
                             "--cases FILE")
    report = run_cases(policy, load_cases(cases_path, policy), args.engine,
                       require_full_coverage=args.full_coverage)
    print(f"cases: {cases_path}")
    print(report.render())
    return OK if report.ok else FAILED


def run_chart(args: argparse.Namespace) -> int:
    from ..lifecycle import statechart_mermaid
    from ..policy._policy import load_policy

    print(statechart_mermaid(load_policy(args.file, on=args.on)), end="")
    return OK
