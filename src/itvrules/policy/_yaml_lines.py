"""Read YAML keeping the line of every value, so policy errors can point at it."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Any

import yaml

from .._errors import PolicyError, PolicyProblem
from .._paths import read_problem

Path = tuple[str | int, ...]


class LinedYaml:
    """A parsed YAML document plus the 1-based line of every path in it."""

    def __init__(self, data: Any, lines: dict[Path, int], duplicates: list[tuple[Path, int]],
                 bad_scalars: list[tuple[Path, int, str]]):
        self.data = data
        self.lines = lines
        self.duplicates = duplicates
        #: scalars YAML could not read (``2025-02-31``): path, line, why; kept as text
        self.bad_scalars = bad_scalars

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
        builder = _Builder(loader)
        data = builder.build(node, ()) if node is not None else None
    finally:
        loader.dispose()
    return LinedYaml(data, builder.lines, builder.duplicates, builder.bad_scalars)


class _Builder:
    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.lines: dict[Path, int] = {}
        self.duplicates: list[tuple[Path, int]] = []
        self.bad_scalars: list[tuple[Path, int, str]] = []

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                # Keys are names: take a plain key's text as written, so YAML 1.1's
                # `on:`/`no:` do not become booleans.
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else \
                    str(self.scalar(key_node, path))
                child = (*path, key)
                if key in out:
                    self.duplicates.append((child, key_node.start_mark.line + 1))
                out[key] = self.build(value_node, child)
                self.lines[child] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        return self.scalar(node, path)

    def scalar(self, node: yaml.Node, path: Path) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, yaml.constructor.ConstructorError) as exc:
            self.bad_scalars.append((path, node.start_mark.line + 1, f"{node.value!r}: {exc}"))
            return str(node.value)


def parse_lined(text: str, source: str) -> LinedYaml:
    """:func:`load_lined`, with bad syntax a :class:`PolicyError` naming ``source`` and the line."""
    try:
        return load_lined(text)
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = PolicyProblem(source, line, "(syntax)", str(exc).replace("\n", " "))
        raise PolicyError(f"{source}: not valid YAML", (problem,)) from None


def read_lined(path: FilePath, what: str) -> LinedYaml:
    """Read and parse the UTF-8 YAML ``what`` (``"policy file"``) at ``path``; PolicyError if not."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problem = read_problem(source) or exc.strerror or str(exc)
        raise PolicyError(f"{source}: cannot read the {what}: {problem}") from None
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{source}: a {what} must be UTF-8 ({exc})") from None
    return parse_lined(text, source)
