"""The contract's normal form of a cell's text compiled to Python, for the row path and the model.

Every path reads a cell of an id, an enum or a package code in the same normal
form before it compares anything (``normal_form`` in the contract), so an id
pasted with a zero-width space or typed in full-width digits is the same
account everywhere. The bulk paths compile the same steps to Polars and Spark.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from functools import cache

from ..policy import _patterns
from ._document import Step, load_contract


def python_normaliser(steps: Sequence[Step]) -> Callable[[str], str]:
    """A function that puts a text in the normal form ``steps`` describe, in their order.

    ASCII text skips the steps that cannot change it (NFKC, and a removal whose pattern
    matches no ASCII character), the usual case, so reading an id costs a strip.
    """
    def step(one: Step) -> Callable[[str], str]:
        if one.kind == "remove":
            assert one.pattern is not None
            return _remover(one.pattern)
        if one.kind == "nfkc":
            return lambda text: unicodedata.normalize("NFKC", text)
        return str.strip

    everything = [step(one) for one in steps]
    on_ascii = [step(one) for one in steps if one.kind == "strip" or (
        one.kind == "remove" and one.pattern is not None and _matches_ascii(one.pattern))]

    def normal(text: str) -> str:
        for function in (on_ascii if text.isascii() else everything):
            text = function(text)
        return text

    return normal


def _remover(pattern: str) -> Callable[[str], str]:
    compiled = _patterns.python(pattern)
    return lambda text: compiled.sub("", text)


def _matches_ascii(pattern: str) -> bool:
    compiled = _patterns.python(pattern)
    return any(compiled.search(chr(code)) for code in range(128))


@cache
def normaliser(field: str) -> Callable[[str], str]:
    """The normal form of a cell of the shipped contract's ``field``, as a function of its text."""
    return python_normaliser(load_contract().steps(field))


def normal(field: str, text: str) -> str:
    """``text`` of a cell of ``field`` in its normal form (see ``normaliser``)."""
    return normaliser(field)(text)
