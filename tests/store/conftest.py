"""The ledger fixtures every store test shares: each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from itvrules.store import Ledger, open_ledger
from store_targets import BACKENDS, Target, open_target


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    with open_target(request.param, tmp_path) as made:
        yield made


@pytest.fixture
def ledger(target: Target) -> Iterator[Ledger]:
    with open_ledger(target.new_url()) as opened:
        yield opened
