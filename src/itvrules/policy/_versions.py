"""Pick the version of a policy in force on a day, from a file or a folder of versions.

A folder holds the versions of one policy, each stating the days it is in
force (``in_force: {from, until}``). Together they must tile time: no two
overlap and none leaves a gap before the next, so every day has exactly one
version, or a clear error says why not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import attrs

from .._errors import PolicyError, PolicyProblem
from ._document import PolicyDocument
from ._load import load_document

#: Files in a policy folder that are not policies (rule-test cases, schemas).
_NOT_POLICIES = (".cases.yaml", ".cases.yml", ".contract.yaml", ".contract.yml")


def policy_files(folder: Path) -> list[Path]:
    """The policy files of ``folder``, in name order."""
    return sorted(p for p in folder.iterdir()
                  if p.suffix in (".yaml", ".yml") and not p.name.endswith(_NOT_POLICIES))


def load_versions(folder: Path) -> list[PolicyDocument]:
    """Every version in ``folder``, checked to tile time; sorted by their first day."""
    files = policy_files(folder)
    if not files:
        raise PolicyError(f"{folder}: no policy files (*.yaml) in this folder")
    documents: list[PolicyDocument] = []
    problems: list[PolicyProblem] = []
    for path in files:
        try:
            documents.append(load_document(path))
        except PolicyError as exc:
            problems.extend(exc.problems or (PolicyProblem(str(path), None, "(file)", str(exc)),))
    if problems:
        raise PolicyError(f"{folder}: {len(problems)} problem(s) in its policy files", tuple(problems))
    _check_tiling(folder, documents)
    return sorted(documents, key=lambda d: d.in_force_from or date.min)


def _check_tiling(folder: Path, documents: list[PolicyDocument]) -> None:
    ids = sorted({d.id for d in documents})
    if len(ids) > 1:
        raise PolicyError(f"{folder}: a folder holds the versions of one policy, found ids {ids}")
    if len(documents) == 1:
        return
    problems = [PolicyProblem(d.source, None, "in_force", "a policy with several versions must say "
                              "from when each is in force") for d in documents if d.in_force_from is None]
    if problems:
        raise PolicyError(f"{folder}: versions without in_force", tuple(problems))
    ordered = sorted(documents, key=lambda d: d.in_force_from or date.min)
    for before, after in pairwise(ordered):
        assert after.in_force_from is not None
        if before.in_force_until is None or before.in_force_until >= after.in_force_from:
            problems.append(PolicyProblem(
                after.source, None, "in_force.from",
                f"version {after.version} from {after.in_force_from} overlaps version "
                f"{before.version} ({before.source}, in force "
                f"{before.in_force_from} .. {before.in_force_until or 'open-ended'})"))
        elif before.in_force_until + timedelta(days=1) != after.in_force_from:
            problems.append(PolicyProblem(
                after.source, None, "in_force.from",
                f"no version is in force from {before.in_force_until + timedelta(days=1)} to "
                f"{after.in_force_from - timedelta(days=1)} (between versions {before.version} "
                f"and {after.version})"))
    if problems:
        raise PolicyError(f"{folder}: the versions' in_force ranges overlap or leave gaps",
                          tuple(problems))


def in_force(document: PolicyDocument, on: date) -> bool:
    """Whether ``document`` decides on day ``on``."""
    start, end = document.in_force_from, document.in_force_until
    return (start is None or start <= on) and (end is None or on <= end)


@attrs.frozen
class CampaignWindow:
    """The days a version is in force and the acceptance days of its campaign."""

    in_force_from: date | None
    in_force_until: date | None
    first_day: date
    last_day: date

    def in_force(self, day: date) -> bool:
        start, end = self.in_force_from, self.in_force_until
        return (start is None or start <= day) and (end is None or day <= end)


def pick(path: Path, on: date | None, versions: Sequence[PolicyDocument] = ()) -> PolicyDocument:
    """The version at ``path`` (a file or a folder, whose ``versions`` may be given) in force on ``on``."""
    if path.is_dir():
        versions = list(versions) or load_versions(path)
        if on is None:
            if len(versions) == 1:
                return versions[0]
            listed = ", ".join(f"{d.version} (from {d.in_force_from})" for d in versions)
            raise PolicyError(f"{path}: holds {len(versions)} versions ({listed}); "
                              "say which day to decide for (on=DATE, --on DATE)")
        chosen = [d for d in versions if in_force(d, on)]
        if not chosen:
            raise PolicyError(f"{path}: no version of the policy is in force on {on}")
        return chosen[0]
    document = load_document(path)
    if on is not None and not in_force(document, on):
        raise PolicyError(f"{path}: version {document.version} is in force "
                          f"{document.in_force_from} .. {document.in_force_until or 'open-ended'}, "
                          f"not on {on}")
    return document
