"""``itvrules policy validate|show|lint|diff|test|chart``: check policy files, and read one as a person would.

The authoring commands (lint, diff, test, chart) live in ``_authoring``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from .._errors import PolicyError
from ..policy._document import Rule
from ..policy._policy import Policy, load_policy
from . import _authoring
from ._common import FAILED, OK, command_parser, debug_option, on_option

VALIDATE_EPILOG = """\
examples:
  itvrules policy validate                       # the shipped policy
  itvrules policy validate my-policy.yaml        # prints every problem with its line
  itvrules policy validate a.yaml b.yaml && echo all valid
"""

SHOW_EPILOG = """\
examples:
  itvrules policy show                           # the shipped policy, as text
  itvrules policy show my-policy.yaml
  itvrules policy show --json > policy.json      # every rule with its line, for scripts
  itvrules policy show rulesets/ --on 2026-01-01   # the version in force that day
"""


def add_parser(sub: Any) -> None:
    others = (SHOW_EPILOG, _authoring.LINT_EPILOG, _authoring.DIFF_EPILOG, _authoring.TEST_EPILOG,
              _authoring.CHART_EPILOG)
    epilog = VALIDATE_EPILOG + "".join(text.replace("examples:\n", "") for text in others)
    parser = command_parser(sub, "policy", help="validate, show, lint, diff, test or chart policies",
                            description="Check policy files, show what one says, and the tools "
                                        "of a policy author: lint, diff, rule tests, statechart.",
                            epilog=epilog)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    validate = command_parser(
        actions, "validate", help="check policy files (exit 1 listing every problem)",
        description="Load and check each FILE (default: the shipped policy): YAML syntax, the "
                    "JSON Schema and the meaning of every rule. Prints every problem with its "
                    "file and line on stderr and exits 1 if any file is invalid.",
        epilog=VALIDATE_EPILOG, parents=[debug_option()])
    validate.add_argument("files", metavar="FILE", nargs="*", type=Path, help="policy files")
    validate.set_defaults(handler=run_validate)
    show = command_parser(
        actions, "show", help="show a policy: window, parameters, tariffs, rules",
        description="Show a policy (default: the shipped one): id, version, content hash, "
                    "campaign window, parameters, packages and tariffs, assumptions, and every "
                    "rule with its id, notice clause, condition in words and result.",
        epilog=SHOW_EPILOG, parents=[on_option(), debug_option()])
    show.add_argument("file", metavar="FILE", nargs="?", type=Path,
                      help="policy file or folder of versions")
    show.add_argument("--json", action="store_true", help="print JSON instead of text")
    show.set_defaults(handler=run_show)
    _authoring.add_parsers(actions)


def run_validate(args: argparse.Namespace) -> int:
    files: list[Path | None] = list(args.files) or [None]
    status = OK
    for path in files:
        name = str(path) if path is not None else "(shipped policy)"
        try:
            policy = load_policy(path)
        except PolicyError as exc:
            status = FAILED
            if exc.problems:
                print(f"{name}: invalid, {len(exc.problems)} problem(s):", file=sys.stderr)
                for problem in exc.problems:
                    print(f"  {problem}", file=sys.stderr)
            else:
                print(f"{name}: invalid: {exc}", file=sys.stderr)
            continue
        print(f"{policy.source}: ok ({policy.id} {policy.version}, "
              f"{len(policy.rules('eligibility'))} eligibility and {len(policy.rules('fees'))} fee rules)")
    return status


def run_show(args: argparse.Namespace) -> int:
    policy = load_policy(args.file, on=args.on)
    info = policy_info(policy)
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        print(render_text(info))
    return OK


def policy_info(policy: Policy) -> dict[str, Any]:
    """Everything ``show`` prints, JSON-ready (money as strings, dates ISO)."""
    first, last = policy.campaign_window
    doc = policy.document
    return {
        "id": policy.id,
        "version": policy.version,
        "title": policy.title,
        "source": policy.source,
        "hash": policy.content_hash,
        "campaign_window": {"first_day": first.isoformat(), "last_day": last.isoformat(),
                            "clause": doc.campaign_clause},
        "parameters": {k: _plain(v) for k, v in policy.parameters.items()},
        "catalogue": {"families": {name: {"includes_itv_from_tier": tier}
                                   for name, tier in doc.families.items()},
                      "known_codes": list(doc.known_codes)},
        "packages": {code: {"name": pkg.name, "clause": pkg.clause,
                            "tariff": {product: f"{amount:.2f}" for product, amount in pkg.tariff.items()}}
                     for code, pkg in policy.packages.items()},
        "assumptions": [{"id": entry.id, "kind": entry.kind, "clause": entry.clause,
                         "text": entry.text, "covers": list(entry.covers)}
                        for entry in policy.assumption_entries],
        "rules": {table: [_rule_info(rule) for rule in policy.rules(table)]
                  for table in ("eligibility", "fees")},
    }


def _rule_info(rule: Rule) -> dict[str, Any]:
    return {"id": rule.id, "clause": rule.clause, "condition": rule.when.describe(),
            "result": {k: _plain(v) for k, v in rule.then.items()}, "text": rule.text,
            "line": rule.line}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def result_words(table: str, result: Mapping[str, Any]) -> str:
    """A rule's ``then`` as a short phrase: ``eligible: new_install``, ``trial: charge …, waived``."""
    if table == "eligibility":
        if result.get("eligible"):
            return f"eligible: {result.get('segment')}"
        review = " (flag for review)" if result.get("review") else ""
        return f"not eligible: {result.get('reason')}{review}"
    charge = result.get("charge")
    words = [str(result.get("code")), "no charge" if charge == "none" else f"charge {charge}"]
    if result.get("waive"):
        words.append("waived in full")
    if result.get("follow_up"):
        words.append("flag for follow-up")
    return ", ".join(words)


