"""The columnar eligibility backend (Polars) decides exactly as Policy.eligibility, row by row.

The row path on the compiled engine is the reference; the durable engine is
held to it on the same rows, so the frame agrees with both.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import itvrules
from itvrules.frames._eligibility import ELIGIBILITY_DECISION_COLUMNS, SUBSCRIBER_COLUMNS
from itvrules.policy._resources import default_policy_path
from paths import ROOT
from pythons import ENGINES_HERE
from strategies import accepted_dates, account_ids, plan_codes, subscribers

POLICY = itvrules.load_policy()
PRODUCT_CELLS = ("brand", "annual", "single_monthly", "品牌", "包年", "单宽月租", " Brand ", "ANNUAL",
                 "ｂｒａｎｄ")
COMMUNITY_CELLS = (None, "none", "upgrading", "upgraded", "未提速", "正在提速", "已提速", " Upgraded")


def _bench() -> ModuleType:
    path = ROOT / "benchmarks" / "bench_eligibility.py"
    spec = importlib.util.spec_from_file_location("bench_eligibility", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def frame_of(items: list[tuple[itvrules.Subscriber, date]]) -> pl.DataFrame:
    rows = [{"account_id": s.account_id, "plan": s.plan, "product": s.product.value,
             "community": s.community.value, "new_install": s.new_install, "has_itv": s.has_itv,
             "line_ready": s.line_ready, "accepted_on": day} for s, day in items]
    return pl.DataFrame(rows, schema=SUBSCRIBER_COLUMNS)


def subscriber_of(row: dict[str, Any]) -> itvrules.Subscriber:
    """The row as the row path reads it: a null cell is the field's default."""
    return itvrules.Subscriber(**{k: v for k, v in row.items() if v is not None and k != "accepted_on"})


def expected(policy: itvrules.Policy, items: list[tuple[itvrules.Subscriber, date]],
             engine: str) -> pl.DataFrame:
    """``Policy.eligibility`` of every item on ``engine``, as a frame of the output columns."""
    decided = [policy.eligibility(sub, accepted_on=day, engine=engine) for sub, day in items]
    return pl.DataFrame([tuple(getattr(e, c) for c in ELIGIBILITY_DECISION_COLUMNS) for e in decided],
                        schema={c: pl.Boolean if c in ("eligible", "review") else pl.String
                                for c in ELIGIBILITY_DECISION_COLUMNS}, orient="row")


def assert_agrees(policy: itvrules.Policy, frame: pl.DataFrame | pl.LazyFrame,
                  items: list[tuple[itvrules.Subscriber, date]], **kwargs: Any) -> pl.DataFrame:
    """The frame's decisions equal the compiled row path's, every column; durable's equal both."""
    decided = policy.eligibility_frame(frame, **kwargs)
    assert decided.columns == list(ELIGIBILITY_DECISION_COLUMNS)
    compiled = expected(policy, items, "compiled")
    assert_frame_equal(decided, compiled)
    for engine in ENGINES_HERE[1:]:
        assert_frame_equal(expected(policy, items, engine), compiled)
    return decided


@settings(max_examples=60)
@given(st.lists(st.tuples(subscribers(), accepted_dates()), min_size=1, max_size=60))
def test_frame_agrees_with_eligibility(items: list[tuple[itvrules.Subscriber, date]]) -> None:
    assert_agrees(POLICY, frame_of(items), items)
    assert_agrees(POLICY, frame_of(items).lazy(), items)


@st.composite
def raw_rows(draw: st.DrawFn) -> dict[str, Any]:
    """A subscriber row as a feed spells it: aliases and odd case, null cells for defaults."""
    flag = st.one_of(st.none(), st.booleans())
    return {"account_id": draw(account_ids()), "plan": draw(plan_codes()),
            "product": draw(st.sampled_from(PRODUCT_CELLS)),
            "community": draw(st.sampled_from(COMMUNITY_CELLS)),
            "new_install": draw(flag), "has_itv": draw(flag), "line_ready": draw(flag),
            "accepted_on": draw(accepted_dates())}


