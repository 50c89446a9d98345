"""Fuzz: account ids as copy-paste and input methods bring them, through every feed path.

Hypothesis builds feeds whose account ids are decorated with format characters
(zero-width spaces, direction marks, the byte order mark, the soft hyphen),
full-width forms and spaces, or are any Unicode text at all, and bills each feed
on the row path, the columnar CSV path and the Parquet path. Every path must
give the same export and the same rejects, count every row (rows in = decided +
rejected + skipped), raise nothing but the library's own errors, and see each
decorated id as the account it decorates.
"""

from __future__ import annotations

import csv
import sys
import tracemalloc
import unicodedata
from pathlib import Path
from tempfile import TemporaryDirectory

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

import itvrules
from itvrules.contract import normal

POLICY = itvrules.load_policy()
PM = itvrules.plugin_manager(autoload=False)
COLUMNS = ("account_id", "product", "accepted_on", "completed_on", "cancel_requested_on",
           "cancel_effective_on", "switched_to")
#: Each example bills a feed three times: the ``ci`` profile's 400 would take minutes, so the quick
#: profiles try 150 feeds a test; ``deep`` (``make fuzz``) tries all it asks for.
EXAMPLES = settings.default.max_examples if settings.default.max_examples > 400 \
    else min(settings.default.max_examples, 150)
#: A run of a few dozen rows stays far below this (the interpreter's own allocations, traced).
PEAK_BYTES = 64 * 1024 * 1024

FORMAT = st.sampled_from([chr(c) for c in range(sys.maxunicode + 1)
                          if unicodedata.category(chr(c)) == "Cf"])
SPACES = st.text(" \u3000\t\u00a0", max_size=2)
BASE = st.from_regex(r"[0-9]{6,10}|[A-Za-z][A-Za-z0-9@._-]{0,8}", fullmatch=True)


@st.composite
def decorated(draw: st.DrawFn) -> tuple[str, str]:
    """(an id as a feed might hold it, the account it is)."""
    account = draw(BASE)
    text = account
    if draw(st.booleans()):
        text = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    for at, mark in draw(st.lists(st.tuples(st.integers(0, 20), FORMAT), max_size=4)):
        cut = at % (len(text) + 1)
        text = text[:cut] + mark + text[cut:]
    return draw(SPACES) + text + draw(SPACES), account


#: Ids of any Unicode (surrogates cannot be written as UTF-8).
ANY_ID = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


def write_feed(folder: Path, ids: list[str], packages: list[str]) -> tuple[Path, Path]:
    rows = [{"account_id": a, "product": "brand", "accepted_on": "2025-04-01",
             "completed_on": "2025-04-02", "cancel_requested_on": "", "cancel_effective_on": "",
             "switched_to": p} for a, p in zip(ids, packages, strict=True)]
    text = folder / "feed.csv"
    with text.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    parquet = folder / "feed.parquet"
    pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String)).write_parquet(parquet)
    return text, parquet


def bill(folder: Path, feed: Path, name: str, backend: str) -> tuple[list[tuple[str, ...]],
                                                                        list[tuple[str, ...]]]:
    """(account, code) decided and (row, field, error) rejected by one path."""
    out = folder / f"{name}.{'parquet' if feed.suffix == '.parquet' else 'csv'}"
    rejects = folder / f"{name}.rejects.csv"
    try:
        summary = itvrules.run_bill(POLICY, "2025-07", [str(feed)], str(out), rejects=str(rejects),
                                    backend=backend, pm=PM)
    except itvrules.ItvRulesError as error:  # the library's own error is an answer, anything else fails
        return [("error", str(error))], []
    assert summary.rows_in == summary.decided + summary.rejected + summary.skipped
    if out.suffix == ".parquet":
        decided = [tuple(r) for r in pl.read_parquet(out).select("account_id", "code").rows()]
    else:
        with out.open(encoding="utf-8-sig", newline="") as handle:
            decided = [(r["account_id"], r["code"]) for r in csv.DictReader(handle)]
    found = []
    if rejects.exists():
        with rejects.open(encoding="utf-8-sig", newline="") as handle:
            found = [(r["source_row"], r["field"], r["error"]) for r in csv.DictReader(handle)]
    assert len(decided) == summary.decided and len(found) == summary.rejected
    return decided, found


def every_path(ids: list[str], packages: list[str]) -> list[tuple[list[tuple[str, ...]],
                                                                  list[tuple[str, ...]]]]:
    with TemporaryDirectory() as name:
        folder = Path(name)
        text, parquet = write_feed(folder, ids, packages)
        found = [bill(folder, text, "rows", "rows"), bill(folder, text, "columnar", "columnar")]
        parquet_bill, parquet_rejects = bill(folder, parquet, "parquet", "columnar")
        # a Parquet file has no header line: its rows count from 1, a CSV's from 2
        found.append((parquet_bill, [(str(int(r) + 1), f, e) for r, f, e in parquet_rejects]))
        return found


@settings(max_examples=EXAMPLES)
@given(st.lists(decorated(), min_size=1, max_size=12),
       st.lists(st.sampled_from(["", "ｑｕａｎｎｅｎｇ", "\u200bhd", " ＨＤ ", "basic\u2060"]),
                min_size=12, max_size=12))
def test_decorated_ids_are_their_account_on_every_path(pairs: list[tuple[str, str]],
                                                       packages: list[str]) -> None:
    ids = [text for text, _account in pairs]
    assert [normal("account_id", text) for text in ids] == [a for _t, a in pairs]
    tracemalloc.start()
    try:
        rows, columnar, parquet = every_path(ids, packages[:len(ids)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows == columnar == parquet
    decided, _rejected = rows
    # one trial per account: each account billed once, whatever its decorations
    assert sorted(a for a, _code in decided) == sorted(set(accounts := [a for _t, a in pairs]))
    assert len(decided) == len(set(accounts))
    assert peak < PEAK_BYTES


@settings(max_examples=EXAMPLES)
@given(st.lists(ANY_ID, min_size=1, max_size=12))
def test_any_unicode_id_is_decided_or_rejected_alike_on_every_path(ids: list[str]) -> None:
    rows, columnar, parquet = every_path(ids, [""] * len(ids))
    assert rows == columnar == parquet
