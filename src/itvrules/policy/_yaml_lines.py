"""Read YAML keeping the line of every value, so policy errors can point at it."""

from __future__ import annotations

import os
import stat
from pathlib import Path as FilePath
from typing import Any, BinaryIO

import yaml

from .._errors import ItvRulesError, PolicyError, PolicyProblem
from .._limits import POLICY_FILE_BYTES, YAML_DEPTH, LimitExceeded
from .._paths import read_problem
from .._words import quoted
from ._bounded_yaml import CORE_TAGS, BoundedLoader, tag_words

Path = tuple[str | int, ...]


class LinedYaml:
    """A parsed YAML document plus the 1-based line of every path in it."""

    def __init__(self, data: Any, lines: dict[Path, int], duplicates: list[tuple[Path, int]],
                 bad_scalars: list[tuple[Path, int, str]],
                 bad_tags: list[tuple[Path, int, str]] | None = None):
        self.data = data
        self.lines = lines
        self.duplicates = duplicates
        #: scalars YAML could not read (``2025-02-31``): path, line, why; kept as text
        self.bad_scalars = bad_scalars
        #: nodes whose tag is not one of YAML's own: path, line, the tag as written
        self.bad_tags = bad_tags or []

    def line(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that exists."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), None)


def load_lined(text: str, source: str = "(text)") -> LinedYaml:
    """Parse one YAML document with the bounded safe loader.

    Raises ``yaml.YAMLError`` on bad syntax and ``LimitExceeded`` on a document
    over a limit, before it is expanded.
    """
    loader = BoundedLoader(text, source)
    try:
        node = loader.get_single_node()
        builder = _Builder(loader)
        data = builder.build(node, ()) if node is not None else None
    finally:
        loader.dispose()
    return LinedYaml(data, builder.lines, builder.duplicates, builder.bad_scalars, builder.bad_tags)


class _Builder:
    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.lines: dict[Path, int] = {}
        self.duplicates: list[tuple[Path, int]] = []
        self.bad_scalars: list[tuple[Path, int, str]] = []
        self.bad_tags: list[tuple[Path, int, str]] = []

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if node.tag not in CORE_TAGS:
            # Dropping the tag would read the node as something its author did not write.
            self.bad_tags.append((path, node.start_mark.line + 1, tag_words(node.tag)))
            return None
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.key(key_node, path)
                if key is None:
                    continue
                child = (*path, key)
                if key in out:
                    self.duplicates.append((child, key_node.start_mark.line + 1))
                out[key] = self.build(value_node, child)
                self.lines[child] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        return self.scalar(node, path)

    def key(self, node: yaml.Node, path: Path) -> str | None:
        """A mapping key as written; None (reported) for a key that is not plain text."""
        line = node.start_mark.line + 1
        if node.tag not in CORE_TAGS:
            self.bad_tags.append((path, line, tag_words(node.tag)))
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.bad_scalars.append((path, line, "a key must be a name, not a list or a mapping"))
            return None
        # Keys are names: take a plain key's text as written, so YAML 1.1's
        # `on:`/`no:` do not become booleans.
        if _has_surrogate(node.value):
            self.bad_scalars.append((path, line, f"the key {quoted(node.value)} {_SURROGATE_WORDS}"))
            return None
        return str(node.value)

    def scalar(self, node: yaml.Node, path: Path) -> Any:
        line = node.start_mark.line + 1
        if _has_surrogate(node.value):
            self.bad_scalars.append((path, line, f"{quoted(node.value)} {_SURROGATE_WORDS}"))
            return node.value.encode("utf-8", "backslashreplace").decode("utf-8")  # text, reported
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError, yaml.constructor.ConstructorError) as exc:
            self.bad_scalars.append((path, line, f"{quoted(node.value)}: {_constructor_words(exc)}"))
            return str(node.value)
        except (TypeError, AttributeError):  # `!!timestamp a`: the constructor fails on its own
            self.bad_scalars.append((path, line, f"{quoted(node.value)} is not a value of the tag "
                                                 f"{tag_words(node.tag)}"))
            return str(node.value)


_SURROGATE_WORDS = ("holds a lone surrogate (an escape such as \\udc80), which is not a "
                    "character: no file or terminal can hold it")


def _has_surrogate(text: str) -> bool:
    """True when ``text`` holds half of a UTF-16 pair, which cannot be written as UTF-8."""
    return any("\ud800" <= char <= "\udfff" for char in text)


