"""What `watcher check` imports before its first request: only the kinds it has configured, and
not the bot or the archive site. Each of those libraries costs tens of milliseconds."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from watcher.config import ConfigError, load
from watcher.sources import KINDS, source_kind

PROBE = """
import json, sys
from watcher import cli, config
settings = config.load(config.resolve_path(sys.argv[1]))
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {
    "telegram", "jinja2", "github", "pytoniq_core", "bs4", "apscheduler", "http"}
    or name.startswith(("watcher.bot", "watcher.archive", "watcher.sources.")))))
"""


def imported_after_loading(config_text: str, tmp_path) -> set[str]:
    path = tmp_path / "watcher.toml"
    path.write_text(config_text, encoding="utf-8")
    probe = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True,
                           text=True, timeout=60, check=True)
    return set(json.loads(probe.stdout))


def test_a_config_of_web_pages_imports_no_other_kind_nor_the_bot(tmp_path):
    found = imported_after_loading(
        '[[sources]]\nname = "docs"\nkind = "web_page"\nurl = "https://cocoon.org/"\n', tmp_path)
    assert "watcher.sources.web_page" in found
    for absent in ("watcher.sources.github", "watcher.sources.github_api", "github",
                   "watcher.sources.ton_root_contract", "pytoniq_core", "telegram",
                   "watcher.bot", "watcher.archive", "jinja2", "http.server", "bs4",
                   "apscheduler"):  # the default cron is known good: nothing to check it with
        assert absent not in found, absent


def test_pygithub_waits_for_the_first_github_request(tmp_path):
    found = imported_after_loading(
        '[[sources]]\nname = "gh"\nkind = "github"\nrepo = "TelegramMessenger/cocoon"\n',
        tmp_path)
    assert "watcher.sources.github" in found
    assert "github" not in found and "watcher.sources.github_api" not in found


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_found_by_its_name(kind):
    assert source_kind(kind).kind == kind


def test_an_unknown_kind_names_the_kinds_there_are(tmp_path):
    path = tmp_path / "watcher.toml"
    path.write_text('[[sources]]\nname = "x"\nkind = "rss"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown source kind 'rss'.*artifact, github"):
        load(path)
    assert source_kind("rss") is None
