"""Ask the shipped policy the daily questions: eligibility, trial window, fees.

Run with ``make demo`` (or ``python examples/quickstart.py`` once installed).
"""

from __future__ import annotations

from datetime import date

import itvrules


def main() -> None:
    policy = itvrules.load_policy()
    first, last = policy.campaign_window
    print(f"policy {policy.id} {policy.version}: orders accepted {first} .. {last}")
    print("tariffs (brand users, CNY/month): "
          + ", ".join(f"{code} {amount}" for code, amount in policy.tariffs.items()))

    print("\nWho is a trial target (order accepted 2025-04-01)?")
    subscribers = [
        itvrules.Subscriber(account_id="A001", plan="e8-68", product="brand"),
        itvrules.Subscriber(account_id="A002", plan="e9-169", product="brand"),
        itvrules.Subscriber(account_id="A003", plan="e6-49", product="single_monthly",
                            new_install=True, community="upgraded"),
        itvrules.Subscriber(account_id="A004", plan="e6-49", product="brand", community="upgrading"),
        itvrules.Subscriber(account_id="A005", plan="x1-10", product="annual"),
    ]
    for sub in subscribers:
        e = policy.eligibility(sub, accepted_on=date(2025, 4, 1))
        verdict = "eligible" if e.eligible else "not eligible"
        print(f"  {sub.account_id} {sub.plan:7} {verdict:12} {e.reason:24} {e.rule} {e.clause}")

    window = policy.trial_window(date(2025, 3, 31))
    print(f"\nTrial of an install completed 2025-03-31: {', '.join(window.months)}, ends {window.end}")

    enrollments = [
        itvrules.Enrollment(account_id="A001", product="brand", accepted_on=date(2025, 3, 25),
                            completed_on=date(2025, 3, 31)),
        itvrules.Enrollment(account_id="A004", product="brand", accepted_on=date(2025, 3, 25),
                            completed_on=date(2025, 3, 28), cancel_requested_on=date(2025, 5, 30)),
        itvrules.Enrollment(account_id="A006", product="annual", accepted_on=date(2025, 4, 2),
                            completed_on=date(2025, 4, 3), switched_to="basic"),
        itvrules.Enrollment(account_id="A007", product="brand", accepted_on=date(2025, 4, 2),
                            returned=True, return_reason="no iTV line in the building"),
    ]
    for month in ("2025-05", "2025-06", "2025-07", "2025-08"):
        print(f"\nBilling {month}:")
        for f in policy.fees(enrollments, month):
            print(f"  {f.account_id} {f.code:22} gross {f.gross:>6} waived {f.waived:>6} "
                  f"pays {f.amount:>6}  {f.rule} {f.clause}")


if __name__ == "__main__":
    main()
