"""The docs teach the public API only: no ``itvrules._private`` module is named in them.

Covered now: docs/adapters.md and README.md. Still to be cleaned by their
owners, then added to ``CHECKED``: docs/api.md, docs/scale.md and
docs/performance.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("docs/adapters.md", "README.md")
PRIVATE = re.compile(r"\bitvrules\._\w*")


@pytest.mark.parametrize("name", CHECKED)
def test_the_docs_name_no_private_module(name: str) -> None:
    found = [f"{name} line {number}: {match.group(0)}"
             for number, line in enumerate((ROOT / name).read_text(encoding="utf-8").splitlines(), 1)
             for match in PRIVATE.finditer(line)]
    assert not found, "docs that teach private modules:\n" + "\n".join(found)


def test_the_check_would_see_a_private_import() -> None:
    assert PRIVATE.search("from itvrules._pipeline import run_bill")
    assert not PRIVATE.search("from itvrules import run_bill; itvrules.hookspecs; itvrules_adapters")
