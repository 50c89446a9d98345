"""pytest plugin: every case of a ``*.cases.yaml`` file is a test, and coverage is summed up.

Registered through the ``pytest11`` entry point, so ``pytest`` collects case
files found under its test paths: one item per case, named after the case; a
failure shows the case's readable difference. The policy is the file beside
the case file (``<name>.yaml``) or the one its ``policy:`` names as a path.
At the end, one line per case file names the rules no case reaches.

Options: ``--itvrules-engine {compiled,durable}`` picks the engine (default:
the policy's); ``--itvrules-full-coverage`` fails the run when a rule has no
case (a run that deselects cases cannot show coverage, so it fails too).

The library is imported lazily: pytest loads this module in every run of any
project in the environment, and most of them never meet a case file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .authoring._casefile import Case
    from .authoring._rule_tests import CaseResult
    from .policy._policy import Policy

_SUFFIXES = (".cases.yaml", ".cases.yml")


@attrs.define
class _FileRun:
    """One case file's policy, its cases, and the results of those that ran."""

    policy: Policy
    cases: int
    results: list[CaseResult] = attrs.field(factory=list)


_RUNS = pytest.StashKey[dict[Path, _FileRun]]()
_POLICIES = pytest.StashKey[dict[Path, "Policy"]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("itvrules", "itvrules rule tests (*.cases.yaml)")
    group.addoption("--itvrules-engine", choices=("compiled", "durable"), default=None,
                    help="engine that decides the cases (default: the policy's default engine)")
    group.addoption("--itvrules-full-coverage", action="store_true", default=False,
                    help="fail the run when a rule of a policy is reached by no case")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RUNS] = {}
    config.stash[_POLICIES] = {}


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> CaseFile | None:
    if file_path.name.endswith(_SUFFIXES):
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFailed(Exception):
    """A case's decision differs from what it expects."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.describe())
        self.result = result


class CaseFile(pytest.File):
    """A ``*.cases.yaml`` file: loads its policy and cases, yields one item per case."""

    def collect(self) -> Iterator[CaseItem]:
        from ._errors import PolicyError
        from .authoring._casefile import load_cases, policy_path_for

        try:
            policy = self._policy(policy_path_for(self.path))
            cases = load_cases(self.path, policy)
        except PolicyError as exc:
            raise self.CollectError(str(exc)) from None
        run = _FileRun(policy, len(cases))
        self.config.stash[_RUNS][self.path] = run
        for case in cases:
            yield CaseItem.from_parent(self, name=case.name, case=case, run=run)

    def _policy(self, path: Path) -> Policy:
        from .policy._policy import load_policy

        cache = self.config.stash[_POLICIES]
        key = path.resolve()
        if key not in cache:
            cache[key] = load_policy(path)
        return cache[key]


class CaseItem(pytest.Item):
    """One case: runs it and, on failure, shows the difference and the explanation."""

    def __init__(self, *, case: Case, run: _FileRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.file_run = run

    def runtest(self) -> None:
        from .authoring._rule_tests import run_case

        result = run_case(self.file_run.policy, self.case, self.config.getoption("itvrules_engine"))
        self.file_run.results.append(result)
        if not result.passed:
            raise CaseFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str | Any:
        if isinstance(excinfo.value, CaseFailed):
            return excinfo.value.result.describe()
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, self.case.line - 1 if self.case.line else None, \
            f"{self.case.table} case {self.case.name}"


def _coverage_lines(config: pytest.Config) -> list[tuple[str, bool]]:
    """One line per case file that ran: (text, every rule reached with every case run)."""
    from .authoring._rule_tests import coverage, uncovered_text

    lines = []
    root = config.rootpath
    for path, run in config.stash.get(_RUNS, {}).items():
        if not run.results:
            continue
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        _covered, uncovered = coverage(run.policy, run.results)
        missing = uncovered_text(uncovered)
        partial = "" if len(run.results) == run.cases else \
            f" (from {len(run.results)} of {run.cases} cases run)"
        policy = f"{run.policy.id} {run.policy.version}"
        if missing:
            lines.append((f"itvrules: rules no case reaches: {shown} ({policy}){partial}: {missing}",
                          False))
        else:
            lines.append((f"itvrules: every rule of {policy} is reached by a case in "
                          f"{shown}{partial}", not partial))
    return lines


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With ``--itvrules-full-coverage``, a complete case file that misses a rule fails the run."""
    config = session.config
    if config.getoption("itvrules_full_coverage") and exitstatus == pytest.ExitCode.OK and \
            any(not complete for _text, complete in _coverage_lines(config)):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    lines = _coverage_lines(config)
    for text, complete in lines:
        terminalreporter.write_line(text, green=complete, yellow=not complete)
    if config.getoption("itvrules_full_coverage") and any(not complete for _text, complete in lines):
        terminalreporter.write_line("itvrules: --itvrules-full-coverage: every rule needs a case "
                                    "(and every case must run)", red=True)
