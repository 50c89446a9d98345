"""Rows of a Spark DataFrame read and checked as the row path reads and checks them.

Cells are put in the contract's normal form with Spark expressions (format
characters removed, NFKC, Python's idea of whitespace; the enums' Chinese
names); then the input contract's checks, compiled to Spark columns
(``_contract``), find each bad row's field and words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..contract import UNSAFE_CLASS, load_contract
from ..model._enums import PriorModem, Product
from ..model._inputs import CELL_ORDER, PRIOR_MODEM_ALIASES, PRODUCT_ALIASES
from ..model._parse import WHITESPACE
from ..policy import _patterns

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from ..policy._policy import Policy
    from ..policy._versions import CampaignWindow


#: Columns added while checking carry this prefix; none reaches an output.
_PREFIX = "__itv_"
#: Every whitespace character Python's ``str.strip()`` removes, at either end, as a Java regex.
_CLASS = "".join(f"\\u{ord(c):04x}" for c in WHITESPACE)
_STRIP = f"\\A[{_CLASS}]+|[{_CLASS}]+\\z"


def _input(name: str) -> Column:
    """An input column by its exact name (dots and spaces are part of it)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def _stripped(column: Column) -> Column:
    """Text as Python's ``str.strip()`` leaves it; Spark's ``trim`` strips spaces only."""
    from pyspark.sql import functions as F

    # The regex only where an end is whitespace: ten times cheaper over ids that are clean.
    ends = F.substring(column, 1, 1).isin(*WHITESPACE) | F.substring(column, -1, 1).isin(*WHITESPACE)
    return F.when(ends, F.regexp_replace(column, _STRIP, "")).otherwise(column)


def _enum_value(text: Column, aliases: Mapping[str, str]) -> Column:
    """``parse_enum``'s reading of stripped ``text``: a Chinese name, else the value in lower case.

    An unknown value stays as it is (not one of the enum's values); blank text is null.
    """
    from pyspark.sql import functions as F

    read = F.lower(text)
    for alias in reversed(list(aliases)):
        read = F.when(text == F.lit(alias), F.lit(aliases[alias])).otherwise(read)
    return F.when(text != F.lit(""), read)


def _escaped(text: Column) -> Column:
    """``contract.escaped``: each control or invisible character (``UNSAFE_CLASS``) as ``<U+XXXX>``.

    Only a text that holds one is taken apart, a character (code point) at a time.
    """
    from pyspark.sql import functions as F

    unsafe = _patterns.java(UNSAFE_CLASS)  # one such character, as a whole
    chars = F.split(text, "")  # code points, not UTF-16 units
    spelled = F.array_join(F.transform(chars, lambda char: F.when(
        char.rlike(unsafe), F.format_string("<U+%04X>", F.ascii(char))).otherwise(char)), "")
    return F.when(text.rlike(_patterns.java(f".*{UNSAFE_CLASS}.*")), spelled).otherwise(text)


def _repr(text: Column) -> Column:
    """``contract.quoted``: a text in quotes as the row path puts the value it rejects into words.

    Control and invisible characters are written as ``<U+XXXX>``, a backslash
    doubled, the text quoted as Python quotes a string.
    """
    from pyspark.sql import functions as F

    text = _escaped(text)
    escaped = F.replace(text, F.lit("\\"), F.lit("\\\\"))
    double = text.contains("'") & ~text.contains('"')
    return (F.when(double, F.concat(F.lit('"'), escaped, F.lit('"')))
            .otherwise(F.concat(F.lit("'"), F.replace(escaped, F.lit("'"), F.lit("\\'")), F.lit("'"))))


def _campaign_days(windows: Sequence[CampaignWindow], accepted: Column) -> tuple[Column, Column]:
    """The first and last campaign day of the version in force on each ``accepted`` day (null: none)."""
    from pyspark.sql import functions as F

    first: Any = F
    last: Any = F
    for window in windows:
        inside = F.lit(True)
        if window.in_force_from is not None:
            inside = inside & (accepted >= F.lit(window.in_force_from))
        if window.in_force_until is not None:
            inside = inside & (accepted <= F.lit(window.in_force_until))
        first = first.when(inside, F.lit(window.first_day))
        last = last.when(inside, F.lit(window.last_day))
    return first, last


