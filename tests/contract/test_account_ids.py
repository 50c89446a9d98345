"""Account ids checked by the input contract (SPEC §11, CONVENTIONS "Identity").

An id is read in its normal form (the contract's ``normal_form``: format
characters such as a zero-width space or a direction mark removed, NFKC,
stripped). An id a spreadsheet would run as a formula, one it already turned
into a number, one that holds a control character and one outside the
policy's pattern (``parameters.account_id_pattern``) are rejected with the
most specific words, on every path: the row path's Python, the Polars
expression of the bulk paths, Spark; a policy with another pattern decides
otherwise on every path; the words never show a hidden character as it is.
"""

from __future__ import annotations

import csv
import re
import sys
import unicodedata
import zipfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import itvrules
from itvrules.contract import (
    UNSAFE_CLASS,
    PythonChecks,
    RunChecks,
    escaped,
    load_contract,
    normal,
    quoted,
)
from itvrules.frames._contract import first_failed
from itvrules.policy import _patterns
from itvrules.policy._conditions import holds
from itvrules.schema import ENROLLMENT_POLARS
from paths import ROOT

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

CONTRACT = load_contract()
POLICY = itvrules.load_policy()
SHIPPED = ROOT / "rulesets" / "itv-trial.yaml"
ACCOUNT_CHECKS = ("account.control_character", "account.number_form", "account.formula",
                  "account.stock_stream", "account.pattern")
DAY = date(2025, 4, 1)


def account_check(policy: itvrules.Policy, run: str, account: str) -> str | None:
    """The id of the run check that rejects an otherwise good row with ``account``, or None."""
    error = RunChecks(policy, run).error(account_id=account, accepted_on=DAY)
    if error is None:
        return None
    return next(c.id for c in CONTRACT.checks if c.field == error.field
                and error.problem.startswith(c.message.split("{")[0]))


@pytest.mark.parametrize(("account", "check"), [
    ("A001", None),
    ("0000123", None),  # leading zeros are an id's own (SPEC §11)
    ("ad12345678@163.gd", None),
    ("C07.x_y-z", None),
    ('=HYPERLINK("http://x.example","账单")', "account.formula"),
    ("=1+1", "account.formula"),
    ("+A1", "account.formula"),
    ("-A1", "account.formula"),
    ("@SUM(A1)", "account.formula"),
    ("depot:城关", "account.stock_stream"),  # the ledger's stock streams are named so
    ("  =1", "account.formula"),
    ("1E5", "account.number_form"),
    ("1e5", "account.number_form"),
    ("1.2e+07", "account.number_form"),
    ("-3e2", "account.number_form"),
    ("+1E-5", "account.number_form"),
    (".5E1", "account.number_form"),
    ("1.234567890123457e+18", "account.number_form"),
    ("2024E001", "account.number_form"),  # Excel reads it as 2.024E+04
    ("A00\n1", "account.control_character"),
    ("A\r1", "account.control_character"),
    ("A\t1", "account.control_character"),
    ("A\x001", "account.control_character"),
    ("A\x7f1", "account.control_character"),
    ("A\x851", "account.control_character"),
    ("A\u20281", "account.control_character"),
    ("A\u20291", "account.control_character"),
    ("=A\n1", "account.control_character"),  # a control character first: its words say more
    # format characters copy-paste brings are removed before any check reads the id
    ("A\u200b1", None),
    ("A\ufeff1", None),
    ("A\u202e1", None),
    ("\u00ad8410950407\u180e", None),
    ("A\U000e00411", None),
    ("=\u200b1", "account.formula"),
    ("\u200b=1", "account.formula"),
    ("账号001", "account.pattern"),
    ("A 001", "account.pattern"),
    ("A\u3000001", "account.pattern"),
    ("O'Brien", "account.pattern"),
    ("A#1", "account.pattern"),
    ("ＡＢ１", None),  # NFKC: full-width letters and digits are ASCII
    ("１Ｅ５", "account.number_form"),
])
def test_each_id_is_rejected_by_its_most_specific_check_in_every_run(account: str,
                                                                    check: str | None) -> None:
    for run in ("bill", "eligibility", "fees"):
        assert account_check(POLICY, run, normal("account_id", account)) == check, run


