"""SIGKILL a real `watcher check` at its worst moments: the next run reports the same changes,
nothing is lost and nothing is reported twice.

Synchronisation with the child is by events it cannot skip (a request the replay server holds,
a log line written before the store is touched), each wait bounded.
"""

import asyncio
import json
import os
import queue
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from emulator import Chat, Telegram

from watcher.cli import main
from watcher.demo import DATA, write_config
from watcher.replay import ReplayServer

ROOT = Path(__file__).resolve().parents[1]


def changes_of(config_path: Path, capsys) -> list[tuple]:
    """The changes a check reports, with the replay server's address taken out of the keys."""
    assert main(["check", "--config", str(config_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    return sorted((c["source"], re.sub(r"^http://127\.0\.0\.1:\d+", "", c["item_key"]),
                   c["kind"], c["section"] or "") for c in data["changes"])


def archive_ids(config_path: Path, capsys) -> list[str]:
    main(["archive", "list", "--config", str(config_path)])
    return [line.split()[0] for line in capsys.readouterr().out.splitlines()]


@pytest.fixture
def reference(tmp_path, capsys) -> list[tuple]:
    """What week 2 reports when nothing goes wrong."""
    (tmp_path / "reference").mkdir()
    with ReplayServer(DATA) as server:
        config_path = write_config(tmp_path / "reference", server.base_url)
        main(["check", "--config", str(config_path)])
        capsys.readouterr()
        server.use_week(2)
        return changes_of(config_path, capsys)


@pytest.fixture
def baselined(tmp_path, capsys):
    """A replay server already on week 2, and a store that recorded week 1."""
    with ReplayServer(DATA) as server:
        config_path = write_config(tmp_path, server.base_url)
        assert main(["check", "--config", str(config_path)]) == 0
        capsys.readouterr()
        server.use_week(2)
        server.requests.clear()  # from here on, only the child's requests
        yield server, config_path


class Child:
    """`watcher -v check` in a subprocess, its log read line by line in the background."""

    def __init__(self, config_path: Path, *args: str, env: dict[str, str] | None = None):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "watcher", "-v", "check", "--config", str(config_path),
             *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})})
        self.lines: queue.Queue[str] = queue.Queue()
        self.said: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.said.append(line)
            self.lines.put(line)

    def wait_for_log(self, words: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if words in self.lines.get(timeout=deadline - time.monotonic()):
                    return
            except queue.Empty:
                break
        raise AssertionError(f"the child never logged {words!r}; it said: {self.said}")

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no handler, no cleanup
        self.process.wait(timeout=10)


def wait_for_request(server: ReplayServer, path: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(p.split("?")[0] == path for _, p, _ in server.requests):
            return
        time.sleep(0.01)
    raise AssertionError(f"nobody asked for {path}")


def test_killed_while_fetching(baselined, reference, capsys):
    server, config_path = baselined
    gate = server.hold("/site/docs/gpu")
    child = Child(config_path)
    wait_for_request(server, "/site/docs/gpu")
    child.kill()
    gate.set()

    assert changes_of(config_path, capsys) == reference
    assert archive_ids(config_path, capsys) == ["#2", "#1"]


def test_killed_between_digest_and_commit(baselined, reference, capsys):
    server, config_path = baselined
    gate = server.hold("/ci/cocoon-worker-release-latest.tar.xz")
    child = Child(config_path)
    wait_for_request(server, "/ci/cocoon-worker-release-latest.tar.xz")
    # the run is started and fetching: now hold the write lock its commit will need
    blocker = sqlite3.connect(config_path.parent / "watcher.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    gate.set()
    child.wait_for_log("storing run")
    child.kill()
    blocker.execute("ROLLBACK")
    blocker.close()

    assert changes_of(config_path, capsys) == reference
    assert archive_ids(config_path, capsys) == ["#2", "#1"]
    assert changes_of(config_path, capsys) == []  # and reported once, not again


def test_killed_mid_delivery_sends_the_rest_once(tmp_path, telegram: Telegram, monkeypatch,
                                                 capsys):
    first, second = Chat(-1001401, "supergroup"), Chat(-1001402, "supergroup")
    with ReplayServer(DATA) as server:
        config_path = write_config(tmp_path, server.base_url)
        text = config_path.read_text().replace("https://api.telegram.org", telegram.url)
        config_path.write_text(re.sub(r"(?m)^chats = .*$", f"chats = [{first.id}, {second.id}]",
                                      text))
        # the second chat's first send is told to wait a minute: the child is killed meanwhile
        asyncio.run(telegram.fail_next(second, 429, "Too Many Requests: retry after 60",
                                       retry_after=60))
        child = Child(config_path, "--post", env={"TELEGRAM_BOT_TOKEN": telegram.token})
        deadline = time.monotonic() + 60
        while not asyncio.run(telegram.sent(first)) and time.monotonic() < deadline:
            time.sleep(0.05)
        child.kill()
        assert len(asyncio.run(telegram.sent(first))) == 1
        assert asyncio.run(telegram.sent(second)) == []

        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", telegram.token)
        assert main(["check", "--post", "--config", str(config_path)]) == 0  # a restart
    capsys.readouterr()
    for chat in (first, second):
        texts = [m["text"] for m in asyncio.run(telegram.sent(chat))]
        assert sum("COCOON watch #1" in t for t in texts) == 1, chat
