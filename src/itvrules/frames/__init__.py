"""The columnar backend: decision tables and contract checks as Polars expressions.

The same module names as ``itvrules.spark``: ``_tables`` (a decision table as
one expression), ``_contract`` (the input contract's checks), ``_fees`` and
``_eligibility`` (whole frames decided); ``_stream`` and ``_cases`` serve
``Policy.fees`` over frames a batch at a time.
"""
