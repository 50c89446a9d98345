"""Plan codes such as ``e8-68``: family, dash, monthly tier in yuan."""

from __future__ import annotations

import re

from ._parse import normalise_text

_CODE = re.compile(r"\A([a-z][a-z0-9]*)-([0-9]{1,5})\Z")
_DASHES = str.maketrans({"–": "-", "—": "-", "－": "-", "‐": "-", "‑": "-"})


def normalise_plan(text: str) -> str:
    """The canonical spelling: NFKC, no surrounding spaces, lower case, ASCII dash."""
    return normalise_text(text.translate(_DASHES)).lower()


def parse_plan(text: str) -> tuple[str, int] | None:
    """``(family, tier)`` of a plan code, or ``None`` when the code is malformed."""
    match = _CODE.match(normalise_plan(text))
    if match is None:
        return None
    return match.group(1), int(match.group(2))
