"""A font that draws Chinese in the charts, found on the machine rendering them.

matplotlib's default font (DejaVu Sans) has no Chinese glyphs: a Chinese
label would come out as empty boxes. The charts use the first font that
covers every Chinese character they print: a known CJK family matplotlib
already indexed (Microsoft YaHei on Windows, PingFang on macOS, Noto Sans
CJK or WenQuanYi on Linux), else any system font file that covers them
(matplotlib's font cache may predate a font installed later, and does not
index .ttc collections everywhere). Without one, the charts are labelled in
English only, and the page around them still reads Chinese (the browser
draws that text with its own fonts).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

#: Families tried first, in order: the common CJK fonts of Windows, macOS and Linux.
PREFERRED = (
    "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Heiti SC", "Droid Sans Fallback",
)
#: Characters a font must have to be taken: a sample of the charts' Chinese labels.
SAMPLE = "体验率周受理竣工装机转正缴费注销减免金额元暂无数据目标"
#: The font for Latin text and digits, and the fallback for what the CJK font lacks.
LATIN = "DejaVu Sans"


def _covers(path: str, text: str) -> bool:
    try:
        charmap = FT2Font(path).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(ch) in charmap for ch in text)


@functools.cache
def cjk_font() -> str | None:
    """The family name of a font that draws the charts' Chinese, or None when the machine has none."""
    indexed = {entry.name: entry.fname for entry in font_manager.fontManager.ttflist}
    for family in PREFERRED:
        path = indexed.get(family)
        if path is not None and _covers(path, SAMPLE):
            return family
    # "ttc" lists .ttf, .otf and .ttc files alike; the stubs know only "ttf" and "afm"
    for path in sorted(font_manager.findSystemFonts(fontext="ttc")):  # type: ignore[arg-type]
        if _covers(path, SAMPLE):
            font_manager.fontManager.addfont(path)
            return str(font_manager.FontProperties(fname=path).get_name())
    return None


@functools.cache
def _font_path(family: str) -> str:
    return str(font_manager.findfont(font_manager.FontProperties(family=family),
                                     fallback_to_default=False))


def families() -> list[str]:
    """The font list charts draw with: Latin first, then the CJK font for what Latin lacks."""
    found = cjk_font()
    return [LATIN, found] if found is not None else [LATIN]


def missing_glyphs(texts: Iterable[str]) -> set[str]:
    """The characters of ``texts`` that no chart font can draw (they would show as boxes)."""
    maps = [FT2Font(_font_path(family)).get_charmap() for family in families()]
    return {ch for text in texts for ch in text
            if not ch.isspace() and not any(ord(ch) in charmap for charmap in maps)}


def label(chinese: str, english: str) -> str:
    """``chinese english`` when a font draws Chinese, else ``english`` alone (never boxes)."""
    return f"{chinese} {english}" if cjk_font() is not None else english
