"""Shared test set-up: hypothesis profiles chosen by an environment variable.

``ITVRULES_HYPOTHESIS_PROFILE`` picks ``dev`` (quick), ``ci`` (thorough, the
default when ``CI`` is set) or ``deep`` (for hunting).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=400, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("deep", max_examples=5000, deadline=None)
settings.load_profile(
    os.environ.get("ITVRULES_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)
