"""The input contract of a CRM feed as data: columns, skipped rows, facts and row checks.

``load_contract()`` reads ``feed.contract.yaml`` (shipped beside the policy);
each path compiles its checks once: the row path to Python (``PythonChecks``,
``RunChecks``, here), the Polars paths to expressions (``itvrules.frames``) and
Spark to columns (``itvrules.spark``); each compiles the ``normal_form`` of a cell's text
alike (``python_normaliser`` here). See docs/policy-format.md, "The input
contract".
"""

from __future__ import annotations

from ._document import CONTRACT_FILE, Check, Column, Contract, Fact, Skip, Step, load_contract
from ._normal import normal, normaliser, python_normaliser
from ._python import PythonChecks, render, shown
from ._row import RunChecks
from ._unsafe import UNSAFE_CLASS, escaped, quoted

__all__ = ["CONTRACT_FILE", "UNSAFE_CLASS", "Check", "Column", "Contract", "Fact", "PythonChecks",
           "RunChecks", "Skip", "Step", "escaped", "load_contract", "normal", "normaliser",
           "python_normaliser", "quoted", "render", "shown"]
