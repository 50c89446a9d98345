"""Money: Decimal yuan (CNY) outside, integer fen inside the engines."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_fen(amount: Decimal) -> int:
    """Integer fen of a yuan amount that has at most two decimals."""
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} has more than two decimals")
    return int(fen)


def from_fen(fen: int) -> Decimal:
    """Yuan with two decimals for an integer fen amount."""
    return (Decimal(fen) / 100).quantize(CENT)


def parse_yuan(text: object) -> Decimal:
    """A yuan amount from a string, int or Decimal; floats are refused (they are inexact)."""
    if isinstance(text, (bool, float)):
        raise ValueError(f"money must be a decimal string, not {type(text).__name__} {text!r}")
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal amount") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{text!r} is not a non-negative amount")
    to_fen(value)
    return value.quantize(CENT)
