import io
import logging
from pathlib import Path

import pytest

from watcher import config
from watcher.bot.secret import REDACTED, keep_out_of_logs, read_token
from watcher.config import ConfigError

TOKEN = "123456:SECRET-token"
SETTINGS = config.parse({"telegram": {"token_env": "WATCHER_TEST_TOKEN"}, "sources": [
    {"name": "c", "kind": "telegram_channel", "channel": "cocoon"}]}, Path("w.toml"))


def test_the_token_comes_from_the_named_environment_variable(monkeypatch):
    monkeypatch.setenv("WATCHER_TEST_TOKEN", f" {TOKEN}\n")
    assert read_token(SETTINGS) == TOKEN


def test_a_missing_token_names_the_variable_and_the_fix(monkeypatch):
    monkeypatch.delenv("WATCHER_TEST_TOKEN", raising=False)
    with pytest.raises(ConfigError) as error:
        read_token(SETTINGS)
    assert error.value.key == "telegram.token_env"
    assert "WATCHER_TEST_TOKEN" in error.value.problem and "@BotFather" in error.value.fix


def test_no_log_line_shows_the_token(monkeypatch):
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [handler])
    monkeypatch.setattr(root, "level", logging.INFO)
    httpx_level = logging.getLogger("httpx").level
    keep_out_of_logs(TOKEN)
    try:
        log = logging.getLogger("watcher.test")
        log.warning("POST https://api.telegram.org/bot%s/getMe failed", TOKEN)
        try:
            raise RuntimeError(f"connect to https://api.telegram.org/bot{TOKEN}/sendMessage")
        except RuntimeError:
            log.exception("sending failed")
        logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/x",
                                        TOKEN)
    finally:
        logging.getLogger("httpx").setLevel(httpx_level)

    text = out.getvalue()
    assert TOKEN not in text
    assert f"/bot{REDACTED}/getMe failed" in text and f"/bot{REDACTED}/sendMessage" in text
    assert "HTTP Request" not in text  # httpx is held at WARNING