def _constructor_words(exc: Exception) -> str:
    """What the constructor found wrong, without its Python-side location."""
    if isinstance(exc, yaml.MarkedYAMLError):
        return " ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
    return str(exc)


def parse_lined(text: str, source: str) -> LinedYaml:
    """``load_lined``, every problem a ``PolicyError`` naming ``source``, line and field.

    Bad syntax, a document over a limit and a tag other than YAML's own are refused here,
    so no reader of the data meets them.
    """
    if len(text) * 4 > _max_bytes():  # only then can its UTF-8 be over the limit: measure it
        _check_size(len(text.encode("utf-8", "surrogatepass")), source)
    try:
        lined = load_lined(text, source)
    except LimitExceeded as exc:
        line = _line_of(exc, source)
        problem = PolicyProblem(source, line, "(document)", _limit_words(exc))
        raise PolicyError(f"{source}: too big or too deep to read", (problem,)) from exc
    except ItvRulesError:
        raise  # a limit's own setting that is not a number: its words say which
    except RecursionError:  # only when YAML_DEPTH is raised past what Python's stack holds
        problem = PolicyProblem(source, None, "(document)",
                                f"nests deeper than Python can read; keep {YAML_DEPTH.env} lower")
        raise PolicyError(f"{source}: too deep to read", (problem,)) from None
    except (yaml.YAMLError, ValueError) as exc:
        line, message = _syntax_words(exc, text)
        problem = PolicyProblem(source, line, "(syntax)", message)
        raise PolicyError(f"{source}: not valid YAML", (problem,)) from None
    if lined.bad_tags:
        problems = tuple(PolicyProblem(source, line, _dotted(path), f"the tag {tag} is not allowed: "
                                       "a policy, contract or case file uses YAML's own types only")
                         for path, line, tag in lined.bad_tags)
        raise PolicyError(f"{source}: {len(problems)} tag(s) YAML's safe types do not have", problems)
    return lined


def _syntax_words(exc: Exception, text: str) -> tuple[int | None, str]:
    """The line of a YAML error and what is wrong, without the parser's own notion of place."""
    if isinstance(exc, yaml.reader.ReaderError):
        at = text.count("\n", 0, exc.position) + 1
        return at, f"the character U+{exc.character:04X} is not allowed in YAML" \
            if isinstance(exc.character, int) else str(exc.reason)
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    if isinstance(exc, yaml.MarkedYAMLError):
        column = f" (column {mark.column + 1})" if mark is not None else ""
        return line, _constructor_words(exc) + column
    return line, str(exc).replace("\n", " ")


def read_lined(path: FilePath, what: str) -> LinedYaml:
    """Read and parse the UTF-8 YAML ``what`` (``"policy file"``) at ``path``; PolicyError if not.

    At most ``POLICY_FILE_BYTES`` (plus one, to tell) are read, so a device or a
    pipe that never ends (``/dev/zero``) is refused, not read until memory runs out.
    """
    source = str(path)
    limit = _max_bytes()
    try:
        with path.open("rb") as stream:
            size = _regular_size(stream)
            _check_size(size, source)
            data = stream.read(limit + 1)
    except OSError as exc:
        why = read_problem(source) or exc.strerror or str(exc)
        raise PolicyError(f"{source}: cannot read the {what}: {why}") from None
    _check_size(len(data), source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        not_utf8 = PolicyProblem(source, line, "(encoding)",
                                 f"byte {data[exc.start]:#04x} is not UTF-8 ({exc.reason}); "
                                 f"save the {what} as UTF-8")
        raise PolicyError(f"{source}: a {what} must be UTF-8", (not_utf8,)) from None
    return parse_lined(text, source)


def _max_bytes() -> int:
    return POLICY_FILE_BYTES.value()


def _regular_size(stream: BinaryIO) -> int:
    """The size a regular file declares; 0 for a device, pipe or FIFO, which declare none."""
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def _check_size(size: int, source: str) -> None:
    try:
        POLICY_FILE_BYTES.check(size, source)
    except LimitExceeded as exc:
        problem = PolicyProblem(source, None, "(file)", _limit_words(exc))
        raise PolicyError(f"{source}: too big to read", (problem,)) from exc


def _limit_words(exc: LimitExceeded) -> str:
    """The limit's words without the place, which the problem names itself."""
    return str(exc).removeprefix(f"{exc.where}: ")


def _line_of(exc: LimitExceeded, source: str) -> int | None:
    """The line a bounded loader's ``where`` (``source:line``) names."""
    _, _, line = exc.where.removeprefix(source).partition(":")
    return int(line) if line.isdigit() else None


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"
