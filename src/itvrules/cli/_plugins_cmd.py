"""``itvrules plugins``: which plug-ins are loaded and where each comes from."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .._sheets import display_width
from ..reports._text import pad
from ._common import OK, command_parser, debug_option

EPILOG = """\
examples:
  itvrules plugins                               # built-ins and installed plug-ins
  itvrules plugins --json
  ITVRULES_DISABLE_PLUGIN_AUTOLOAD=1 itvrules plugins   # built-ins only
"""


#: The text table's columns (``--json`` has every field, the hooks each plug-in implements too).
TEXT_COLUMNS = ("name", "origin", "distribution", "readers", "writers", "module")


def add_parser(sub: Any) -> None:
    parser = command_parser(
        sub, "plugins", help="list loaded plug-ins",
        description="List the plug-ins loaded (the built-in readers and writers, and those "
                    "installed under the entry-point group 'itvrules') and where each comes from.",
        epilog=EPILOG, parents=[debug_option()])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..runs._plugins import describe_plugins, plugin_manager

    rows = describe_plugins(plugin_manager())
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
    else:
        print(table(rows, TEXT_COLUMNS))
    return OK


def table(rows: Sequence[Mapping[str, Any]], preferred: Sequence[str] = ()) -> str:
    """Rows of dicts as aligned columns: the ``preferred`` keys present, else every key."""
    if not rows:
        return "no plug-ins loaded"
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    if preferred:
        columns = [key for key in preferred if key in columns] or columns
    cells = [[_cell(row.get(col)) for col in columns] for row in rows]
    widths = [max(display_width(col), *(display_width(line[i]) for line in cells))
              for i, col in enumerate(columns)]
    lines = ["  ".join(pad(col, w) for col, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(pad(c, w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value) or "-"
    return str(value)
