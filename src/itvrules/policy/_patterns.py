"""Regular expressions every engine reads alike: Python ``re``, Polars (Rust ``regex``), Spark (Java).

A pattern in the input contract or a policy parameter is a *portable* one: a
small subset the three engines give the same meaning, checked when the file
loads so an author learns at once, with the line, what a cluster run would
otherwise find out differently. A pattern always matches a value as a whole,
and ``.`` matches any character, line breaks included; each engine gets its
own spelling of that (``python``, ``rust``, ``java``).

The subset: literal characters; ``.``; classes ``[...]`` and ``[^...]`` of
characters and ranges; groups ``(...)`` and ``(?:...)``; ``|``; the
quantifiers ``* + ? {n} {n,} {n,m}`` (each may be lazy, ``*?``). Escapes:
``\\`` before a punctuation character that has a meaning, ``\\n \\r \\t``,
``\\xHH``, ``\\uHHHH``, ``\\UHHHHHHHH``. Not in it, because the engines
differ on them: ``\\d \\w \\s \\b`` (Unicode in one engine, ASCII in another),
``^`` and ``$`` (the whole value is always matched), look-arounds, back
references, named groups and inline flags (``(?...)`` other than ``(?:``),
possessive quantifiers, nested classes and class set operations, and a
group repeated more than once that holds a quantifier or ``|`` (slow to the
point of hanging in the backtracking engines of Python and Java).
"""

from __future__ import annotations

import re
from functools import cache

import attrs

from .._errors import PolicyError

#: The longest pattern a policy parameter may hold: a pattern is a rule, not a program.
MAX_LENGTH = 200
#: The longest pattern of the input contract (its character classes are long, and fixed).
CONTRACT_MAX_LENGTH = 2000
#: The largest count a ``{n,m}`` quantifier may name.
MAX_COUNT = 1000
#: Characters that may follow a ``\\`` as themselves, in and out of classes.
_ESCAPABLE = set("\\.+*?()|[]{}^$-")
#: Escapes that mean one control character in every engine.
_NAMED = {"n": "\n", "r": "\r", "t": "\t"}
#: ``\\x``, ``\\u``, ``\\U`` and how many hex digits follow each.
_HEX = {"x": 2, "u": 4, "U": 8}
_WHY_LETTER = {
    "d": "\\d is a Unicode digit to Python and Rust but ASCII to Java: write [0-9]",
    "w": "\\w differs between the engines: write the class, e.g. [A-Za-z0-9_]",
    "s": "\\s differs between the engines: write the characters, e.g. [ \\t]",
    "b": "\\b differs between the engines and has no use when the whole value is matched",
}


class PatternError(PolicyError):
    """A pattern outside the portable subset; the message says where and why."""


@attrs.frozen
class _Member:
    """One member of a class: a character, or a range from ``first`` to ``last``."""

    first: str
    last: str


@attrs.frozen
class _Shape:
    """A pattern's parts, as far as its words need them: one class and its count, or nothing."""

    members: tuple[_Member, ...] | None
    negated: bool
    low: int
    high: int | None


def problem(pattern: object, max_length: int = MAX_LENGTH) -> str | None:
    """Why ``pattern`` is not a portable pattern of at most ``max_length`` characters, or None."""
    if not isinstance(pattern, str):
        return "expected a regular expression as text"
    if len(pattern) > max_length:
        return f"a pattern is at most {max_length} characters; this one has {len(pattern)}"
    try:
        _parse(pattern)
    except PatternError as exc:
        return str(exc)
    return None


