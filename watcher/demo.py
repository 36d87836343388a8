"""`watcher demo`: the product shown with no token and no network.

Two recorded weeks of the sources (the recordings the tests use) are served on 127.0.0.1 and
checked with a throwaway store: week 1 records the baseline, week 2 reports what moved.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from watcher import config
from watcher.pipeline import run_check
from watcher.replay import ReplayServer
from watcher.store import Store

DATA = Path(__file__).parent / "demo_data"
WEEKS = 2


def write_config(folder: Path, base_url: str) -> Path:
    """The demo config, pointed at a replay server and a store inside `folder`."""
    text = (DATA / "demo.toml").read_text(encoding="utf-8")
    text = text.replace("{{BASE}}", base_url).replace("{{STORE}}", str(folder / "watcher.db"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "watcher.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_demo(out: TextIO) -> int:
    with tempfile.TemporaryDirectory(prefix="watcher-demo-") as tmp, ReplayServer(DATA) as server:
        settings = config.load(write_config(Path(tmp), server.base_url))
        store = Store.open(settings.store_path)
        first_monday = datetime.now(UTC) - timedelta(days=7)
        try:
            for week in range(1, WEEKS + 1):
                server.use_week(week)
                when = first_monday + timedelta(days=7 * (week - 1))
                result = asyncio.run(run_check(settings, store, now=lambda when=when: when))
                print(f"──── recorded week {week} ────", file=out)
                print(result.text, file=out)
        finally:
            store.close()
    return 0
