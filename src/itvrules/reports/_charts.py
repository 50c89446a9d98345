"""The KPI charts as PNG bytes, drawn by matplotlib's Agg renderer.

Figures are built with the object API and rendered by ``FigureCanvasAgg``
directly: no pyplot, so no display is needed, no global backend is switched
under the caller's feet and nothing is kept between calls. Labels are plain
text (math parsing off, so a ``$`` in a name is just a dollar) and the PNG
carries no software/version stamp, so the same report draws the same bytes.
Amounts become floats only here, to place bars; the figures printed beside
them are the exact Decimals.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._table import percent

_DPI = 96
_SIZE = (6.4, 3.2)
BAR = "#3a6ea5"
PASS = "#2e7d32"
FAIL = "#c62828"
TARGET = "#222222"


@contextmanager
def _figure() -> Iterator[Figure]:
    with rc_context({"text.parse_math": False, "font.size": 9}):
        fig = Figure(figsize=_SIZE, dpi=_DPI, layout="constrained")
        FigureCanvasAgg(fig)
        yield fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def states_chart(states: Mapping[str, int]) -> bytes:
    """Accounts per lifecycle state, one bar each, in the policy's state order."""
    with _figure() as fig:
        ax = fig.add_subplot()
        names, counts = list(states), list(states.values())
        bars = ax.bar(names, counts, color=BAR)
        ax.bar_label(bars, labels=[str(c) for c in counts])
        ax.set_title("Enrolments by lifecycle state")
        ax.set_ylabel("accounts")
        ax.set_ylim(0, max([*counts, 1]) * 1.2)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(axis="x", labelrotation=20)
        return _png(fig)


def trial_rate_chart(rate: Decimal | None, target: Decimal) -> bytes:
    """The new-install trial rate as one bar against the target line (§二(三))."""
    with _figure() as fig:
        ax = fig.add_subplot()
        value = float(rate * 100) if rate is not None else 0.0
        colour = PASS if rate is not None and rate >= target else FAIL
        ax.barh(["trial rate"], [value], height=0.5, color=colour)
        ax.axvline(float(target * 100), color=TARGET, linestyle="--",
                   label=f"target {percent(target)}")
        shown = percent(rate) if rate is not None else "no eligible new install"
        ax.text(min(value, 100.0) + 1, 0, shown, va="center")
        ax.set_xlim(0, 110)
        ax.set_xlabel("% of eligible new installs enrolled")
        ax.set_title("Trial rate of eligible new installs vs target")
        ax.legend(loc="lower right")
        return _png(fig)


def waivers_chart(waivers: Mapping[str, Decimal], month: str) -> bytes:
    """What the campaign gave away in ``month``, by fee code (trial, late-cancel waiver …)."""
    with _figure() as fig:
        ax = fig.add_subplot()
        codes, amounts = list(waivers), list(waivers.values())
        bars = ax.bar(codes, [float(a) for a in amounts], color=BAR)
        ax.bar_label(bars, labels=[f"{a:.2f}" for a in amounts])
        ax.set_title(f"Waived fees in {month} by kind (CNY)")
        ax.set_ylabel("CNY")
        ax.set_ylim(0, max([float(a) for a in amounts] + [1.0]) * 1.2)
        return _png(fig)
