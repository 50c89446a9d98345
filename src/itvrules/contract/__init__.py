"""The input contract of a CRM feed as data: columns, skipped rows, facts and row checks.

``load_contract()`` reads ``feed.contract.yaml`` (shipped beside the policy);
each path compiles its checks once: the row path to Python (``PythonChecks``,
``RunChecks``, here), the Polars paths to expressions (``itvrules.frames``) and
Spark to columns (``itvrules.spark``). See docs/policy-format.md, "The input
contract".
"""

from __future__ import annotations

from ._document import CONTRACT_FILE, Check, Column, Contract, Fact, Skip, load_contract
from ._python import PythonChecks, render, shown
from ._row import RunChecks
from ._unsafe import UNSAFE_CLASS, escaped, quoted

__all__ = ["CONTRACT_FILE", "UNSAFE_CLASS", "Check", "Column", "Contract", "Fact", "PythonChecks",
           "RunChecks", "Skip", "escaped", "load_contract", "quoted", "render", "shown"]
