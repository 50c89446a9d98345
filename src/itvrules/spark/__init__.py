"""The Spark backend: decision tables and contract checks as Spark column expressions.

The same module names as ``itvrules.frames``: ``_tables``, ``_contract``,
``_fees`` and ``_eligibility``; ``_rows`` reads and checks a frame's rows and
``_bill`` bills a month from rows that may be bad. Only the driver imports it;
it needs pyspark.
"""
