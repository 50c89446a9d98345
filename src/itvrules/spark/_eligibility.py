"""Eligibility for a Spark DataFrame of subscribers: the eligibility rules decided on a cluster.

The facts of ``_facts.eligibility_facts`` as Spark SQL columns, the eligibility
table compiled to one ``CASE WHEN`` (``_engines._spark.first_hit``) and each
rule's outputs looked up by the index of the rule that decided. Every step is a
built-in Spark expression: executors run JVM code only, never a Python worker.

Plan codes, products and communities are read in Python, by the policy's
catalogue and ``Subscriber``'s own converters, once per distinct cell: a frame
holds few distinct cells (tens), so one small job collects them on the driver
and they go back into the plan as literal maps (``create_map``): plan code ->
(known, family, tier, includes iTV), cell -> enum value. Literal maps rather
than a broadcast join: the result stays a narrow projection of the input (no
exchange; partitions and row order are the input's), and a lookup among tens
of keys costs nothing next to the rule table. Cells are thus read exactly as
the row path reads them: ``" E8－68 "`` is ``e8-68``, ``"品牌"`` and ``"Brand"``
are ``brand``.

``pyspark`` is imported when a function here runs: it is the optional ``spark`` extra.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from .._errors import InputError
from ..model._enums import Community
from ..model._inputs import Subscriber, _Bad, _to_community, _to_product
from ..policy._rule_outputs import eligibility_template as _eligibility_template
from ._fees import _per_rule, _require_pyspark
from ._rows import _stripped

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from ..policy._facts import Catalogue
    from ..policy._policy import Policy

#: Columns a subscriber DataFrame has, with their Spark SQL types (one row per subscriber).
SUBSCRIBER_COLUMNS: Mapping[str, str] = {
    "account_id": "string",
    "plan": "string",
    "product": "string",
    "community": "string",
    "new_install": "boolean",
    "has_itv": "boolean",
    "line_ready": "boolean",
    "accepted_on": "date",
}

#: The subscriber schema as a DDL string, for ``spark.read.schema(...)`` or ``createDataFrame``.
SUBSCRIBER_DDL = ", ".join(f"{name} {kind}" for name, kind in SUBSCRIBER_COLUMNS.items())

#: Columns of the decided DataFrame, in order, with their Spark SQL types.
ELIGIBILITY_TYPES: Mapping[str, str] = {
    "account_id": "string",
    "eligible": "boolean",
    "segment": "string",
    "reason": "string",
    "rule": "string",
    "clause": "string",
    "review": "boolean",
    "policy_id": "string",
    "policy_version": "string",
    "policy_hash": "string",
}

#: ``date(1970, 1, 1).toordinal()``: Spark counts days from 1970, rule values from year 1.
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

#: Null cells of these columns take ``Subscriber``'s defaults.
_DEFAULTS: Mapping[str, Any] = {"community": Community.NONE.value, "new_install": False,
                                "has_itv": False, "line_ready": True}
_PLAN_FIELDS = ("plan_known", "plan_family", "plan_tier", "plan_includes_itv")
_PLAN_TYPE = "struct<plan_known:boolean,plan_family:string,plan_tier:int,plan_includes_itv:boolean>"


def check_subscriber_columns(df: DataFrame, *, accepted_on_given: bool = False) -> None:
    """Every subscriber column is present with its type, or one InputError lists what is wrong.

    With ``accepted_on_given`` the frame must not have ``accepted_on``: the day is given once.
    """
    present = {field.name: field.dataType.simpleString() for field in df.schema.fields}
    needed = {name: kind for name, kind in SUBSCRIBER_COLUMNS.items()
              if not (accepted_on_given and name == "accepted_on")}
    missing = [name for name in needed if name not in present]
    if missing:
        raise InputError("(columns)", missing, "the subscriber frame lacks these columns")
    if accepted_on_given and "accepted_on" in present:
        raise InputError("accepted_on", "(column)",
                         "the frame has an accepted_on column: give the day one way, not both")
    wrong = [f"{name} is {present[name]}, not {kind}" for name, kind in needed.items()
             # A collated string prints as "string collate X" and is still a string.
             if present[name].split(" ")[0] != kind]
    if wrong:
        raise InputError("(columns)", wrong,
                         "the subscriber frame has columns of the wrong type (cast dates to date)")


def decide_eligibility_spark(policy: Policy, df: DataFrame,
                             accepted_on: date | None = None) -> DataFrame:
    """One eligibility row per subscriber row (columns and types ``ELIGIBILITY_TYPES``), lazily.

    ``df`` has ``SUBSCRIBER_COLUMNS`` (other columns are ignored); null flags and
    community take ``Subscriber``'s defaults. ``accepted_on`` is the day of
    every row of a frame without that column. Two jobs run before this returns:
    one collects the distinct plans, products and communities; one checks every
    row and raises ``InputError`` for the smallest account ``Subscriber``
    would refuse (a null or blank id, a null plan, an unknown product or
    community) or without an acceptance day, with ``Subscriber``'s field and
    words, else for the smallest account no eligibility rule matches (a gap in
    the policy). The result is computed when written or collected, as a narrow
    projection of ``df`` (its partitions, row for row), so ``df`` is read three
    times in all: ``persist`` an input that is expensive to recompute.
    """
    if accepted_on is not None and (not isinstance(accepted_on, date)
                                    or isinstance(accepted_on, datetime)):
        raise InputError("accepted_on", accepted_on, "expected a datetime.date")
    _require_pyspark()
    check_subscriber_columns(df, accepted_on_given=accepted_on is not None)
    from pyspark.sql import functions as F

    ruled = _ruled(policy, df, accepted_on)
    _check(ruled)
    outputs = [_eligibility_template(rule) for rule in policy.rules("eligibility")]
    rule = F.col("_rule")
    document = policy.document

    def per_rule(at: int, kind: str) -> Column:
        return _per_rule(rule, [out[at] for out in outputs], kind)

    return ruled.select(
        F.col("account_id"),
        per_rule(0, "boolean").alias("eligible"),
        per_rule(1, "string").alias("segment"),
        per_rule(2, "string").alias("reason"),
        per_rule(3, "string").alias("rule"),
        per_rule(4, "string").alias("clause"),
        per_rule(5, "boolean").alias("review"),
        F.lit(document.id).alias("policy_id"),
        F.lit(document.version).alias("policy_version"),
        F.lit(document.content_hash[:12]).alias("policy_hash"),
    )


def _ruled(policy: Policy, df: DataFrame, accepted_on: date | None) -> DataFrame:
    """``df`` with the eligibility facts (``_facts.ELIGIBILITY_FIELDS``), ``_rule`` and ``_bad``.

    ``_bad`` marks the rows ``Subscriber`` refuses or without an acceptance day;
    ``_in`` keeps the row's own cells, for the error that names one.
    """
    from pyspark.sql import functions as F

    from ._tables import first_hit

    community = F.coalesce(F.col("community"), F.lit(_DEFAULTS["community"]))
    plans, products, communities = df.agg(
        F.collect_set("plan"), F.collect_set("product"), F.collect_set(community)).collect()[0]
    plan = _plan_facts(sorted(plans), policy._catalogue)
    day = (F.lit(accepted_on) if accepted_on is not None else F.col("accepted_on"))
    cells = [name for name in SUBSCRIBER_COLUMNS if name in df.columns]
    account = F.col("account_id")
    facts = (
        df.withColumns({
            "_in": F.struct(*cells),
            "_plan": plan,
        })
        .withColumns({
            "accepted_day": F.unix_date(day) + F.lit(_EPOCH_ORDINAL),
            **{flag: F.coalesce(F.col(flag), F.lit(_DEFAULTS[flag]))
               for flag in ("line_ready", "has_itv", "new_install")},
            "product": _read(F.col("product"), products, _to_product),
            "community": _read(community, communities, _to_community),
            **{name: F.col("_plan")[name] for name in _PLAN_FIELDS},
        })
    )
    bad = (account.isNull() | (_stripped(account) == F.lit("")) | F.col("_plan").isNull()
           | F.col("product").isNull() | F.col("community").isNull()
           | F.col("accepted_day").isNull())
    return facts.withColumns({"_rule": first_hit(policy.rules("eligibility")), "_bad": bad})


def _plan_facts(codes: list[str], catalogue: Catalogue) -> Column:
    """Each row's plan facts as a struct (``_PLAN_FIELDS``), from one literal map; null for a null plan."""
    from pyspark.sql import functions as F

    if not codes:
        return F.lit(None).cast(_PLAN_TYPE)
    entries: list[Column] = []
    for code in codes:
        facts = catalogue.classify(code)
        entries += [F.lit(code), F.struct(*[F.lit(value).alias(name)
                                            for name, value in zip(_PLAN_FIELDS, facts, strict=True)])]
    return F.try_element_at(F.create_map(*entries), F.col("plan"))


