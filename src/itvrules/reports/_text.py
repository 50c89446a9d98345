"""The KPI report as aligned plain text, for a terminal, a mail body or a log.

Chinese characters take two columns in a terminal, so padding counts display
width (East Asian Wide and Fullwidth count 2), not characters.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from .._sheets import display_width
from ._kpi import KpiReport
from ._table import NOT_GIVEN, lines

CHANNEL_HEADERS = ("channel 受理渠道", "enrolments", "installed", "in trial", "converted",
                   "cancel requested")
NO_CHANNEL = "(none 未填)"


def pad(text: str, columns: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``columns`` display columns."""
    fill = " " * max(columns - display_width(text), 0)
    return fill + text if right else text + fill


def render_text(report: KpiReport) -> str:
    """Every figure under its section, labels and values in aligned columns, then channels."""
    rows = [attrs.evolve(r, label=f"{r.label} {r.code}" if r.code else r.label)
            for r in lines(report)]
    label_w = max(display_width(r.label) for r in rows)
    # "not given" is a sentence, not a number: it is not right-aligned with the figures
    value_w = max([display_width(r.value) for r in rows if not r.value.startswith(NOT_GIVEN)] or [0])
    out = [f"iTV 体验营销 KPI — {report.policy_id} {report.policy_version}",
           f"as of {report.as_of.isoformat()}, billing month {report.month}"]
    section = None
    for row in rows:
        if row.section != section:
            section = row.section
            out += ["", section]
        out.append(f"  {pad(row.label, label_w)}  {pad(row.value, value_w, right=True)}  {row.clause}"
                   .rstrip())
    out += ["", "渠道 by channel", *_grid(report)]
    return "\n".join(out) + "\n"


def _grid(report: KpiReport) -> list[str]:
    table: list[Sequence[str]] = [CHANNEL_HEADERS]
    table += [(" ".join(c.channel.split()) or NO_CHANNEL, str(c.enrolments), str(c.installed),
               str(c.in_trial), str(c.converted), str(c.cancel_requested)) for c in report.by_channel]
    widths = [max(display_width(row[i]) for row in table) for i in range(len(CHANNEL_HEADERS))]
    return ["  " + "  ".join(pad(cell, widths[i], right=i > 0) for i, cell in enumerate(row)).rstrip()
            for row in table]