def test_the_checks_come_first_among_the_run_checks_in_their_order() -> None:
    ids = [c.id for c in CONTRACT.scoped("run", "bill")]
    assert ids[:len(ACCOUNT_CHECKS)] == list(ACCOUNT_CHECKS)
    for check in CONTRACT.checks:
        if check.id in ACCOUNT_CHECKS:
            assert check.clause == "feed contract: account ids" and check.field == "account_id"
            assert check.runs == ("bill", "eligibility", "fees")


def test_the_pattern_check_says_the_policys_pattern_in_words() -> None:
    error = RunChecks(POLICY, "bill").error(account_id="账号1", accepted_on=DAY)
    assert error is not None
    assert error.problem == ("not an account id this policy allows: an id is one or more of A-Z, "
                             "a-z, 0-9, @, ., _ and - (parameters.account_id_pattern)")


# -- hidden characters: one set, escaped in words; removed from ids, or rejected ---------------------

UNSAFE_CATEGORIES = ("Cc", "Cf", "Zl", "Zp")
#: Control characters and line breaks: an id holding one inside is rejected.
CONTROL_CATEGORIES = ("Cc", "Zl", "Zp")


def test_every_control_and_invisible_character_is_in_the_set() -> None:
    unsafe = re.compile(UNSAFE_CLASS)
    check = next(c for c in CONTRACT.checks if c.id == "account.control_character")
    in_check = _patterns.python(check.when.value)  # type: ignore[union-attr]
    removed = next(s.pattern for s in CONTRACT.steps("account_id") if s.kind == "remove")
    in_removal = _patterns.python(removed)  # type: ignore[arg-type]
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        listed = unsafe.fullmatch(char) is not None
        if category in UNSAFE_CATEGORIES:
            assert listed, f"U+{code:04X} ({category}) is not in UNSAFE_CLASS"
        elif listed:  # added by a later Unicode than this Python's
            assert category == "Cn", f"U+{code:04X} ({category}) is in UNSAFE_CLASS"
        # the words escape exactly what an id loses (format characters) or is rejected for
        rejected = in_check.fullmatch(f"A{char}1") is not None
        dropped = in_removal.fullmatch(char) is not None
        assert rejected is (category in CONTROL_CATEGORIES), f"U+{code:04X}"
        assert dropped is (listed and not rejected), f"U+{code:04X}"


def test_words_show_a_hidden_character_by_its_code_point() -> None:
    assert escaped("A\n1\u200b\U000e0041") == "A<U+000A>1<U+200B><U+E0041>"
    assert escaped("账号 A-1") == "账号 A-1"
    assert quoted("A\n1") == "'A<U+000A>1'"
    assert quoted("O'Brien") == '"O\'Brien"'
    assert quoted("say \"it's\"") == "'say \"it\\'s\"'"
    assert quoted("C:\\x") == "'C:\\\\x'"


# -- hypothesis: every path agrees, and the checks mean what they say -------------------------------

ACCEPTED = _patterns.python("[A-Za-z0-9@._-]+")
UNSAFE_CHARS = st.sampled_from([chr(c) for c in range(sys.maxunicode + 1)
                                if unicodedata.category(chr(c)) in CONTROL_CATEGORIES])
FORMAT_CHARS = st.sampled_from([chr(c) for c in range(sys.maxunicode + 1)
                                if unicodedata.category(chr(c)) == "Cf"])


def spreadsheet_number(account: str) -> bool:
    """A number with an exponent, as Python reads one (Excel does not read ``_``, inf or nan)."""
    try:
        float(account)
    except ValueError:
        return False
    return "e" in account.lower() and "_" not in account and account.isascii()


def run_checks(policy: itvrules.Policy, accounts: list[str]) -> list[str | None]:
    return [account_check(policy, "bill", a) for a in accounts]


