"""Where the tests find the project's files, wherever in tests/ a test module lives."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FEEDS = TESTS / "feeds"
