"""Which optional extra brings which module, and the check features make before using one.

The core installs light (``pip install itvrules``); a feature that needs polars, an
xlsx library or matplotlib asks ``require`` first, so a missing extra is one
``MissingExtra`` line naming the extra to install, never an import traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

from ._errors import MissingExtra

#: The top-level module and the extra that installs it.
EXTRA_OF_MODULE: dict[str, str] = {
    "duckdb": "columnar",
    "numpy": "columnar",
    "polars": "columnar",
    "pyarrow": "columnar",
    "python_calamine": "excel",
    "xlsxwriter": "excel",
    "matplotlib": "reports",
    "psycopg": "postgres",
    "pyspark": "spark",
}


def require(feature: str, *modules: str) -> None:
    """Import ``modules`` or raise ``MissingExtra`` naming ``feature`` and its extra."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise MissingExtra(feature, EXTRA_OF_MODULE[module.partition(".")[0]]) from exc


def missing_extra(exc: ImportError, feature: str = "this command") -> MissingExtra | None:
    """The ``MissingExtra`` behind an import failure of an extra's module, else None."""
    name = (exc.name or "").partition(".")[0]
    extra = EXTRA_OF_MODULE.get(name)
    return None if extra is None else MissingExtra(feature, extra)


def installed(*modules: str) -> bool:
    """Whether every one of ``modules`` can be found (without importing it)."""
    for module in modules:
        if module in sys.modules:
            if sys.modules[module] is None:  # import blocked
                return False
        elif importlib.util.find_spec(module) is None:
            return False
    return True