def _read(cells: Column, distinct: list[str], read: Callable[[Any], Any]) -> Column:
    """Each distinct cell read once by the model's converter: the enum's value, or null if refused."""
    from pyspark.sql import functions as F

    values = {cell: read(cell) for cell in sorted(distinct)}
    canonical = {cell: str(value.value) for cell, value in values.items()
                 if not isinstance(value, _Bad)}
    if all(canonical.get(cell) == cell for cell in values):
        return cells  # every cell already the enum's value (a null stays null)
    if not canonical:
        return F.lit(None).cast("string")
    return F.try_element_at(F.create_map(*[F.lit(part) for pair in canonical.items()
                                           for part in pair]), cells)


def _check(ruled: DataFrame) -> None:
    """One aggregate job over every row: a row that cannot be decided becomes an InputError.

    An aggregate, not a filter or ``limit(1)``, for the reasons of ``_spark_frames._check``:
    each partition is read once, the facts are computed once a row, and the account
    named is the smallest, however the input is partitioned. A refused row is
    reported before a gap: its facts mean nothing.
    """
    from pyspark.sql import functions as F

    bad, gap = F.col("_bad"), ~F.col("_bad") & (F.col("_rule") < 0)
    first = F.min(F.when(bad | gap, F.struct(gap.alias("gap"), F.col("account_id"), F.col("_in"))))
    found = ruled.agg(F.count(F.when(bad, 1)).alias("bad"), F.count(F.when(gap, 1)).alias("gaps"),
                      first.alias("first")).collect()[0]
    if found["first"] is None:
        return
    cells: dict[str, Any] = found["first"]["_in"].asDict()
    account = cells["account_id"]
    if not found["bad"]:
        also = "" if found["gaps"] == 1 else f" ({found['gaps']} rows in all)"
        raise InputError("(row)", account, f"no eligibility rule matches this subscriber{also}")
    also = "" if found["bad"] == 1 else f"; {found['bad']} rows refused in all"
    fields = {name: value for name, value in cells.items()
              if name != "accepted_on" and (value is not None or name not in _DEFAULTS)}
    try:
        Subscriber(**fields)
    except InputError as error:
        named = isinstance(account, str) and account.strip() and account not in error.problem
        where = f" (account {account}{also})" if named else f" ({also[2:]})" if also else ""
        raise InputError(error.field, error.value, error.problem + where) from None
    raise InputError("accepted_on", None, f"expected a datetime.date (account {account}{also})")