def _checked(policy: Policy, df: DataFrame) -> tuple[DataFrame, DataFrame,
                                                    list[tuple[Column, str, Column]]]:
    """``df`` read and checked, in two steps, with the checks as (fails, field, error).

    The first frame has values normalised and ``local``: the index of the first
    check a row fails on its own. The second adds ``problem``, which also counts
    a repeated account (check 0, first in the row path's order): that needs every
    row of the account, a shuffle. Checks are in the row path's order; added
    columns are named ``_PREFIX`` + name.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from ._contract import message as contract_message
    from ._contract import spark_condition, spark_normal

    def own(name: str) -> Column:
        return F.col(_PREFIX + name)

    present = set(df.columns)
    lookup = {p.name.strip().lower(): code for code, p in policy.packages.items()}
    lookup.update({code.lower(): code for code in policy.packages})
    packages = F.create_map(*[F.lit(part) for pair in lookup.items() for part in pair])
    products = [p.value for p in Product]
    steps = load_contract().steps
    read = {
        "order": F.monotonically_increasing_id(),
        "account": spark_normal(F.col("account_id"), steps("account_id"), _stripped),
        "product_text": spark_normal(F.col("product"), steps("product"), _stripped),
        "switched": spark_normal(F.col("switched_to"), steps("switched_to"), _stripped),
    }
    if "return_reason" in present:
        read["reason"] = spark_normal(F.col("return_reason"), steps("return_reason"), _stripped)
    if "prior_modem" in present:
        read["modem_text"] = spark_normal(F.col("prior_modem"), steps("prior_modem"), _stripped)
    df = df.withColumns({_PREFIX + name: column for name, column in read.items()})
    df = df.withColumns({
        _PREFIX + "account_id": F.when(own("account") != F.lit(""), own("account")),
        _PREFIX + "product": _enum_value(own("product_text"), PRODUCT_ALIASES),
        _PREFIX + "switched_text": F.when(own("switched") != F.lit(""), own("switched")),
    })
    df = df.withColumn(_PREFIX + "switched_to",
                       F.try_element_at(packages, F.lower(own("switched_text"))))

    def got(problem: str, value: Column) -> Column:
        return F.concat(F.lit(f"{problem}; got "), value)

    accepted = F.col("accepted_on")
    no_product = F.coalesce(own("product_text"), F.lit("")) == F.lit("")
    missing_words = load_contract().cell_problem("missing", fields="\x00")
    before, after = missing_words.split("\x00")
    missing = F.concat(F.lit(before), F.concat_ws(
        ", ", F.when(own("account_id").isNull(), F.lit("account_id")),
        F.when(no_product, F.lit("product")), F.when(accepted.isNull(), F.lit("accepted_on"))),
        F.lit(after))
    # Reading the cells, in the row path's order (Enrollment's fields) ...
    checks: list[tuple[Column, str, Column]] = [
        (own("account_id").isNull(), "account_id", missing),
        (no_product, "product", missing),
        (accepted.isNull(), "accepted_on", missing),
        (~own("product").isin(products), "product",
         got(load_contract().cell_problem("enum", values=", ".join(products)), _repr(own("product_text")))),
    ]
    if "prior_modem" in present:
        modems = [m.value for m in PriorModem]
        modem = _enum_value(own("modem_text"), PRIOR_MODEM_ALIASES)
        checks.append((~modem.isin(modems), "prior_modem",
                       got(load_contract().cell_problem("enum", values=", ".join(modems)),
                           _repr(own("modem_text")))))
    # the model reports missing fields first, then the first field it cannot read, in its order
    checks.sort(key=lambda check: (check[2] is not missing, CELL_ORDER[check[1]]))
    # ... then the contract's checks, compiled: the fields and facts they read, by name.
    contract = load_contract()
    rules = (*contract.scoped("record"), *contract.scoped("run", "bill", policy.parameters))
    first_day, last_day = _campaign_days(policy.windows, accepted)
    named: dict[str, Column] = {
        "account_id": own("account_id"),
        "accepted_on": accepted,
        "completed_on": F.col("completed_on"),
        "cancel_requested_on": F.col("cancel_requested_on"),
        "cancel_effective_on": F.col("cancel_effective_on"),
        "returned": F.coalesce(F.col("returned"), F.lit(False)),
        # as every path does: without the column, a returned order has no reason and is rejected
        "return_reason": own("reason") if "return_reason" in present else F.lit(None).cast("string"),
        "switched_to": own("switched_text"),
        "switched_known": own("switched_to").isNotNull(),
        "account_repeated": own("repeated"),
        "campaign_first_day": first_day,
        "campaign_last_day": last_day,
    }
    constants = {"known_packages": ", ".join(policy.packages), **contract.constants(policy.parameters)}
    value_of = {"account_id": own("account_id"), "switched_to": own("switched_text")}
    repeated_at = len(checks) + [c.id for c in rules].index("account.repeated")
    for check in rules:
        value = value_of[check.field] if check.field in value_of else named[check.field]
        date_kind = contract.kind(check.field) == "date"
        shown = value.cast("string") if date_kind else _repr(value)
        nothing = value.isNull() if date_kind else (value.isNull() | (value == F.lit("")))
        words = contract_message(check, constants, named.__getitem__)
        checks.append((spark_condition(check.when, contract.kind, named.__getitem__), check.field,
                       F.when(nothing, words).otherwise(F.concat(words, F.lit("; got "), shown))))
    first: Any = F
    for at, (fails, _name, _words) in enumerate(checks):
        if at != repeated_at:  # needs every row of the account: a shuffle, below
            first = first.when(fails, F.lit(at))
    local = df.withColumn(_PREFIX + "repeated", F.lit(False)).withColumn(_PREFIX + "local", first)
    order = [F.col("source_row").asc_nulls_last()] if "source_row" in present else []
    earlier = Window.partitionBy(own("account_id")).orderBy(*order, own("order"))
    repeated = own("account_id").isNotNull() & (F.row_number().over(earlier) > 1)
    checked = (local.withColumn(_PREFIX + "repeated", repeated)
               .withColumn(_PREFIX + "problem",
                           F.when(own("local") < F.lit(repeated_at), own("local"))
                           .when(own("repeated"), F.lit(repeated_at)).otherwise(own("local"))))
    return local, checked, checks
