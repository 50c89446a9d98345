"""Eligibility for a whole table of subscribers at once: facts and decisions as Polars columns.

The facts of ``_facts.eligibility_facts``, a column at a time: the acceptance
day as its ordinal (rule conditions hold dates as ordinals), the flags with
``Subscriber``'s defaults for null cells, product and community read by
``Subscriber``'s own converters once per distinct cell (into Enums), and each
distinct plan classified once by the policy's catalogue. The eligibility table, compiled to
one expression (``_engines._polars.first_hit``), gives every row the position
of its rule; the output columns are read from small per-rule tables by it. A
differential test holds it equal to ``Policy.eligibility`` row by row, on
both engines.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from .._errors import InputError
from ..model._enums import Community, Product
from ..model._inputs import Subscriber, _Bad, _to_community, _to_product
from ..runs._bulk_arrow_checks import WHITESPACE
from ._fees import wrong_types
from ._tables import first_hit

if TYPE_CHECKING:
    from ..policy._policy import Policy

#: Columns a subscriber frame has (``accepted_on`` may instead be given for every row at once).
SUBSCRIBER_COLUMNS = {
    "account_id": pl.String,
    "plan": pl.String,
    "product": pl.String,
    "community": pl.String,
    "new_install": pl.Boolean,
    "has_itv": pl.Boolean,
    "line_ready": pl.Boolean,
    "accepted_on": pl.Date,
}

#: Columns of the decided frame, in order.
ELIGIBILITY_DECISION_COLUMNS = ("account_id", "eligible", "segment", "reason", "rule", "clause", "review",
                       "policy_id", "policy_version", "policy_hash")

#: What a row is called in the errors (``InputError.source``; ``row`` counts from 0).
SOURCE = "frame"
RULE, BAD, MAYBE_BLANK = "_rule", "_bad", "_maybe_blank"
_EPOCH = 719163  # date(1970, 1, 1).toordinal(): a Polars Date is days since then
#: Up to this many distinct product or community cells are read by equality tests.
_CHAINED = 12
#: Null cells of these columns take Subscriber's defaults.
_DEFAULTS = {"community": "none", "new_install": False, "has_itv": False, "line_ready": True}


def decide_eligibility(policy: Policy, frame: pl.DataFrame | pl.LazyFrame,
                       accepted_on: date | None = None) -> pl.DataFrame:
    """One decision row per subscriber row, in input order (columns ``ELIGIBILITY_DECISION_COLUMNS``).

    The frame must hold valid subscribers (``SUBSCRIBER_COLUMNS``): the first
    row ``Subscriber`` would refuse (a null or blank account, a null plan, an
    unknown product or community) or without an acceptance day raises
    ``InputError`` with that row's field, position and account, as does a
    gap in the eligibility table.
    """
    if accepted_on is not None and (not isinstance(accepted_on, date)
                                    or isinstance(accepted_on, datetime)):
        raise InputError("accepted_on", accepted_on, "expected a datetime.date")
    eager = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    if not isinstance(eager, pl.DataFrame):
        raise InputError("frame", type(frame).__name__, "expected a Polars DataFrame or LazyFrame")
    columns = _columns(eager.schema, accepted_on)
    typed = eager.select(pl.col(name).cast(kind) for name, kind in columns.items())
    found = decide_rules(policy, typed, accepted_on)
    bad = found.get_column(BAD)
    maybe = found.get_column(MAYBE_BLANK) & ~bad
    if maybe.any():  # the few ids that might be blank, told exactly
        at = maybe.arg_true()
        blank = (typed.get_column("account_id").gather(at).str.strip_chars(WHITESPACE) == "")
        bad = bad.scatter(at.filter(blank.fill_null(True)), True)
    if bad.any():
        _refuse(typed, int(bad.arg_true()[0]))
    decided = found.get_column(RULE)
    gaps = decided < 0
    if gaps.any():
        first = int(gaps.arg_true()[0])
        raise InputError("(row)", typed.get_column("account_id")[first],
                         "no eligibility rule matches this subscriber", source=SOURCE, row=first)
    from ..policy._rule_outputs import eligibility_template as _eligibility_template

    rules = policy.rules("eligibility")
    outputs = list(zip(*(_eligibility_template(r) for r in rules), strict=True))
    rule = pl.col(RULE)

    def per_rule(at: int, dtype: Any) -> pl.Expr:
        return pl.lit(pl.Series(outputs[at], dtype=dtype)).gather(rule)

    document = policy.document
    return pl.DataFrame([typed.get_column("account_id"), decided]).select(
        "account_id",
        per_rule(0, pl.Boolean).alias("eligible"),
        per_rule(1, pl.String).alias("segment"),
        per_rule(2, pl.String).alias("reason"),
        per_rule(3, pl.String).alias("rule"),
        per_rule(4, pl.String).alias("clause"),
        per_rule(5, pl.Boolean).alias("review"),
        pl.lit(document.id).alias("policy_id"),
        pl.lit(document.version).alias("policy_version"),
        pl.lit(document.content_hash[:12]).alias("policy_hash"),
    )


def _columns(schema: pl.Schema, accepted_on: date | None) -> dict[str, Any]:
    """The columns read and their types; a missing column or one of another type is an error."""
    wanted = {name: kind for name, kind in SUBSCRIBER_COLUMNS.items()
              if name != "accepted_on" or accepted_on is None}
    missing = [name for name in wanted if name not in schema]
    if missing:
        raise InputError("(columns)", missing, "the subscriber frame lacks these columns")
    if accepted_on is not None and "accepted_on" in schema:
        raise InputError("accepted_on", accepted_on,
                         "the frame has an accepted_on column: give the day one way, not both")
    wrong = wrong_types(schema, wanted)
    if wrong:
        raise InputError("(columns)", wrong, "expected text (String), Boolean and Date columns as "
                         "SUBSCRIBER_COLUMNS has them")
    return wanted


def decide_rules(policy: Policy, typed: pl.DataFrame, accepted_on: date | None) -> pl.DataFrame:
    """The position of each row's eligibility rule (``_rule``, -1: a gap) and whether it is bad.

    ``_bad`` marks rows ``Subscriber`` refuses for their plan, product or
    community, or without an acceptance day; ``_maybe_blank`` the rows whose
    account is null or might be blank: a blank id starts with a character
    below ``"!"`` or beyond ASCII, two comparisons instead of a strip of every
    id. ``typed`` has the columns of ``SUBSCRIBER_COLUMNS`` with their types.
    The distinct cells are found in one pass and read in Python; the facts and
    the rule come from one lazy query, its expressions run side by side.
    """
    products, communities, plans = typed.select(
        pl.col("product").unique().implode(),
        pl.col("community").fill_null(_DEFAULTS["community"]).unique().implode(),
        pl.col("plan").unique().implode()).row(0)
    known, family, tier, includes = [list(c) for c in zip(
        *(policy._catalogue.classify(p) for p in plans if p is not None), strict=True)] or [[]] * 4
    plan_at = pl.col("_plan")
    account = pl.col("account_id")
    facts = typed.lazy().select(
        (pl.lit(accepted_on.toordinal(), dtype=pl.Int64) if accepted_on is not None
         else pl.col("accepted_on").cast(pl.Int64) + _EPOCH).alias("accepted_day"),
        *(pl.col(flag).fill_null(_DEFAULTS[flag]) for flag in ("line_ready", "has_itv", "new_install")),
        _read(pl.col("product"), products, _to_product, Product).alias("product"),
        _read(pl.col("community").fill_null(_DEFAULTS["community"]), communities, _to_community,
              Community)
        .alias("community"),
        pl.col("plan").replace_strict([p for p in plans if p is not None],
                                      pl.int_range(0, len(known), dtype=pl.UInt32, eager=True),
                                      default=None, return_dtype=pl.UInt32).alias("_plan"),
        (account.is_null() | (account < "!") | (account >= "\u0080")).alias(MAYBE_BLANK),
    ).with_columns(
        pl.lit(pl.Series(known, dtype=pl.Boolean)).gather(plan_at).alias("plan_known"),
        pl.lit(pl.Series(family, dtype=pl.String)).gather(plan_at).alias("plan_family"),
        pl.lit(pl.Series(tier, dtype=pl.Int64)).gather(plan_at).alias("plan_tier"),
        pl.lit(pl.Series(includes, dtype=pl.Boolean)).gather(plan_at).alias("plan_includes_itv"),
    )
    bad = (pl.col("product").is_null() | pl.col("community").is_null() | plan_at.is_null()
           | pl.col("accepted_day").is_null())
    return facts.select(first_hit(policy.rules("eligibility")).alias(RULE), bad.alias(BAD),
                        MAYBE_BLANK).collect()


def _read(cells: pl.Expr, distinct: list[Any], read: Callable[[Any], Any], kind: Any) -> pl.Expr:
    """Each distinct cell read once by the model's converter, as an Enum of ``kind``; null if refused.

    A handful of cells are told apart by equality tests, under half the cost
    of a hash lookup per row; more by ``replace_strict``. An Enum makes the
    rules' tests on the column integer comparisons.
    """
    dtype = pl.Enum([member.value for member in kind])
    pairs = [(cell, value.value) for cell in distinct if cell is not None
             and not isinstance(value := read(cell), _Bad)]
    if len(pairs) > _CHAINED:
        return cells.replace_strict([c for c, _ in pairs], pl.Series([v for _, v in pairs], dtype=dtype),
                                    default=None, return_dtype=dtype)
    expr: Any = pl
    for cell, value in pairs:
        expr = expr.when(cells == cell).then(pl.lit(value, dtype=dtype))
    none = pl.lit(None, dtype=dtype)
    return none if expr is pl else expr.otherwise(none)


def _refuse(typed: pl.DataFrame, position: int) -> None:
    """Raise the error ``Subscriber`` gives the row at ``position`` (or: it has no acceptance day)."""
    row: dict[str, Any] = typed.row(position, named=True)
    fields = {k: v for k, v in row.items()
              if k != "accepted_on" and (v is not None or k not in _DEFAULTS)}
    try:
        Subscriber(**fields)
    except InputError as error:
        account = row["account_id"]
        problem = error.problem
        if isinstance(account, str) and account.strip() and account not in problem:
            problem = f"{problem} (account {account})"
        raise InputError(error.field, error.value, problem, source=SOURCE, row=position) from None
    account = row["account_id"]
    if row.get("accepted_on", date.min) is None:
        raise InputError("accepted_on", None, f"expected a datetime.date (account {account})",
                         source=SOURCE, row=position)
    raise InputError("(row)", account, "not a valid subscriber", source=SOURCE, row=position)
