"""The contract's run checks on the row path: the facts a run knows, then the compiled checks.

The record checks run inside the model (``Enrollment``); these need the run:
the campaign window of the policy version in force on the acceptance day,
the accounts seen before, the policy's packages and its pattern of an account id.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from .._errors import InputError
from ._document import load_contract
from ._python import PythonChecks

if TYPE_CHECKING:
    from ..policy._policy import Policy


class RunChecks:
    """The run checks that apply to one kind of ``run`` ("bill", "eligibility", "fees")."""

    def __init__(self, policy: Policy, run: str) -> None:
        self.policy = policy
        contract = load_contract()
        self.checks = PythonChecks(contract.scoped("run", run, policy.parameters), f"run_{run}",
                                   contract.kind)
        self.known_packages = ", ".join(policy.packages)
        self.constants = contract.constants(policy.parameters)  # a pattern in words
        self._windows: dict[date, tuple[date, date] | None] = {}  # acceptance day -> its window

    def error(self, *, account_id: str | None = None, accepted_on: date | None = None,
              switched_to: str | None = None, repeated: bool = False) -> InputError | None:
        """The error of the first run check the row fails, or None."""
        window = None
        if accepted_on is not None:
            if accepted_on in self._windows:
                window = self._windows[accepted_on]
            else:  # a few hundred distinct days in a feed: each looked up once
                window = self._windows[accepted_on] = self.policy.campaign_window_on(accepted_on)
        facts: dict[str, Any] = {
            "account_id": account_id,
            "accepted_on": accepted_on,
            "account_repeated": repeated,
            "campaign_first_day": window[0] if window else None,
            "campaign_last_day": window[1] if window else None,
            "switched_to": switched_to,
            "switched_known": switched_to is None or self.policy.package_code(switched_to) is not None,
            "known_packages": self.known_packages,
            **self.constants,
        }
        return self.checks.error(facts)