def polars_checks(policy: itvrules.Policy, accounts: list[str]) -> list[str | None]:
    checks = CONTRACT.scoped("run", "bill", policy.parameters)
    frame = pl.DataFrame({"account_id": accounts, "accepted_on": [DAY] * len(accounts)},
                         schema={"account_id": pl.String, "accepted_on": pl.Date})
    frame = frame.with_columns(account_repeated=pl.lit(False), switched_to=pl.lit(None, pl.String),
                               switched_known=pl.lit(True), campaign_first_day=pl.lit(date(2025, 3, 20)),
                               campaign_last_day=pl.lit(date(2025, 5, 31)))
    found = frame.select(first_failed(checks, CONTRACT.kind)).to_series().to_list()
    return [checks[at].id if at >= 0 else None for at in found]


@given(st.lists(st.from_regex(ACCEPTED, fullmatch=True), min_size=1, max_size=20))
def test_an_id_the_pattern_accepts_is_rejected_only_as_a_formula_or_a_number(
        accounts: list[str]) -> None:
    expected = ["account.number_form" if spreadsheet_number(a)
                else "account.formula" if a[0] in "=+-@" else None for a in accounts]
    assert run_checks(POLICY, accounts) == expected
    assert polars_checks(POLICY, accounts) == expected


@given(st.from_regex(ACCEPTED, fullmatch=True),
       st.lists(st.tuples(st.integers(min_value=0), FORMAT_CHARS), max_size=6),
       st.booleans(), st.text(" \u3000\t", max_size=3))
def test_format_characters_full_width_forms_and_spaces_leave_one_account(
        account: str, marks: list[tuple[int, str]], wide: bool, spaces: str) -> None:
    decorated = account
    for at, mark in marks:
        cut = at % (len(decorated) + 1)
        decorated = decorated[:cut] + mark + decorated[cut:]
    if wide:  # full-width forms of ASCII, as an input method types them
        decorated = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in decorated)
    assert normal("account_id", spaces + decorated + spaces) == account
    assert normal("account_id", normal("account_id", decorated)) == account  # idempotent


#: Ids as a run holds them: never blank (a blank id is a missing one, rejected as such).
IDS = st.text(max_size=10).filter(lambda a: bool(a.strip()))


@given(st.lists(st.tuples(st.text(max_size=6), UNSAFE_CHARS, st.text(max_size=6))
                .filter(lambda p: bool("".join(p).strip())), min_size=1, max_size=20))
def test_an_id_holding_a_control_character_is_rejected(
        parts: list[tuple[str, str, str]]) -> None:
    accounts = ["".join(p) for p in parts]
    assert run_checks(POLICY, accounts) == ["account.control_character"] * len(accounts)
    assert polars_checks(POLICY, accounts) == ["account.control_character"] * len(accounts)
    for account in accounts:
        assert not re.search(UNSAFE_CLASS, escaped(account))


@given(st.lists(IDS, min_size=1, max_size=30))
def test_python_polars_and_the_plain_reading_agree_on_any_id(accounts: list[str]) -> None:
    checks = CONTRACT.scoped("run", "bill", POLICY.parameters)
    compiled = PythonChecks(checks, "accounts", CONTRACT.kind)
    constants = CONTRACT.constants(POLICY.parameters)
    in_bulk = polars_checks(POLICY, accounts)
    for account, bulk in zip(accounts, in_bulk, strict=True):
        facts = {"account_id": account, "accepted_on": DAY, "account_repeated": False,
                 "switched_to": None, "switched_known": True, "known_packages": "",
                 "campaign_first_day": date(2025, 3, 20), "campaign_last_day": date(2025, 5, 31),
                 **constants}
        plain = next((c.id for c in checks if holds(c.when, facts)), None)
        found = compiled.first_failed(facts)
        assert (found.id if found else None) == plain == bulk, account


# -- a policy's own pattern, on every path ----------------------------------------------------------

#: Eight digits: the ids of an operator whose accounts are numbers kept as text.
DIGITS = "[0-9]{8}"
ROWS = [("C01", "2025-03-25", "2025-03-31"), ("07310001", "2025-03-25", "2025-03-31"),
        ("0731000", "2025-04-02", "2025-04-03")]
COLUMNS = ("account_id", "product", "accepted_on", "completed_on", "cancel_requested_on",
           "cancel_effective_on")


