"""A policy file loaded, checked and held: its document, versions, conditions and facts.

``itvrules.load_policy`` returns the ``Policy`` of ``_policy``; it hands
each decision to an engine (``itvrules.engines``) or a backend
(``itvrules.frames``, ``itvrules.spark``).
"""
