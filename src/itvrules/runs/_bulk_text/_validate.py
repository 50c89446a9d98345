"""Enrolment cells checked in bulk: a row passes only when the row path would surely accept it.

Each field is read by the row path's own functions (``cell_value``, the
converter's date and boolean hooks, the model's enum converters), called once
per *distinct* cell value and joined back, so a million rows with a few hundred
distinct dates cost a few hundred parses. The cross-field record checks
(``Enrollment._check_consistency``) then run as column expressions. A row
that fails any check, or whose value this module is not sure of, is marked
not ``ok`` and the row path decides it, error message and all: this module
never writes a reject itself, so its only possible mistake would be to accept
a row the row path rejects, and the differential tests look for exactly that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl

from ...contract import load_contract
from ...frames._contract import any_failed, campaign_days
from ...model._convert import converter
from ...model._enums import PriorModem, Product
from ...model._inputs import _to_prior_modem, _to_product
from ...model._parse import WHITESPACE
from .._rows import TOTAL_MARK_PATTERN, cell_value
from ._batch import ENGINE, ROW, SEQ, Group

if TYPE_CHECKING:
    from ...policy._policy import Policy
    from ...policy._versions import CampaignWindow

#: Days are held as days since 1970-01-01 (polars' Date); these mark a blank and a bad cell.
EPOCH = date(1970, 1, 1).toordinal()
BLANK = -(10**7)
BAD = BLANK - 1
#: Distinct cells remembered per field between batches (dates, codes: a few hundred).
_REMEMBERED = 50_000
#: Account ids of printable ASCII are their own NFKC form: only spaces can be stripped.
_PRINTABLE_ASCII = r"^[\x20-\x7e]*$"


def day_number(day: date) -> int:
    return day.toordinal() - EPOCH


def _blank(value: str) -> bool:
    return not value.strip()  # what itvrules.structure counts as a missing value


def _day(field: str, required: bool) -> Callable[[str], int]:
    def read(cell: str) -> int:
        value = cell_value(field, cell)
        if _blank(value):
            return BAD if required else BLANK
        try:
            return day_number(converter.structure(value, date))
        except Exception:
            return BAD
    return read


def _returned(cell: str) -> int:
    value = cell_value("returned", cell)
    if _blank(value):
        return 0
    try:
        return int(converter.structure(value, bool))
    except Exception:
        return 2


def _product(cell: str) -> str | None:
    value = cell_value("product", cell)
    if _blank(value):
        return None
    product = _to_product(value)
    return product.value if isinstance(product, Product) else None


def _prior_modem_ok(cell: str) -> bool:
    value = cell_value("prior_modem", cell)
    return _blank(value) or isinstance(_to_prior_modem(value), PriorModem)


def _account(cell: str) -> str:
    value = cell_value("account_id", cell)
    return value if isinstance(value, str) else ""


def _switched(package_code: Callable[[str], str | None]) -> Callable[[str], str | None]:
    """A cell of ``switched_to`` as the package code the row path settles on; None when unknown."""
    def read(cell: str) -> str | None:
        value = cell_value("switched_to", cell)
        if _blank(value):
            return ""
        return package_code(value)
    return read


#: How each field's distinct cells are read, and the dtype of the result.
def _readers(package_code: Callable[[str], str | None]) -> dict[str, tuple[Callable[[str], Any], Any]]:
    return {
        "product": (_product, pl.String),
        "returned": (_returned, pl.Int8),
        "accepted_on": (_day("accepted_on", True), pl.Int32),
        "completed_on": (_day("completed_on", False), pl.Int32),
        "cancel_requested_on": (_day("cancel_requested_on", False), pl.Int32),
        "cancel_effective_on": (_day("cancel_effective_on", False), pl.Int32),
        "switched_to": (_switched(package_code), pl.String),
        "prior_modem": (_prior_modem_ok, pl.Boolean),
    }


class TextBatchChecker:
    """Checks groups of rows; remembers what each distinct cell read as, for the whole run."""

    def __init__(self, policy: Policy) -> None:
        self._readers = _readers(policy.package_code)
        self._named = _contract_columns(policy.windows)  # built once: a run has many batches
        contract = load_contract()
        self._checks = any_failed((*contract.scoped("record"),
                                   *contract.scoped("run", "bill", policy.parameters)), contract.kind)
        self._read: dict[str, dict[str, Any]] = {field: {} for field in (*self._readers, "account_id")}

    def check(self, group: Group, index: int) -> pl.DataFrame:
        """The group's rows parsed, ``ok`` where the row path would accept the row as read.

        Two polars queries: the distinct cells of every field, then everything else.
        """
        cells = group.cells
        present = set(cells.columns)

        def column(field: str) -> pl.Expr:
            if field in present:
                return pl.col(field).fill_null("")
            return pl.lit("", pl.String)  # a column the feed lacks: every cell blank

        printable = column("account_id").str.contains(_PRINTABLE_ASCII)
        distinct = cells.select(
            *(column(f).unique().implode().alias(f) for f in self._readers),
            column("account_id").filter(~printable).unique().implode().alias("account_id"),
        ).row(0, named=True)
        mapped: dict[str, pl.Expr] = {}
        for field, (read, dtype) in self._readers.items():
            mapped[field] = self._mapped(field, column(field), distinct[field], read, dtype)
        odd_accounts = self._mapped("account_id", column("account_id"), distinct["account_id"],
                                    _account, pl.String)
        account = pl.when(printable).then(column("account_id").str.strip_chars(" ")) \
            .otherwise(odd_accounts)
        return cells.lazy().select(
            SEQ, ROW,
            account.alias("account"),
            mapped["product"].alias("product"),
            mapped["returned"].alias("ret"),
            (column("return_reason").str.strip_chars(WHITESPACE).str.len_bytes() > 0).alias("reason"),
            mapped["accepted_on"].alias("acc"),
            mapped["completed_on"].alias("comp"),
            mapped["cancel_requested_on"].alias("req"),
            mapped["cancel_effective_on"].alias("eff"),
            mapped["switched_to"].alias("switched"),
            mapped["prior_modem"].alias("modem_ok"),
        ).with_columns(_days()).with_columns(self._named) \
            .with_columns(self._checks.alias("_failed")) \
            .select(*_verdict(group.source, index)).collect(engine=ENGINE)

    def _mapped(self, field: str, cells: pl.Expr, distinct: list[str], read: Callable[[str], Any],
                dtype: Any) -> pl.Expr:
        """``cells`` replaced by what ``read`` makes of each, read once per distinct cell per run."""
        known = self._read[field]
        if len(known) > _REMEMBERED:
            known.clear()  # free text (or account ids) in a field: remembering would not pay
        for cell in distinct:
            if cell not in known:
                known[cell] = read(cell)
        if not distinct:
            return pl.lit(None, dtype)
        return cells.replace_strict(distinct, [known[c] for c in distinct], default=None,
                                    return_dtype=dtype)


def _verdict(source: str, index: int) -> list[pl.Expr | str]:
    """The checked columns: the model's cross-field rules decide ``ok``.

    Expects ``comp``, ``req``, ``eff`` already nulled where blank and ``bad_day``
    set where any of them could not be read (see ``_days``).
    """
    acc, comp, req, eff = pl.col("acc"), pl.col("comp"), pl.col("req"), pl.col("eff")
    returned = pl.col("ret") == 1
    ok = (
        (pl.col("account") != "")
        & ~_IDLESS  # maybe a blank or total row: the row path skips it, or reads it
        & pl.col("product").is_not_null()
        & (acc > BLANK)
        & ~pl.col("bad_day")
        & (pl.col("ret") != 2)
        & pl.col("modem_ok")
        & ~pl.col("_failed")  # the contract's checks (a repeated account: ``_bill._duplicates``)
    ).fill_null(False)
    return [
        SEQ, ROW,
        pl.when((pl.col("account") != "") & ~_IDLESS).then(pl.col("account")).alias("dupkey"),
        ok.alias("ok"),
        pl.lit(source, pl.String).alias("source"),
        "account", "product",
        returned.alias("returned"),
        "acc", "comp",
        pl.coalesce(req, eff).alias("req"),  # a cancellation effective but never requested
        "eff",
        pl.when(pl.col("switched") != "").then(pl.col("switched")).alias("switched"),
        pl.lit(index, pl.Int32).alias("_group"),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_pos"),
        # the fee key's months (_facts.fee_key): -1 for none
        month_of(comp).alias("k_comp"), month_of(pl.coalesce(req, eff)).alias("k_req"),
        month_of(eff).alias("k_eff"),
        pl.col("switched").alias("k_switched"),  # "" for none
    ]


#: An account cell that holds no id, as ``_rows.no_account`` may find it (a total label, a
#: household count): such a row, and a blank one, is left to the row path, which skips it
#: or decides it; a skipped row claims no account.
_IDLESS = pl.col("account").str.contains(TOTAL_MARK_PATTERN) | pl.col("account").str.contains("户")


def _contract_columns(windows: Sequence[CampaignWindow]) -> list[pl.Expr]:
    """The checked cells under the names the contract's checks read (``TextBatchChecker._checks``)."""
    accepted = pl.when(pl.col("acc") > BLANK).then(pl.col("acc"))
    first, last = campaign_days(windows, accepted, day_number)
    named = {
        "account_id": pl.when(pl.col("account") != "").then(pl.col("account")),
        "accepted_on": accepted,
        "completed_on": pl.col("comp"),
        "cancel_requested_on": pl.col("req"),
        "cancel_effective_on": pl.col("eff"),
        "returned": pl.col("ret") == 1,
        # only whether a reason was given is read here: a stand-in text when it was, else empty
        "return_reason": pl.when(pl.col("reason")).then(pl.lit("given")),
        # an unknown package reads as None: kept as a mark, so "not empty and not known" holds
        "switched_to": pl.when(pl.col("switched") == "").then(None)
        .otherwise(pl.coalesce("switched", pl.lit("?"))),
        "switched_known": pl.col("switched").is_not_null(),
        "account_repeated": pl.lit(False),
        "campaign_first_day": first,
        "campaign_last_day": last,
    }
    return [expr.alias(name) for name, expr in named.items()]


def month_of(days: pl.Expr) -> pl.Expr:
    """The month index (year * 12 + month - 1) of a day number, -1 for none."""
    day = days.cast(pl.Date)
    return (day.dt.year().cast(pl.Int32) * 12 + day.dt.month().cast(pl.Int32) - 1).fill_null(-1)


def _days() -> list[pl.Expr]:
    """``bad_day`` where an optional date could not be read; blank dates become null."""
    days = ("comp", "req", "eff")
    return [
        pl.any_horizontal(*(pl.col(c) == BAD for c in days)).alias("bad_day"),
        *(pl.when(pl.col(c) > BLANK).then(pl.col(c)).alias(c) for c in days),
    ]
