"""The docs teach the public API only: no private module (``itvrules._x``, ``itvrules.runs._x``)
is named in README.md or any page of docs/.
"""

from __future__ import annotations

import re

import pytest

from paths import ROOT

CHECKED = ("README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")))
PRIVATE = re.compile(r"\bitvrules(?:\.[a-z]\w*)*\._(?!_)\w+")


@pytest.mark.parametrize("name", CHECKED)
def test_the_docs_name_no_private_module(name: str) -> None:
    found = [f"{name} line {number}: {match.group(0)}"
             for number, line in enumerate((ROOT / name).read_text(encoding="utf-8").splitlines(), 1)
             for match in PRIVATE.finditer(line)]
    assert not found, "docs that teach private modules:\n" + "\n".join(found)


def test_the_check_would_see_a_private_import() -> None:
    assert PRIVATE.search("from itvrules.runs._pipeline import run_bill")
    assert PRIVATE.search("itvrules._pipeline.run_bill")
    assert not PRIVATE.search("from itvrules import run_bill; itvrules.hookspecs; itvrules_adapters")
    assert not PRIVATE.search("itvrules.__all__, itvrules.schema.ENROLLMENT_POLARS")