@settings(max_examples=60)
@given(st.lists(raw_rows(), min_size=1, max_size=40))
def test_cells_are_read_as_subscriber_reads_them(rows: list[dict[str, Any]]) -> None:
    items = [(subscriber_of(row), row["accepted_on"]) for row in rows]
    assert_agrees(POLICY, pl.DataFrame(rows, schema=SUBSCRIBER_COLUMNS), items)


def test_many_spellings_of_products_and_communities() -> None:
    """More distinct cells than equality tests are used for: read by lookup, as Subscriber reads them."""
    products = [*PRODUCT_CELLS, "brand ", "BRAND", "Brand", "annual ", "Single_Monthly", " 品牌"]
    communities = [*COMMUNITY_CELLS, "NONE", "none ", "UPGRADING", "Upgrading", "ｕｐｇｒａｄｅｄ",
                   " 已提速", "未提速 "]
    assert len(products) > 12 and len(communities) > 12
    rows = [{"account_id": f"S{i}", "plan": plan, "product": products[i % len(products)],
             "community": communities[i % len(communities)], "new_install": i % 3 == 0,
             "has_itv": None, "line_ready": None, "accepted_on": date(2025, 4, 1)}
            for i, plan in enumerate(["e6-49", "e8-68", "e9-139", "e8-58"] * 60)]
    items = [(subscriber_of(row), row["accepted_on"]) for row in rows]
    assert_agrees(POLICY, pl.DataFrame(rows, schema=SUBSCRIBER_COLUMNS), items)
    bad = [*rows, {**rows[0], "account_id": "BAD", "product": "gold"}]
    with pytest.raises(itvrules.InputError, match="account BAD") as caught:
        POLICY.eligibility_frame(pl.DataFrame(bad, schema=SUBSCRIBER_COLUMNS))
    assert (caught.value.field, caught.value.row) == ("product", len(rows))


@settings(max_examples=30)
@given(st.lists(subscribers(), min_size=1, max_size=40), accepted_dates())
def test_one_acceptance_day_for_every_row(subs: list[itvrules.Subscriber], day: date) -> None:
    items = [(s, day) for s in subs]
    assert_agrees(POLICY, frame_of(items).drop("accepted_on"), items, accepted_on=day)


def test_a_hundred_thousand_random_subscribers() -> None:
    """Seeded rows over and around the campaign window; every eligibility rule decides some."""
    bench = _bench()
    frame = bench.make_subscribers(100_000, POLICY, seed=11)
    first, last = POLICY.campaign_window
    days = frame.get_column("accepted_on")
    assert days.min() < first and days.max() > last  # type: ignore[operator]
    assert {first, last} <= set(days.to_list())
    items = [(subscriber_of(row), row["accepted_on"]) for row in frame.iter_rows(named=True)]
    decided = assert_agrees(POLICY, frame, items)
    fired = set(decided.get_column("rule").unique().to_list())
    assert fired == {rule.id for rule in POLICY.rules("eligibility")}
    assert decided.get_column("review").any() and not decided.get_column("review").all()


def test_text_columns_may_be_categorical_and_nulls_take_the_defaults() -> None:
    sub = itvrules.Subscriber(account_id="A1", plan="e8-68", product="brand")
    day = date(2025, 4, 1)
    frame = pl.DataFrame({"account_id": ["A1"], "plan": ["e8-68"], "product": ["brand"],
                          "community": [None], "new_install": [None], "has_itv": [None],
                          "line_ready": [None], "accepted_on": [day]})
    categorical = frame.with_columns(pl.col("account_id", "plan").cast(pl.Categorical),
                                     pl.col("product").cast(pl.Enum(["brand", "annual"])))
    for given_frame in (frame, categorical):
        assert_agrees(POLICY, given_frame, [(sub, day)])
    decided = POLICY.eligibility_frame(frame).row(0, named=True)
    assert decided["rule"] == "elig.legacy_plan" and decided["segment"] == "legacy_plan"
    empty = POLICY.eligibility_frame(frame.clear())
    assert empty.height == 0 and empty.columns == list(ELIGIBILITY_DECISION_COLUMNS)


# -- bad frames ------------------------------------------------------------------------------------


def _good(count: int = 3) -> pl.DataFrame:
    return pl.DataFrame({
        "account_id": [f"A{i}" for i in range(count)], "plan": ["e8-68"] * count,
        "product": ["brand"] * count, "community": ["none"] * count,
        "new_install": [False] * count, "has_itv": [False] * count, "line_ready": [True] * count,
        "accepted_on": [date(2025, 4, 1)] * count}, schema=SUBSCRIBER_COLUMNS)


