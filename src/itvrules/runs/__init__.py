"""Runs over feeds: read rows, check them, decide, write the export and the rejects.

``_pipeline`` is the run core (``run_bill``, ``run_eligibility``, every row
read is decided, rejected or skipped); the strategy that serves a run is
chosen by what its reader and writer declare (``itvrules.hookspecs``):
``_bulk_text`` for readers of text batches, ``_bulk_arrow`` for Arrow batches,
else one row at a time.
"""