def render_text(info: Mapping[str, Any]) -> str:
    """The policy as a person reads it, one section after another."""
    window = info["campaign_window"]
    out = [
        f"{info['id']} {info['version']}  {info['title']}",
        f"source   {info['source']}",
        f"sha256   {info['hash']}",
        f"campaign {window['first_day']} .. {window['last_day']} (orders accepted, {window['clause']})",
        "",
        "parameters:",
        *(f"  {name:<27} {value}" for name, value in info["parameters"].items()),
        "",
        "catalogue:",
        *(f"  {name:<5} includes iTV from tier {spec['includes_itv_from_tier']}"
          if spec["includes_itv_from_tier"] is not None else f"  {name}"
          for name, spec in info["catalogue"]["families"].items()),
        f"  known codes: {', '.join(info['catalogue']['known_codes'])}",
        "",
        "packages (monthly tariff, CNY):",
    ]
    for code, pkg in info["packages"].items():
        tariffs = ", ".join(f"{product} {amount}" for product, amount in pkg["tariff"].items())
        out.append(f"  {code:<9} {pkg['name']} [{pkg['clause']}]: {tariffs}")
    out += ["", "assumptions (policy lint warns about each value they cover):"]
    for entry in info["assumptions"]:
        label = ", ".join(part for part in (entry["id"], entry["clause"]) if part)
        out.append(f"  - {entry['kind']}{f' {label}' if label else ''}: {entry['text']}")
        if entry["covers"]:
            out.append(f"      covers {', '.join(entry['covers'])}")
    for table, rules in info["rules"].items():
        out += ["", f"{'fee' if table == 'fees' else table} rules (first match wins):"]
        for number, rule in enumerate(rules, start=1):
            out.append(f"  {number:>2}. {rule['id']}  [{rule['clause']}]")
            out.append(f"      when  {rule['condition']}")
            out.append(f"      then  {result_words(table, rule['result'])}")
    return "\n".join(out)