def _spoiled(row: int, column: str, value: Any) -> pl.DataFrame:
    frame = _good()
    cells = frame.get_column(column).to_list()
    cells[row] = value
    return frame.with_columns(pl.Series(column, cells, dtype=SUBSCRIBER_COLUMNS[column]))


def test_missing_and_mistyped_columns_are_input_errors() -> None:
    with pytest.raises(itvrules.InputError, match="lacks these columns") as caught:
        POLICY.eligibility_frame(_good().drop("plan", "line_ready"))
    assert caught.value.value == ["plan", "line_ready"]
    with pytest.raises(itvrules.InputError, match="lacks these columns") as caught:
        POLICY.eligibility_frame(_good().drop("accepted_on"))
    assert caught.value.value == ["accepted_on"]
    with pytest.raises(itvrules.InputError, match="one way, not both"):
        POLICY.eligibility_frame(_good(), accepted_on=date(2025, 4, 1))
    with pytest.raises(itvrules.InputError, match=r"datetime\.date"):
        POLICY.eligibility_frame(_good().drop("accepted_on"), accepted_on=datetime(2025, 4, 1))
    with pytest.raises(itvrules.InputError, match="Boolean and Date") as caught:
        POLICY.eligibility_frame(_good().with_columns(pl.col("accepted_on").cast(pl.String),
                                                      pl.col("has_itv").cast(pl.Int8)))
    assert caught.value.value == {"has_itv": "Int8", "accepted_on": "String"}
    with pytest.raises(itvrules.InputError, match="Polars"):
        POLICY.eligibility_frame([{"account_id": "A1"}])


@pytest.mark.parametrize(("column", "value", "field"), [
    ("account_id", None, "account_id"),
    ("account_id", "  ", "account_id"),
    ("account_id", "\u3000\t", "account_id"),
    ("plan", None, "plan"),
    ("product", None, "product"),
    ("product", "gold", "product"),
    ("community", "sped-up", "community"),
    ("accepted_on", None, "accepted_on"),
])
def test_an_invalid_cell_names_its_row_account_and_field(column: str, value: Any, field: str) -> None:
    with pytest.raises(itvrules.InputError) as caught:
        POLICY.eligibility_frame(_spoiled(1, column, value))
    error = caught.value
    assert (error.field, error.source, error.row) == (field, "frame", 1)
    if column != "account_id":
        assert "account A1" in str(error)
        assert error.value == value


def test_the_first_bad_row_is_named() -> None:
    frame = _spoiled(2, "product", "gold").with_columns(
        pl.when(pl.int_range(pl.len()) == 1).then(pl.lit(" ")).otherwise(pl.col("account_id"))
        .alias("account_id"))
    with pytest.raises(itvrules.InputError) as caught:
        POLICY.eligibility_frame(frame)
    assert (caught.value.field, caught.value.row) == ("account_id", 1)
    # Ids that start with a space or beyond ASCII are looked at closely, not refused for it.
    odd = _good().with_columns(pl.Series("account_id", [" A0", "伊山000001", "\u3000A2"]))
    assert POLICY.eligibility_frame(odd).get_column("account_id").to_list() == [
        " A0", "伊山000001", "\u3000A2"]


def test_a_gap_in_the_eligibility_table_names_the_first_account(tmp_path: Path) -> None:
    text = default_policy_path().read_text(encoding="utf-8")
    old = "    when: {}\n    then: {eligible: false, reason: plan_below_threshold}\n"
    assert text.count(old) == 1
    path = tmp_path / "gap.yaml"
    path.write_text(text.replace(old, "    when: {plan_family: e6}\n"
                                      "    then: {eligible: false, reason: plan_below_threshold}\n"),
                    encoding="utf-8")
    gap = itvrules.load_policy(path)
    frame = _good().with_columns(pl.Series("plan", ["e8-68", "e6-49", "e8-58"]))
    with pytest.raises(itvrules.InputError, match="no eligibility rule") as caught:
        gap.eligibility_frame(frame)
    assert (caught.value.value, caught.value.row) == ("A2", 2)
