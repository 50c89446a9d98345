"""itvrules: an iTV free-trial campaign as declarative, versioned rules.

Load a policy and ask it the questions billing and operations ask::

    import itvrules
    policy = itvrules.load_policy()
    policy.eligibility(subscriber, accepted_on=date(2025, 4, 1))
    policy.fee(enrollment, "2025-06")
"""

from __future__ import annotations

import logging

from ._errors import (
    EngineError,
    EngineUnavailable,
    InputError,
    ItvRulesError,
    MissingExtra,
    PolicyError,
    PolicyProblem,
    UsageError,
)
from ._limits import LIMITS, Limit, LimitExceeded
from ._version import __version__
from .authoring._casefile import Case, load_cases
from .authoring._diff import Impact, PolicyDiff, diff_impact, diff_policies
from .authoring._explain import Explanation, RuleCheck
from .authoring._lint import Finding
from .authoring._rule_tests import CaseReport, CaseResult, run_cases
from .hookspecs import RawRow, hookimpl
from .model._convert import converter, structure, unstructure
from .model._enums import Community, FeeCode, IneligibleReason, PriorModem, Product, Segment
from .model._inputs import Enrollment, Subscriber
from .model._results import Eligibility, FeeDecision, TrialWindow
from .policy._assumptions import Assumption
from .policy._policy import DEFAULT_ENGINE, ENGINES, Policy, load_policy
from .runs._pipeline import RunSummary, run_bill, run_eligibility
from .runs._plugins import plugin_manager
from .runs._rows import HeaderMap

# The library logs under "itvrules" and never prints; an application that wants the log adds its
# own handler (the command line's -v does). Until then nothing is shown, not even warnings.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "LIMITS",
    "Assumption",
    "Case",
    "CaseReport",
    "CaseResult",
    "Community",
    "Eligibility",
    "EngineError",
    "EngineUnavailable",
    "Enrollment",
    "Explanation",
    "FeeCode",
    "FeeDecision",
    "Finding",
    "HeaderMap",
    "Impact",
    "IneligibleReason",
    "InputError",
    "ItvRulesError",
    "Limit",
    "LimitExceeded",
    "MissingExtra",
    "Policy",
    "PolicyDiff",
    "PolicyError",
    "PolicyProblem",
    "PriorModem",
    "Product",
    "RawRow",
    "RuleCheck",
    "RunSummary",
    "Segment",
    "Subscriber",
    "TrialWindow",
    "UsageError",
    "__version__",
    "converter",
    "diff_impact",
    "diff_policies",
    "hookimpl",
    "load_cases",
    "load_policy",
    "plugin_manager",
    "run_bill",
    "run_cases",
    "run_eligibility",
    "structure",
    "unstructure",
]
