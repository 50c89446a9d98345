"""Read YAML keeping the line of every value, so policy errors can point at it."""

from __future__ import annotations

from typing import Any

import yaml

Path = tuple[str | int, ...]


class LinedYaml:
    """A parsed YAML document plus the 1-based line of every path in it."""

    def __init__(self, data: Any, lines: dict[Path, int], duplicates: list[tuple[Path, int]]):
        self.data = data
        self.lines = lines
        self.duplicates = duplicates

    def line(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that exists."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), None)


def load_lined(text: str) -> LinedYaml:
    """Parse one YAML document (safe loader). Raises ``yaml.YAMLError`` on bad syntax."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[Path, int] = {}
        duplicates: list[tuple[Path, int]] = []
        data = _build(loader, node, (), lines, duplicates) if node is not None else None
    finally:
        loader.dispose()
    return LinedYaml(data, lines, duplicates)


def _build(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: Path,
    lines: dict[Path, int],
    duplicates: list[tuple[Path, int]],
) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int)):
                key = str(key)
            child = (*path, key)
            if key in out:
                duplicates.append((child, key_node.start_mark.line + 1))
            out[key] = _build(loader, value_node, child, lines, duplicates)
            lines[child] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(loader, item, (*path, index), lines, duplicates)
            for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)
