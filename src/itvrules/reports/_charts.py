"""The KPI trend charts as PNG bytes, drawn by matplotlib's Agg renderer.

Figures are built with the object API and rendered by ``FigureCanvasAgg``
directly: no pyplot, so no display is needed, no global backend is switched
under the caller's feet and nothing is kept between calls. Labels are plain
text (math parsing off, so a ``$`` in a name is just a dollar), drawn with a
font that has Chinese glyphs when the machine has one (``_fonts``), and the
PNG carries no software/version stamp, so the same report draws the same
bytes. Amounts become floats only here, to place bars; the figures printed
beside them are the exact Decimals.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from ._fonts import families

_DPI = 96
_SIZE = (6.4, 2.8)
#: Beyond this many weeks, only every n-th week is labelled so the labels do not overlap.
_MAX_TICKS = 14
COLOURS = ("#3a6ea5", "#e39b3a", "#5b9a68", "#b0413e")
TARGET = "#222222"


@contextmanager
def _quiet_font_lookup() -> Iterator[None]:
    """matplotlib logs a warning when a CJK font comes only in weight 500; the font is right."""
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def _figure() -> Iterator[Figure]:
    with _quiet_font_lookup(), rc_context({
            "text.parse_math": False, "font.size": 9, "font.family": families(),
            "axes.spines.top": False, "axes.spines.right": False}):
        fig = Figure(figsize=_SIZE, dpi=_DPI, layout="constrained")
        FigureCanvasAgg(fig)
        yield fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def _week_ticks(ax: object, weeks: Sequence[str]) -> None:
    """Label weeks ``W13`` (every n-th when there are many), the year left to the caption."""
    step = max(1, -(-len(weeks) // _MAX_TICKS))
    positions = list(range(0, len(weeks), step))
    ax.set_xticks(positions, [weeks[i].split("-")[-1] for i in positions])  # type: ignore[attr-defined]


def _legend_above(ax: object, columns: int) -> None:
    """The legend in a row above the plot, where it can never hide a bar or a point."""
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=columns,  # type: ignore[attr-defined]
              frameon=False, borderaxespad=0.2)


def weekly_bars(weeks: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], ylabel: str) -> bytes:
    """Counts per Monday–Sunday week, one bar per series side by side."""
    with _figure() as fig:
        ax = fig.add_subplot()
        width = 0.8 / len(series)
        for n, (name, values) in enumerate(series):
            offset = (n - (len(series) - 1) / 2) * width
            ax.bar([i + offset for i in range(len(weeks))], values, width=width,
                   color=COLOURS[n % len(COLOURS)], label=name)
        _week_ticks(ax, weeks)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        _legend_above(ax, len(series))
        return _png(fig)


def weekly_rate(weeks: Sequence[str], rates: Sequence[Decimal | None], target: Decimal,
                name: str, target_name: str) -> bytes:
    """A rate per week as a line with points (weeks without a rate left out), and the target."""
    with _figure() as fig:
        ax = fig.add_subplot()
        points = [(i, float(r * 100)) for i, r in enumerate(rates) if r is not None]
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", color=COLOURS[0],
                label=name)
        ax.axhline(float(target * 100), color=TARGET, linestyle="--", linewidth=1, label=target_name)
        ax.set_xlim(-0.5, len(weeks) - 0.5)
        ax.set_ylim(0, 105)
        ax.yaxis.set_major_formatter(PercentFormatter())
        _week_ticks(ax, weeks)
        _legend_above(ax, 2)
        return _png(fig)


def monthly_amounts(months: Sequence[str], amounts: Sequence[Decimal], ylabel: str) -> bytes:
    """An amount in CNY per billing month, each bar labelled with its exact value."""
    with _figure() as fig:
        ax = fig.add_subplot()
        bars = ax.bar(list(months), [float(a) for a in amounts], color=COLOURS[0], width=0.6)
        ax.bar_label(bars, labels=[f"{a:.2f}" for a in amounts])
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, max([float(a) for a in amounts] + [1.0]) * 1.2)
        return _png(fig)
