"""Shared test fixtures: where the real samples and the recorded weeks live."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "fixtures" / "real"
DEMO_DATA = ROOT / "watcher" / "demo_data"
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="session")
def real_fixtures() -> Path:
    """The real samples in ../shared/fixtures/real (read-only; cite, never edit)."""
    if not REAL.is_dir():
        pytest.fail(f"real fixtures not found at {REAL}: clone with ../shared beside it")
    return REAL
