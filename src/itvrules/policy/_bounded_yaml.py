"""The one YAML loader of policy, contract and case files: safe, and bounded while it reads.

A few hundred bytes of aliases (a "billion laughs") expand to billions of
nodes, and a few thousand brackets overflow Python's stack. This loader counts
the nodes a document will hold once its aliases are expanded, and how deep it
nests, as it composes them, so a document over ``YAML_NODES`` or
``YAML_DEPTH`` is refused before anything big is built. An alias inside
the node it names (a cycle) is refused too: it would expand forever.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent

from .._limits import YAML_DEPTH, YAML_NODES, Limit, LimitExceeded

#: The tags a policy may carry: the YAML core schema's, plus the two the safe loader gives
#: plain scalars itself (a date is a timestamp; ``<<`` is a merge key).
CORE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp", "merge"))

_YAML_TAG_PREFIX = "tag:yaml.org,2002:"


def tag_words(tag: str) -> str:
    """A tag as its author wrote it: ``!!python/object/apply:os.system``, ``!custom``."""
    return "!!" + tag[len(_YAML_TAG_PREFIX):] if tag.startswith(_YAML_TAG_PREFIX) else tag


class RecursiveAlias(yaml.composer.ComposerError):
    """An alias that names a node it sits inside: expanding it would never end."""


class BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a document over the node or depth limit as it composes it."""

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text)
        self.source = source
        self._max_nodes = YAML_NODES.value()
        self._max_depth = YAML_DEPTH.value()
        self._nodes = 0  # nodes so far, every alias counted as the nodes it names
        self._depth = 0  # the depth of the node being composed
        self._reach = 0  # the deepest level reached inside the node being composed
        #: Per anchored node (by id): (its nodes, its levels below itself), known once it is whole.
        self._anchored: dict[int, tuple[int, int]] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            return self._alias(parent, index)
        self._depth += 1
        event = self._next_event()
        self._over(YAML_DEPTH, self._depth, self._max_depth, event.start_mark)
        self._count(1, event.start_mark)
        before, outer_reach = self._nodes, self._reach
        self._reach = self._depth
        node = super().compose_node(parent, index)
        if event.anchor is not None:
            self._anchored[id(node)] = (self._nodes - before + 1, self._reach - self._depth)
        self._reach = max(outer_reach, self._reach)
        self._depth -= 1
        return node

    def _alias(self, parent: Any, index: Any) -> Any:
        """The node an alias names, counted as the copy it becomes once expanded."""
        event = self._next_event()
        named = self.anchors.get(event.anchor)
        if named is not None:  # an unknown alias is left to the composer's own error
            size = self._anchored.get(id(named))
            if size is None:
                raise RecursiveAlias(None, None, f"the alias *{event.anchor} sits inside the node "
                                                 "it names, so it would expand forever",
                                     event.start_mark)
            nodes, below = size
            self._over(YAML_DEPTH, self._depth + 1 + below, self._max_depth, event.start_mark)
            self._reach = max(self._reach, self._depth + 1 + below)
            self._count(nodes, event.start_mark)
        return super().compose_node(parent, index)

    def _next_event(self) -> Any:
        """The event the composer reads next, left in place."""
        return self.peek_event()  # type: ignore[no-untyped-call]

    def _count(self, nodes: int, mark: yaml.Mark) -> None:
        self._nodes += nodes
        self._over(YAML_NODES, self._nodes, self._max_nodes, mark)

    def _over(self, limit: Limit, found: int, allowed: int, mark: yaml.Mark) -> None:
        if found > allowed:
            raise LimitExceeded(limit, found, allowed, f"{self.source}:{mark.line + 1}")
