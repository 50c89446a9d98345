"""Lint a policy: check every decision table exhaustively over its finite input classes.

Every input field has a finite domain (booleans, enums, the catalogue's
families, lifecycle states) or falls into finitely many classes relative to the
constants the rules compare it with (one below, at, one above each boundary).
Enumerating the feasible inputs, built the way real inputs are built (plan
codes through the catalogue, enrolments through the fee key), finds:

* gaps: an input no rule matches (an error, except in the lifecycle table,
  where an event no transition accepts is rejected as out of order by design);
* shadowed rules: a rule that never decides because earlier rules take every
  input it matches (an error), or one that matches no input at all;
* overlaps: two rules that match one input with different results. First-hit
  tables overlap on purpose, so these are information, with a witness;
* parameters out of a sane range (errors or warnings);
* values the policy marks as assumptions or placeholders (warnings, at their lines).

Every finding carries a witness: an input that shows it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import attrs

from .._words import plain
from ..engines._compiled import python_expression
from ..model._enums import Product
from ..policy._conditions import Compare, Condition
from ..policy._document import PolicyDocument, Rule
from ..policy._facts import FIELDS, Catalogue, fee_facts_from_key

#: Tables whose gaps are rejections by design (an event out of order).
GAPS_ALLOWED = frozenset({"lifecycle"})


@attrs.frozen
class Finding:
    """One lint result. ``severity`` is ``error``, ``warning`` or ``info``."""

    severity: str
    kind: str
    table: str
    rule: str
    message: str
    line: int | None = None
    witness: Mapping[str, Any] = attrs.field(factory=dict)

    def __str__(self) -> str:
        where = f":{self.line}" if self.line else ""
        witness = self.witness_text()
        text = f"{self.severity}{where} [{self.kind}] {self.table}"
        text += f" {self.rule}: {self.message}" if self.rule else f": {self.message}"
        return text + (f"\n    witness: {witness}" if witness else "")

    def witness_text(self) -> str:
        """The witness as an input is written (``line_ready=false, plan=e6-67``), not as Python."""
        return ", ".join(f"{name}={plain(value)}" for name, value in self.witness.items())


def _constants(rules: Sequence[Rule], field: str) -> set[int]:
    found: set[int] = set()

    def walk(cond: Condition) -> None:
        if isinstance(cond, Compare):
            if cond.field == field:
                values = cond.value if isinstance(cond.value, tuple) else (cond.value,)
                found.update(v for v in values if isinstance(v, int) and not isinstance(v, bool))
        else:
            for part in cond.parts:
                walk(part)

    for rule in rules:
        walk(rule.when)
    return found


def _classes(constants: set[int], default: int = 0) -> list[int]:
    """One value below, at and above every boundary (or ``default`` when none)."""
    if not constants:
        return [default]
    return sorted({v + d for v in constants for d in (-1, 0, 1)})


def _eligibility_inputs(doc: PolicyDocument) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    rules = doc.eligibility
    catalogue = Catalogue(doc.families)
    days = _classes(_constants(rules, "accepted_day"), doc.campaign_first_day.toordinal())
    tiers = set(_classes(_constants(rules, "plan_tier") | {
        t for t in doc.families.values() if t is not None}))
    plans = [f"{family}-{tier}" for family in doc.families for tier in sorted(tiers) if tier >= 0]
    plans += ["zz-68", "e8"]  # an unknown family, a malformed code
    for day, line, itv, new, product, community, plan in itertools.product(
            days, (True, False), (False, True), (True, False), ELIG_PRODUCTS, COMMUNITIES, plans):
        known, family, tier, includes = catalogue.classify(plan)
        facts = (day, line, itv, new, product, community, known, family, tier, includes)
        yield facts, {"accepted_on": _date(day), "line_ready": line, "has_itv": itv,
                      "new_install": new, "product": product, "community": community, "plan": plan}


ELIG_PRODUCTS = ("brand", "annual", "single_monthly")
COMMUNITIES = ("none", "upgrading", "upgraded")


def _date(ordinal: int) -> str:
    from datetime import date

    return date.fromordinal(ordinal).isoformat()


def _fee_inputs(doc: PolicyDocument) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    horizon = int(doc.parameters["trial_months"]) + int(doc.parameters["waived_months_after_trial"]) + 2
    months = range(-1, horizon + 1)
    for product, switched in itertools.product(tuple(Product), (False, True)):
        for month in months:
            returned_key = (True, None, None, None, None, product)
            yield fee_facts_from_key(returned_key, month), {"returned": True, "billing_month": month}
            yield (fee_facts_from_key((False, None, None, None, None, product), month),
                   {"completed": False, "billing_month": month})
            for requested in (None, *range(-1, horizon)):
                effectives: list[int | None] = [None]
                if requested is not None:
                    effectives += list(range(requested, horizon + 1))
                for effective in effectives:
                    key = (False, 0, requested, effective, "pkg" if switched else None, product)
                    yield fee_facts_from_key(key, month), {
                        "billing_month_offset": month, "cancel_requested_month_offset": requested,
                        "cancel_effective_month_offset": effective, "switched": switched,
                        "product": product.value}


def _lifecycle_inputs(doc: PolicyDocument) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    offsets = _classes(_constants(doc.table("lifecycle"), "month_offset"))
    for state, event, reason, switched, offset in itertools.product(
            doc.lifecycle_states, FIELDS["lifecycle"]["event"], (True, False), (False, True), offsets):
        facts = (state, event, reason, switched, offset)
        yield facts, dict(zip(FIELDS["lifecycle"], facts, strict=True))


def _terminal_inputs(_doc: PolicyDocument) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    for facts in itertools.product(FIELDS["terminals"]["change"], FIELDS["terminals"]["prior_modem"]):
        yield facts, dict(zip(FIELDS["terminals"], facts, strict=True))


INPUTS: Mapping[str, Callable[[PolicyDocument], Iterator[tuple[tuple[Any, ...], dict[str, Any]]]]] = {
    "eligibility": _eligibility_inputs,
    "fees": _fee_inputs,
    "lifecycle": _lifecycle_inputs,
    "terminals": _terminal_inputs,
}


def _predicate(table: str, cond: Condition) -> Callable[..., bool]:
    source = f"lambda {', '.join(FIELDS[table])}: {python_expression(cond)}"
    return eval(compile(source, f"<lint {table}>", "eval"))  # type: ignore[no-any-return]


def lint_table(doc: PolicyDocument, table: str) -> list[Finding]:
    """Exhaustive checks of one table over its feasible input classes."""
    rules = doc.table(table)
    tests = [_predicate(table, rule.when) for rule in rules]
    first_witness: dict[int, dict[str, Any]] = {}
    matched_witness: dict[int, dict[str, Any]] = {}
    overlaps: dict[tuple[int, int], dict[str, Any]] = {}
    findings: list[Finding] = []
    gap_seen = False
    for facts, shown in INPUTS[table](doc):
        hits = [i for i, test in enumerate(tests) if test(*facts)]
        if not hits:
            if table not in GAPS_ALLOWED and not gap_seen:
                gap_seen = True
                findings.append(Finding("error", "gap", table, "", "no rule matches this input",
                                        witness=shown))
            continue
        first_witness.setdefault(hits[0], shown)
        for i in hits:
            matched_witness.setdefault(i, shown)
        for later in hits[1:]:
            catch_all = rules[later].when.describe() == "always"
            if dict(rules[hits[0]].then) != dict(rules[later].then) and not catch_all:
                overlaps.setdefault((hits[0], later), shown)
    for index, rule in enumerate(rules):
        if index in first_witness:
            continue
        if index in matched_witness:
            findings.append(Finding("error", "shadowed", table, rule.id,
                                    "never decides: earlier rules take every input it matches",
                                    rule.line, matched_witness[index]))
        else:
            findings.append(Finding("error", "unreachable", table, rule.id,
                                    "matches no possible input", rule.line))
    for (first, later), shown in sorted(overlaps.items()):
        findings.append(Finding("info", "overlap", table, rules[later].id,
                                f"also matches inputs {rules[first].id} decides first, with a "
                                "different result", rules[later].line, shown))
    return findings


def lint_parameters(doc: PolicyDocument) -> list[Finding]:
    """Values the schema allows but that make no sense for this campaign."""
    p = doc.parameters
    out: list[Finding] = []

    def bad(severity: str, name: str, message: str) -> None:
        out.append(Finding(severity, "parameter", "parameters", name, message,
                           witness={name: p.get(name)}))

    if doc.campaign_last_day - doc.campaign_first_day > timedelta(days=366):
        out.append(Finding("warning", "parameter", "campaign", "last_day",
                           "the campaign runs for more than a year"))
    if int(p["contract_start_offset"]) < int(p["trial_months"]):
        bad("error", "contract_start_offset", "the formal contract would start inside the free trial")
    if int(p["first_month_days"]) > 31:
        bad("warning", "first_month_days", "the 'first month' is longer than any calendar month")
    if Decimal(p["trial_rate_target"]) <= 0:
        bad("error", "trial_rate_target", "a target of 0 means nothing")
    if int(p["install_days"]) > 31:
        bad("warning", "install_days", "an install deadline of more than a month")
    for package in doc.packages.values():
        for product, amount in package.tariff.items():
            if amount == 0 or amount > 500:
                out.append(Finding("warning", "parameter", "packages", f"{package.code}.{product}",
                                   f"a monthly tariff of {amount} CNY looks wrong",
                                   witness={"tariff": str(amount)}))
    return out


def lint_assumptions(doc: PolicyDocument) -> list[Finding]:
    """A warning for every value the policy marks as an assumption or a placeholder, at its line.

    Placeholders say more strongly that they are not the operator's values; an
    entry that names no value (a plain sentence) is reported at its own line.
    """
    out: list[Finding] = []
    for index, entry in enumerate(doc.assumptions):
        where = ", ".join(part for part in (entry.id, entry.clause) if part)
        label = f" ({where})" if where else ""
        if entry.placeholder:
            message = (f"placeholder{label}: {entry.text} — not the operator's value; set the "
                       "real one before billing with it")
        else:
            message = f"assumed{label}: {entry.text}"
        if not entry.covers:
            out.append(Finding("warning", entry.kind, f"assumptions[{index}]", "",
                               f"{message} — names no value it covers: write it with id, kind, "
                               "text and covers", entry.line))
        for path, line in entry.covers.items():
            out.append(Finding("warning", entry.kind, path, "", message, line))
    return out


def lint(doc: PolicyDocument) -> list[Finding]:
    """Every finding for a policy: parameters and assumptions first, then each table."""
    findings = lint_parameters(doc) + lint_assumptions(doc)
    for table in FIELDS:
        findings.extend(lint_table(doc, table))
    return findings
