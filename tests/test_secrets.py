"""A planted token is used where it belongs and appears nowhere else: not on stdout or stderr
(even with -v), not in the digest, not in the store."""

import os
import subprocess
import sys
from pathlib import Path

from watcher.demo import DATA, write_config
from watcher.replay import ReplayServer

ROOT = Path(__file__).resolve().parents[1]
PLANTED = "ghp_PLANTEDsecret0123456789abcdef"


def watcher(config_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "WATCHER_DEMO_GITHUB_TOKEN": PLANTED}
    return subprocess.run([sys.executable, "-m", "watcher", "-v", *args, "--config",
                           str(config_path)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def stored_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.glob("watcher.db*"))


def test_the_github_token_is_sent_and_never_shown(tmp_path):
    with ReplayServer(DATA) as server:
        config_path = write_config(tmp_path, server.base_url)
        runs = [watcher(config_path, "check")]
        server.use_week(2)
        runs += [watcher(config_path, "check", "--json"), watcher(config_path, "facts"),
                 watcher(config_path, "archive", "show", "2")]
        sent = [h.get("Authorization") for _, path, h in server.requests
                if path.startswith("/github/")]
    assert sent and set(sent) == {f"token {PLANTED}"}
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert PLANTED not in run.stdout and PLANTED not in run.stderr
    assert "HTTP Request" in runs[0].stderr  # -v really logged the requests
    assert PLANTED.encode() not in stored_bytes(tmp_path)


def test_the_token_stays_out_of_errors(tmp_path):
    with ReplayServer(DATA) as server:
        base = server.base_url
    config_path = write_config(tmp_path, base)  # nothing listens there any more
    run = watcher(config_path, "check")
    assert run.returncode == 1
    assert "GitHub TelegramMessenger/cocoon: github TelegramMessenger/cocoon: " in run.stdout
    assert PLANTED not in run.stdout + run.stderr
    assert PLANTED.encode() not in stored_bytes(tmp_path)
