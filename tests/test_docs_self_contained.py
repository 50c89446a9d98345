"""What ships speaks for itself: no doc, docstring, help text or policy comment sends a
reader to a paper that does not ship with the project (a spec or a conventions file).
The notice's own sections (§一 to §四(六)) are the source and stay.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paths import ROOT

#: Where a reader meets the project's words: the docs, the site's configuration,
#: the code (docstrings, help texts, messages), the policy files, examples and benchmarks.
SHIPPED_DIRS = ("docs", "src", "adapters", "rulesets", "examples", "benchmarks")
SHIPPED_FILES = ("README.md", "CHANGELOG.md", "mkdocs.yml", "pyproject.toml", "Makefile")
SUFFIXES = {".md", ".py", ".yaml", ".yml", ".json", ".toml", ".txt", ".csv"}
UNSHIPPED = re.compile(r"SPEC\.md|\bSPEC'?s?\s*§|\bCONVENTIONS\b")


def shipped_files() -> list[Path]:
    files = [ROOT / name for name in SHIPPED_FILES]
    for folder in SHIPPED_DIRS:
        files += sorted(p for p in (ROOT / folder).rglob("*")
                        if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts)
    return files


def citations(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return [f"{path.relative_to(ROOT)} line {number}: {match.group(0)}"
            for number, line in enumerate(text.splitlines(), 1)
            for match in UNSHIPPED.finditer(line)]


def test_no_shipped_file_cites_a_paper_that_does_not_ship() -> None:
    found = [hit for path in shipped_files() for hit in citations(path)]
    assert not found, "citations of papers that do not ship:\n" + "\n".join(found)


def test_the_scan_covers_docs_code_and_policies() -> None:
    names = {str(p.relative_to(ROOT)) for p in shipped_files()}
    assert {"docs/index.md", "rulesets/feed.contract.yaml", "src/itvrules/__init__.py"} <= names


@pytest.mark.parametrize("line", [
    "see SPEC.md", "the rules of SPEC §9", "(SPEC §11)", "SPEC's §3 table", "CONVENTIONS \"Identity\"",
])
def test_the_check_sees_a_citation(line: str) -> None:
    assert UNSHIPPED.search(line)


@pytest.mark.parametrize("line", ["§四(五)2", "_CSV_SPECIAL", "feed contract: account ids", "conventions"])
def test_the_check_leaves_the_notice_and_plain_words_alone(line: str) -> None:
    assert not UNSHIPPED.search(line)