@cache
def python(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled for Python; use ``fullmatch``. Raises ``PatternError``."""
    _parse(pattern)
    return re.compile(pattern, re.DOTALL)


@cache
def rust(pattern: str) -> str:
    """``pattern`` as Polars reads it (Rust ``regex``), anchored at both ends of the value."""
    _parse(pattern)
    return f"(?s)\\A(?:{pattern})\\z"


@cache
def java(pattern: str) -> str:
    """``pattern`` as Spark reads it (``java.util.regex``, ``rlike``), anchored at both ends."""
    return f"(?s)\\A(?:{_parse(pattern)[0]})\\z"


def rust_anywhere(pattern: str) -> str:
    """``pattern`` for Polars, matching anywhere in the value (what a ``remove`` step deletes)."""
    _parse(pattern)
    return f"(?s)(?:{pattern})"


@cache
def java_anywhere(pattern: str) -> str:
    """``pattern`` for Spark (``regexp_replace``), matching anywhere in the value."""
    return f"(?s)(?:{_parse(pattern)[0]})"


def words(pattern: str) -> str:
    """What ``pattern`` allows, said in words where it is one class with a count
    (``[A-Za-z0-9@._-]+``: "one or more of A-Z, a-z, 0-9, @, ., _ and -"), else the pattern."""
    shape = _parse(pattern)[1]
    if shape.members is None:
        return f"text that matches the pattern {pattern} as a whole"
    def said(member: _Member) -> str:
        first, last = _named(member.first), _named(member.last)
        return first if member.first == member.last else f"{first}-{last}"

    parts = [said(m) for m in shape.members]
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    what = f"any character but {listed}" if shape.negated else listed
    if shape.high is None:
        count = "one or more" if shape.low == 1 else f"{shape.low} or more"
        if shape.low == 0:
            count = "any number"
    elif shape.low == shape.high:
        count = f"exactly {shape.low}"
    else:
        count = f"{shape.low} to {shape.high}"
    return f"{count} of {what}"


def _named(char: str) -> str:
    """A character as words show it: itself, or ``U+XXXX`` when it cannot be seen."""
    if char == " ":
        return "space"
    return char if char.isprintable() else f"U+{ord(char):04X}"


@cache
def _parse(pattern: str) -> tuple[str, _Shape]:
    """The Java spelling of a portable ``pattern`` and its shape; raises ``PatternError``."""
    if not pattern:
        raise PatternError("an empty pattern matches only an empty value")
    return _Parser(pattern).run()


class _Parser:
    """One pass over a pattern: checks the subset, spells it for Java, notes its shape."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.at = 0
        self.java: list[str] = []
        self.depth = 0
        #: per open group: whether a quantifier or ``|`` is inside it, at any depth
        self.groups: list[bool] = []
        self.atoms = 0  # atoms at the top level, for the shape
        self.classes: list[tuple[tuple[_Member, ...], bool]] = []
        self.count: tuple[int, int | None] | None = None
        self.top_alternation = False

    def fail(self, why: str, at: int | None = None) -> PatternError:
        where = self.at if at is None else at
        return PatternError(f"{why} (at character {where + 1} of {self.text})")

    def run(self) -> tuple[str, _Shape]:
        last_atom: bool | None = None  # None: no atom to repeat; else whether it is a busy group
        while self.at < len(self.text):
            char = self.text[self.at]
            if char in "*+?{":
                if last_atom is None:
                    raise self.fail("a quantifier needs something before it to repeat")
                self._quantifier(last_atom)
                last_atom = None
                continue
            if char == "|":
                self.java.append("|")
                self.at += 1
                self._mark_group()
                if self.depth == 0:
                    self.top_alternation = True
                last_atom = None
                continue
            if char == "(":
                if self.text.startswith("(?", self.at):
                    if not self.text.startswith("(?:", self.at):
                        raise self.fail("only (?: ) groups are portable: look-arounds, named groups "
                                        "and inline flags mean different things to the engines")
                    self.at += 3
                    self.java.append("(?:")
                else:
                    self.at += 1
                    self.java.append("(")
                self.groups.append(False)
                self.depth += 1
                last_atom = None
                continue
            if char == ")":
                if not self.groups:
                    raise self.fail("a ) without its (")
                busy = self.groups.pop()
                self.at += 1
                self.java.append(")")
                self.depth -= 1
                if busy:
                    self._mark_group()  # the enclosing group holds it too
                last_atom = busy
                if self.depth == 0:
                    self.atoms += 1
                continue
            if char == "[":
                members, negated = self._class()
                if self.depth == 0:
                    self.classes.append((members, negated))
            elif char in "^$":
                raise self.fail("the whole value is always matched: leave out ^ and $")
            elif char in "]}":
                raise self.fail(f"escape a literal {char} as \\{char}")
            elif char == ".":
                self.java.append(".")
                self.at += 1
            elif char == "\\":
                self.java.append(self._escape(in_class=False)[1])
            else:
                self._literal(char)
            if self.depth == 0:
                self.atoms += 1
            last_atom = False
        if self.groups:
            raise self.fail("a ( without its )")
        return "".join(self.java), self._shape()

    def _shape(self) -> _Shape:
        if self.atoms != 1 or len(self.classes) != 1 or self.top_alternation:
            return _Shape(None, False, 0, None)
        members, negated = self.classes[0]
        low, high = self.count if self.count is not None else (1, 1)
        return _Shape(members, negated, low, high)

    def _mark_group(self) -> None:
        """Note that the innermost open group holds a quantifier or an alternation."""
        if self.groups:
            self.groups[-1] = True

    def _literal(self, char: str) -> None:
        if not char.isprintable() and char != " ":
            raise self.fail(f"write the character U+{ord(char):04X} as an escape, e.g. "
                            f"\\u{ord(char):04x}")
        self.java.append(char)
        self.at += 1

    def _quantifier(self, busy_group: bool) -> None:
        start_at = self.at
        char = self.text[self.at]
        if char == "{":
            match = re.compile(r"\{([0-9]+)(,([0-9]*))?\}").match(self.text, self.at)
            if match is None:
                raise self.fail("a { starts a count {n}, {n,} or {n,m}; escape a literal { as \\{")
            low = int(match.group(1))
            high: int | None = low if match.group(2) is None else (
                int(match.group(3)) if match.group(3) else None)
            if low > MAX_COUNT or (high is not None and high > MAX_COUNT):
                raise self.fail(f"a count is at most {MAX_COUNT}")
            if high is not None and high < low:
                raise self.fail(f"the count {match.group(0)} ends before it starts")
            self.at = match.end()
            spelled = match.group(0)
        else:
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
            self.at += 1
            spelled = char
        if self.at < len(self.text) and self.text[self.at] == "?":
            spelled += "?"
            self.at += 1
        if self.at < len(self.text) and self.text[self.at] in "*+{":
            raise self.fail("a quantifier after a quantifier (possessive or repeated) is not portable")
        if busy_group and (high is None or high > 1):
            raise self.fail("a repeated group must not itself repeat or hold |: the backtracking "
                            "engines (Python, Java) can take exponential time on it", start_at)
        self.java.append(spelled)
        self._mark_group()
        if self.depth == 0 and self.atoms == 1:
            self.count = (low, high)
        elif self.depth == 0:
            self.count = None

    def _class(self) -> tuple[tuple[_Member, ...], bool]:
        opened = self.at
        self.at += 1
        self.java.append("[")
        negated = self.text.startswith("^", self.at)
        if negated:
            self.java.append("^")
            self.at += 1
        members: list[_Member] = []
        while True:
            if self.at >= len(self.text):
                raise self.fail("a [ without its ]", opened)
            char = self.text[self.at]
            if char == "]":
                if not members:
                    raise self.fail("an empty class; escape a literal ] as \\]")
                self.at += 1
                self.java.append("]")
                return tuple(members), negated
            if char == "[":
                raise self.fail("nested classes and [: :] names are not portable; escape a "
                                "literal [ as \\[")
            for twice in ("&&", "||", "~~", "--"):
                if self.text.startswith(twice, self.at):
                    raise self.fail(f"{twice} in a class is a set operation to some engines; "
                                    "escape the characters")
            first, java_first = self._class_char()
            if self.text.startswith("-", self.at) and not self.text.startswith("-]", self.at):
                self.at += 1
                last, java_last = self._class_char()
                if ord(last) < ord(first):
                    raise self.fail(f"the range {java_first}-{java_last} ends before it starts")
                members.append(_Member(first, last))
                self.java.append(f"{java_first}-{java_last}")
            else:
                members.append(_Member(first, first))
                self.java.append(java_first)

    def _class_char(self) -> tuple[str, str]:
        """One character of a class: (the character, its Java spelling)."""
        char = self.text[self.at]
        if char == "\\":
            return self._escape(in_class=True)
        if char == "-" and not (self.text[self.at - 1] in "[^" or self.text.startswith("-]", self.at)):
            raise self.fail("a - in a class is a range; escape a literal - as \\- or put it last")
        if not char.isprintable() and char != " ":
            raise self.fail(f"write the character U+{ord(char):04X} as an escape, e.g. "
                            f"\\u{ord(char):04x}")
        self.at += 1
        return char, char

    def _escape(self, *, in_class: bool) -> tuple[str, str]:
        """A ``\\`` escape: (the character it means, its Java spelling)."""
        if self.at + 1 >= len(self.text):
            raise self.fail("a pattern cannot end in a single \\")
        letter = self.text[self.at + 1]
        if letter in _ESCAPABLE:
            self.at += 2
            return letter, "\\" + letter
        if letter in _NAMED:
            self.at += 2
            return _NAMED[letter], "\\" + letter
        if letter in _HEX:
            digits = self.text[self.at + 2:self.at + 2 + _HEX[letter]]
            if len(digits) != _HEX[letter] or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise self.fail(f"\\{letter} takes exactly {_HEX[letter]} hex digits")
            code = int(digits, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise self.fail(f"\\{letter}{digits} is not a Unicode character")
            self.at += 2 + _HEX[letter]
            return chr(code), f"\\x{{{code:X}}}"
        if letter.lower() in _WHY_LETTER:
            raise self.fail(_WHY_LETTER[letter.lower()])
        if letter.isdigit() or letter in "gkP":
            raise self.fail("back references and named groups are not portable")
        where = "a class" if in_class else "a pattern"
        raise self.fail(f"\\{letter} is not a portable escape in {where}")



__all__ = ["CONTRACT_MAX_LENGTH", "MAX_LENGTH", "PatternError", "java", "problem", "python", "rust", "words"]