def digits_policy(tmp_path: Path) -> itvrules.Policy:
    shipped = SHIPPED.read_text(encoding="utf-8")
    old = next(x for x in shipped.splitlines() if x.strip().startswith("account_id_pattern:"))
    path = tmp_path / "digits.yaml"
    path.write_text(shipped.replace(old, f'  account_id_pattern: "{DIGITS}"'), encoding="utf-8")
    return itvrules.load_policy(path)


def feed_rows() -> list[dict[str, str]]:
    return [{"account_id": a, "product": "brand", "accepted_on": acc, "completed_on": comp,
             "cancel_requested_on": "", "cancel_effective_on": ""} for a, acc, comp in ROWS]


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def enrolment_frame(rows: list[tuple[str, date, date]]) -> pl.DataFrame:
    """Enrolments (account, accepted, completed) as the frame API takes them."""
    return pl.DataFrame([{"account_id": a, "product": "brand", "accepted_on": acc, "completed_on": comp,
                          "returned": False} for a, acc, comp in rows],
                        schema=ENROLLMENT_POLARS)


def decided_by_path(policy: itvrules.Policy, tmp_path: Path,
                    spark: SparkSession) -> dict[str, tuple[list[str], list[tuple[str, str]]]]:
    """(accounts decided, (account, error) rejected) of the feed ``ROWS``, by path."""
    pm = itvrules.plugin_manager(autoload=False)
    feed = write_csv(tmp_path / "crm.csv", feed_rows())
    found = {}
    for backend in ("rows", "columnar"):
        out = tmp_path / f"{backend}.csv"
        summary = itvrules.run_bill(policy, "2025-07", [str(feed)], str(out), backend=backend, pm=pm)
        rejects = read_csv(tmp_path / f"{backend}.rejects.csv")
        assert summary.rows_in == summary.decided + summary.rejected == len(ROWS)
        found[backend] = ([r["account_id"] for r in read_csv(out)],
                          [(r["account_id"], r["error"]) for r in rejects])
    parquet = tmp_path / "crm.parquet"
    pl.DataFrame(feed_rows(), schema=dict.fromkeys(COLUMNS, pl.String)).write_parquet(parquet)
    summary = itvrules.run_bill(policy, "2025-07", [str(parquet)], str(tmp_path / "bill.parquet"),
                                pm=pm)
    assert summary.rows_in == summary.decided + summary.rejected == len(ROWS)
    found["parquet"] = (pl.read_parquet(tmp_path / "bill.parquet")["account_id"].to_list(),
                        pl.read_parquet(tmp_path / "bill.rejects.parquet")
                        .select("account_id", "error").rows())
    frame = enrolment_frame([(a, date.fromisoformat(acc), date.fromisoformat(comp))
                             for a, acc, comp in ROWS])
    refused: list[tuple[str, str]] = []

    def keep(row: Any, error: itvrules.InputError) -> None:
        refused.append((row["account_id"], error.problem))

    decided = [d.account_id for d in policy.fees(frame, "2025-07", on_error=keep)]
    found["frame"] = (decided, refused)
    objects = [itvrules.Enrollment(account_id=a, product="brand", accepted_on=date.fromisoformat(acc),
                                   completed_on=date.fromisoformat(comp)) for a, acc, comp in ROWS]
    refused = []
    decided = [d.account_id for d in policy.fees(objects, "2025-07", backend="rows",
                                                 on_error=lambda item, e: refused.append(
                                                     (item.account_id, e.problem)))]
    found["objects"] = (decided, refused)
    sparked = spark.createDataFrame(
        [(a, "brand", date.fromisoformat(acc), date.fromisoformat(comp), False, None, None, None)
         for a, acc, comp in ROWS],
        "account_id string, product string, accepted_on date, completed_on date, returned boolean, "
        "cancel_requested_on date, cancel_effective_on date, switched_to string")
    bill = policy.fees_spark(sparked, "2025-07", rejects=True)
    found["spark"] = (sorted(r["account_id"] for r in bill.decided.collect()),
                      [(r["account_id"], r["error"]) for r in bill.rejected.collect()])
    return found


