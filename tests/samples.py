"""Seeded sample data, policies and streams shared by the tests."""

from __future__ import annotations

import io
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import itvrules
from itvrules.policy._resources import default_policy_path


def random_enrolments(policy: itvrules.Policy, count: int, seed: int) -> list[itvrules.Enrollment]:
    """``count`` campaign enrolments spread over every fee rule.

    5 % returned, 5 % not installed yet; of the installed, 40 % register a
    cancellation in a trial month, on the last trial day, the day after or
    months later, taking effect at once, later, or at a date not known yet
    (some with no request date); 15 % switch package.
    """
    rng = random.Random(seed)
    first, last = policy.campaign_window
    span = (last - first).days + 1
    packages = sorted(policy.packages)
    products = [p.value for p in itvrules.Product]
    items = []
    for i in range(count):
        accepted = first + timedelta(days=rng.randrange(span))
        fields: dict[str, Any] = {"account_id": f"R{i:07d}", "product": rng.choice(products),
                                  "accepted_on": accepted}
        kind = rng.random()
        if kind < 0.05:
            fields.update(returned=True, return_reason="线路不具备安装条件")
        elif kind >= 0.10:
            completed = fields["completed_on"] = accepted + timedelta(days=rng.choice((0, 3, 7, 20)))
            if rng.random() < 0.4:
                trial_end = _month_start(completed, 3) - timedelta(days=1)
                requested = rng.choice((
                    completed + timedelta(days=rng.randrange(80)), trial_end,
                    trial_end + timedelta(days=1), trial_end + timedelta(days=rng.randrange(2, 200))))
                effective = rng.choice((None, requested, requested + timedelta(days=rng.randrange(1, 90))))
                fields["cancel_effective_on"] = effective
                if effective is None or rng.random() > 0.1:  # else only the effective date is known
                    fields["cancel_requested_on"] = requested
            if rng.random() < 0.15:
                fields["switched_to"] = rng.choice(packages)
        items.append(itvrules.Enrollment(**fields))
    return items


def _month_start(day: date, months_later: int) -> date:
    index = day.year * 12 + day.month - 1 + months_later
    return date(index // 12, index % 12 + 1, 1)


def gap_policy(tmp_path: Path) -> itvrules.Policy:
    """The shipped policy without its catch-all fee rule: paying enrolments fall through."""
    text = default_policy_path().read_text(encoding="utf-8")
    rule = ("  - id: fee.default_paid\n"
            "    clause: §四(二)2\n"
            "    text: 体验用户到期,未办理注销手续,则视同愿意继续使用并缴纳 iTV全能包费用\n"
            "    when: {}\n"
            "    then: {code: default_paid, charge: default_package}\n")
    assert text.count(rule) == 1
    (tmp_path / "gap.yaml").write_text(text.replace(rule, ""), encoding="utf-8")
    return itvrules.load_policy(tmp_path / "gap.yaml")


class Unseekable(io.RawIOBase):
    """Standard input as a pipe: readable, not seekable."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def taxed_policy(tmp_path: Path, rate: str) -> itvrules.Policy:
    """The shipped policy with ``parameters.tax_rate: "<rate>"`` (it names none itself)."""
    text = Path(itvrules.load_policy().source).read_text(encoding="utf-8")
    anchor = "\n  default_package: "
    assert text.count(anchor) == 1, "the shipped policy changed; move the anchor"
    end = text.index("\n", text.index(anchor) + 1) + 1
    path = tmp_path / f"taxed-{rate}.yaml"
    path.write_text(f'{text[:end]}  tax_rate: "{rate}"\n{text[end:]}', encoding="utf-8")
    return itvrules.load_policy(path)
