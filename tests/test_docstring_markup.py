"""Docstrings are Markdown for the API reference: a Sphinx role such as :class:`X` would show raw."""

from __future__ import annotations

import re

from paths import ROOT

ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|data|exc|mod|obj|const):`")


def test_no_sphinx_role_in_the_shipped_sources() -> None:
    found = [f"{path.relative_to(ROOT)}:{number}"
             for folder in ("src", "adapters") for path in sorted((ROOT / folder).rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if ROLE.search(line)]
    assert found == [], "write ``Name`` instead of a Sphinx role: " + ", ".join(found)