def test_a_policy_with_another_pattern_decides_otherwise_on_every_path(
        tmp_path: Path, spark: SparkSession) -> None:
    (tmp_path / "shipped").mkdir()
    (tmp_path / "digits").mkdir()
    shipped = decided_by_path(POLICY, tmp_path / "shipped", spark)
    digits = decided_by_path(digits_policy(tmp_path), tmp_path / "digits", spark)
    words = ("not an account id this policy allows: an id is exactly 8 of 0-9 "
             "(parameters.account_id_pattern)")
    for path in shipped:
        assert sorted(shipped[path][0]) == ["0731000", "07310001", "C01"], path
        assert shipped[path][1] == [], path
        assert sorted(digits[path][0]) == ["07310001"], path
        assert sorted(a for a, _e in digits[path][1]) == ["0731000", "C01"], path
        assert all(e.startswith(words) for _a, e in digits[path][1]), (path, digits[path][1])
    assert digits["rows"] == digits["columnar"]
    assert digits["parquet"][1] == digits["rows"][1]
    assert sorted(digits["spark"][1]) == sorted(digits["rows"][1])


def test_an_eligibility_run_rejects_bad_ids_and_counts_every_row(tmp_path: Path) -> None:
    header = "account_id,plan,product,community,new_install,has_itv,line_ready,accepted_on\n"
    feed = tmp_path / "subscribers.csv"
    feed.write_text(header + "S001,e8-68,brand,none,false,false,true,2025-04-01\n"
                             "=1+1,e8-68,brand,none,false,false,true,2025-04-01\n"
                             "1E5,e8-68,brand,none,false,false,true,2025-04-01\n"
                             '"S\n004",e8-68,brand,none,false,false,true,2025-04-01\n'
                             "S 005,e8-68,brand,none,false,false,true,2025-04-01\n"
                             ",,,,,,,\n", encoding="utf-8")
    summary = itvrules.run_eligibility(POLICY, [str(feed)], str(tmp_path / "out.csv"),
                                       pm=itvrules.plugin_manager(autoload=False))
    assert (summary.rows_in, summary.decided, summary.rejected, summary.skipped) == (6, 1, 4, 1)
    rejects = read_csv(tmp_path / "out.rejects.csv")
    assert [r["field"] for r in rejects] == ["account_id"] * 4
    checks = ("account.formula", "account.number_form", "account.control_character",
              "account.pattern")
    for reject, check in zip(rejects, checks, strict=True):
        words = next(c.message for c in CONTRACT.checks if c.id == check).split("{")[0]
        assert reject["error"].startswith(words), (check, reject["error"])


# -- what the rejects file says -------------------------------------------------------------------


def bad_feed(tmp_path: Path) -> Path:
    good = feed_rows()[0]
    rows = [good, {**good, "account_id": '=HYPERLINK("http://x.example","账单")'},
            {**good, "account_id": "A\n\u202e1"}]
    return write_csv(tmp_path / "bad.csv", rows)


@pytest.mark.parametrize("backend", ["rows", "columnar"])
def test_the_rejects_csv_guards_the_raw_id_and_escapes_it_in_words(tmp_path: Path,
                                                                  backend: str) -> None:
    feed = bad_feed(tmp_path)
    summary = itvrules.run_bill(POLICY, "2025-07", [str(feed)], str(tmp_path / "bill.csv"),
                                backend=backend, pm=itvrules.plugin_manager(autoload=False))
    assert (summary.rows_in, summary.decided, summary.rejected) == (3, 1, 2)
    rejects = read_csv(tmp_path / "bill.rejects.csv")
    formula, hidden = rejects
    # the raw cell as read, guarded: Excel shows it as text and runs nothing
    assert formula["account_id"] == "'=HYPERLINK(\"http://x.example\",\"账单\")"
    assert formula["error"].endswith("; got '=HYPERLINK(\"http://x.example\",\"账单\")'")
    assert hidden["error"].endswith("; got 'A<U+000A>1'")  # the direction mark removed, the line break kept
    assert not re.search(UNSAFE_CLASS, hidden["error"])


