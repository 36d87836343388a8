"""Shared test fixtures: where the real samples and the recorded weeks live, and the Telegram
Bot API emulator the bot's end-to-end tests talk to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator import Telegram, start_emulator

from watcher.demo import DATA
from watcher.replay import ReplayServer

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


@pytest.fixture(scope="session")
def telegram_api() -> Iterator[str]:
    """The emulator's base URL; installed (npm ci) and started once per test session."""
    with start_emulator() as url:
        yield url


@pytest.fixture
def telegram(telegram_api: str) -> Telegram:
    """The emulator as one test sees it: a bot token of its own, and users to act as."""
    return Telegram(telegram_api)


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    """The recorded weeks (watcher/demo_data) served on 127.0.0.1, week 1 first."""
    with ReplayServer(DATA) as server:
        yield server
