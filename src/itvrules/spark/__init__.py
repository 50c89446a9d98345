"""The Spark backend: decision tables and contract checks as Spark column expressions.

The same module names as ``itvrules.frames``: ``_tables``, ``_contract``,
``_fees`` and ``_eligibility``. Only the driver imports it; it needs pyspark.
"""