def test_the_rejects_xlsx_holds_the_formula_as_text(tmp_path: Path) -> None:
    from python_calamine import CalamineWorkbook

    feed = bad_feed(tmp_path)
    itvrules.run_bill(POLICY, "2025-07", [str(feed)], str(tmp_path / "bill.xlsx"),
                      rejects=str(tmp_path / "rejects.xlsx"), pm=itvrules.plugin_manager(autoload=False))
    rows = CalamineWorkbook.from_path(str(tmp_path / "rejects.xlsx")).get_sheet_by_index(0).to_python()
    header = rows[0]
    cells = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert cells[0]["account_id"] == '=HYPERLINK("http://x.example","账单")'  # a string cell
    assert cells[1]["error"].endswith("; got 'A<U+000A>1'")  # the direction mark removed, the line break kept
    with zipfile.ZipFile(tmp_path / "rejects.xlsx") as book:
        sheet = book.read("xl/worksheets/sheet1.xml")
    assert b"HYPERLINK" in sheet and b"<f>" not in sheet  # no formula anywhere


def test_the_frame_api_names_the_account_without_its_hidden_characters() -> None:
    frame = enrolment_frame([("A\n1", DAY, DAY)])
    errors: list[itvrules.InputError] = []
    assert list(POLICY.fees(frame, "2025-07", on_error=lambda _r, e: errors.append(e))) == []
    assert errors[0].field == "account_id"
    assert errors[0].problem.endswith("(account A<U+000A>1)")
    assert "\n" not in errors[0].problem


def test_spark_quotes_a_rejected_text_as_the_row_path_does(spark: SparkSession) -> None:
    from itvrules.spark._rows import _repr

    texts = ["A\n1", "O'Brien", "say \"it's\"", "C:\\x", "A\u200b\U000e0041𠮷", "\x00", "plain"]
    frame = spark.createDataFrame([(t,) for t in texts], "text string")
    assert [r[0] for r in frame.select(_repr(frame["text"])).collect()] == [quoted(t) for t in texts]


# -- the contract file: patterns and parameters checked when it loads -------------------------------


def test_a_contract_with_bad_patterns_names_each_with_its_line(tmp_path: Path) -> None:
    shipped = (ROOT / "rulesets" / "feed.contract.yaml").read_text(encoding="utf-8")
    broken = shipped.replace("{matches: ' *[=+\\-@].*'}", "{matches: '(?=x)'}") \
        .replace("{not_matches: {param: account_id_pattern}}", "{not_matches: {param: trial_months}}") \
        .replace("{kind: pattern_words, parameter: account_id_pattern}", "{kind: pattern_words}") \
        .replace("when: {completed_on: {lt: {field: accepted_on}}}",
                 "when: {completed_on: {matches: '[0-9]+'}}") \
        .replace("when: {returned: true, return_reason: {empty: true}}",
                 "when: {return_reason: {matches: {param: account_id_pattern}}}")
    assert broken.count("(?=x)") == 1 and "trial_months}}" in broken
    path = tmp_path / "broken.contract.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(itvrules.PolicyError) as caught:
        load_contract(path)
    lines = broken.splitlines()

    def line_of(text: str) -> int:
        return 1 + next(at for at, x in enumerate(lines) if text in x)

    said = {(p.field, p.line): p.message for p in caught.value.problems}
    assert "only (?: ) groups" in said[("checks.10.when.account_id.matches", line_of("(?=x)"))]
    assert "'trial_months' is not a pattern parameter" in \
        said[("checks.12.when.account_id.not_matches", line_of("trial_months}}"))]
    assert "names its parameter" in \
        said[("facts.account_id_allowed.parameter", line_of("{kind: pattern_words}"))]
    assert "matches applies to text" in \
        said[("checks.4.when.completed_on.matches", line_of("{completed_on: {matches"))]
    assert "cannot read policy parameters" in said[("checks.0.scope", line_of("id: return.reason") + 1)]


def test_a_check_bound_to_a_policy_without_the_parameter_says_so() -> None:
    with pytest.raises(itvrules.PolicyError, match=re.escape(
            "account.pattern reads parameters.account_id_pattern: the policy has no such parameter")):
        CONTRACT.scoped("run", "bill", {"trial_months": 3})
    with pytest.raises(itvrules.PolicyError, match=re.escape("only (?: ) groups")):
        CONTRACT.scoped("run", "bill", {"account_id_pattern": "(?=A)A"})
