"""The closed vocabularies of subscribers, eligibility and fees, as string enums.

String enums compare equal to their values, so ``sub.product == "brand"`` holds.
"""

from __future__ import annotations

from enum import StrEnum


class _StrEnum(StrEnum):
    def __str__(self) -> str:
        return str(self.value)


class Product(_StrEnum):
    """Broadband product: brand package, annual, single-product monthly."""

    BRAND = "brand"
    ANNUAL = "annual"
    SINGLE_MONTHLY = "single_monthly"


class Community(_StrEnum):
    """Broadband speed-up status of the subscriber's community."""

    NONE = "none"
    UPGRADING = "upgrading"
    UPGRADED = "upgraded"


class PriorModem(_StrEnum):
    """The modem a subscriber had before the trial."""

    ORDINARY = "ordinary"
    E8B = "e8b"
    NONE = "none"


class Segment(_StrEnum):
    """Why an eligible subscriber is a target."""

    NEW_INSTALL = "new_install"
    UPGRADED_COMMUNITY = "upgraded_community"
    LEGACY_PLAN = "legacy_plan"


class IneligibleReason(_StrEnum):
    """Why a subscriber is not a target."""

    OUTSIDE_CAMPAIGN = "outside_campaign"
    NO_LINE = "no_line"
    ALREADY_ITV = "already_itv"
    UNKNOWN_PLAN = "unknown_plan"
    BUNDLED_ITV = "bundled_itv"
    SINGLE_MONTHLY_EXCLUDED = "single_monthly_excluded"
    PLAN_BELOW_THRESHOLD = "plan_below_threshold"


class FeeCode(_StrEnum):
    """What billing does for one enrolment and month."""

    NOT_INSTALLED = "not_installed"
    NOT_STARTED = "not_started"
    CANCELLED = "cancelled"
    TRIAL = "trial"
    LATE_CANCEL_WAIVER = "late_cancel_waiver"
    CANCELLATION_OVERDUE = "cancellation_overdue"
    SWITCHED = "switched"
    DEFAULT_PAID = "default_paid"
