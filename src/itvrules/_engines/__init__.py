"""Engines run a policy's decision tables; each returns the index of the deciding rule."""

from __future__ import annotations

from ._protocol import Engine, NoRuleMatched

__all__ = ["Engine", "NoRuleMatched"]
