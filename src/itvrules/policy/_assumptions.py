"""The policy's ``assumptions:``: values the notice leaves open, marked as data.

An entry says which values of the file it covers (``covers``, dotted paths
such as ``packages.basic`` or ``campaign.first_day``) and whether they are an
``assumption`` (a reading of the notice) or a ``placeholder`` (a value the
operator must still supply). ``policy lint`` warns about every covered value,
and a bill run counts the rows it charged from a placeholder tariff, so a
placeholder never reaches a bill unsaid. A plain sentence, the older form, is
an assumption that names no value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._yaml_lines import LinedYaml
from ._yaml_lines import Path as YPath

KINDS = ("assumption", "placeholder")
PRODUCTS = ("brand", "annual", "single_monthly")
_SEGMENT = re.compile(r"([^.\[\]]+)((?:\[\d+\])*)")


@attrs.frozen
class Assumption:
    """One entry of a policy's ``assumptions:``: what is assumed, why, and which values it covers.

    ``kind`` is ``"assumption"`` or ``"placeholder"``; ``covers`` maps each
    covered value's path (``"packages.basic"``) to its line in the file, and
    ``line`` is the entry's own line. An entry written as a plain sentence has
    no ``id`` and covers nothing.
    """

    id: str
    kind: str
    text: str
    clause: str = ""
    covers: Mapping[str, int | None] = attrs.field(factory=dict)
    line: int | None = None

    @property
    def placeholder(self) -> bool:
        """A value the operator must still supply, not a reading of the notice."""
        return self.kind == "placeholder"

    def __str__(self) -> str:
        return self.text


def parse_path(text: str) -> YPath | None:
    """``packages.basic.tariff`` or ``fees[3].then`` as a path of keys and indexes; None if malformed."""
    parts: list[str | int] = []
    for segment in text.split("."):
        match = _SEGMENT.fullmatch(segment)
        if match is None:
            return None
        parts.append(match.group(1))
        parts += [int(index) for index in re.findall(r"\[(\d+)\]", match.group(2))]
    return tuple(parts)


def read_assumptions(raw: Any, lined: LinedYaml, problem: Callable[[YPath, str], None],
                     clean: Callable[[YPath], bool]) -> tuple[Assumption, ...]:
    """The entries of ``assumptions:`` (``raw``), each covered path checked against the file.

    ``problem(path, message)`` reports what is wrong; entries the schema
    refused (``clean`` is False) are skipped, their problem already reported.
    """
    if not isinstance(raw, list):
        return ()
    out: list[Assumption] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        here: YPath = ("assumptions", index)
        if isinstance(entry, str):
            if clean(here):
                out.append(Assumption("", "assumption", entry, line=lined.line(here)))
            continue
        if not isinstance(entry, dict):
            continue  # the schema's problem
        # The id and the paths are checked also in an entry with other problems, so one load
        # reports them all.
        ident = entry.get("id")
        if isinstance(ident, str):
            if ident in seen:
                problem((*here, "id"), f"assumption id {ident} is used twice")
            seen.add(ident)
        covers: dict[str, int | None] = {}
        if clean((*here, "covers")):
            for at, text in enumerate(entry.get("covers", ())):
                path = _covered(text, lined, (*here, "covers", at), problem)
                if path is not None:
                    covers[text] = lined.line(path)
        if clean(here):
            out.append(Assumption(entry["id"], entry["kind"], entry["text"],
                                  entry.get("clause", ""), covers, lined.line(here)))
    return tuple(out)


def _covered(text: str, lined: LinedYaml, where: YPath,
             problem: Callable[[YPath, str], None]) -> YPath | None:
    """The path ``text`` names, when it is a value of the file an entry may cover; else reported."""
    path = parse_path(text)
    if path is None:
        problem(where, f"{text} is not a path: write keys with dots and list items as [n], "
                       "e.g. packages.basic.tariff or fees[3]")
        return None
    if path[0] == "assumptions":
        problem(where, f"{text}: an assumption covers a value of the policy, not another assumption")
        return None
    if path in lined.lines:
        return path
    known = len(path) - 1
    while known and path[:known] not in lined.lines:
        known -= 1
    parent = _text(path[:known]) if known else "the policy"
    children = {p[known] for p in lined.lines if len(p) > known and p[:known] == path[:known]}
    keys = sorted(str(child) for child in children if isinstance(child, str))
    has = f"; {parent} has: {', '.join(keys)}" if keys else \
        f"; {parent} has {len(children)} item(s), [0] to [{len(children) - 1}]" if children else ""
    problem(where, f"{text}: no such value in the policy{has}")
    return None


def _text(path: YPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def placeholder_tariffs(assumptions: tuple[Assumption, ...],
                        packages: Mapping[str, Any]) -> dict[tuple[str, str], Assumption]:
    """Every (package, product) whose tariff a placeholder entry covers, with that entry.

    An entry covers a tariff when it names it, its package's ``tariff``, its
    package or the whole ``packages`` section.
    """
    found: dict[tuple[str, str], Assumption] = {}
    for entry in assumptions:
        if not entry.placeholder:
            continue
        for text in entry.covers:
            path = parse_path(text) or ()
            for code in packages:
                for product in PRODUCTS:
                    full = ("packages", code, "tariff", product)
                    if path == full[: len(path)]:
                        found.setdefault((code, product), entry)
    return found


def placeholders_under(assumptions: tuple[Assumption, ...],
                       sections: tuple[str, ...]) -> list[tuple[str, Assumption]]:
    """(path, entry) for every value in ``sections`` (top-level keys) a placeholder covers."""
    return [(text, entry) for entry in assumptions if entry.placeholder
            for text in entry.covers if text.split(".")[0].split("[")[0] in sections]
