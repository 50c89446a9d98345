"""Engines decide one row at a time (compiled Python, durable-rules); each returns the deciding rule."""

from __future__ import annotations

from ._protocol import Engine, NoRuleMatched

__all__ = ["Engine", "NoRuleMatched"]
