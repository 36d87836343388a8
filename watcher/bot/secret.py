"""The bot token: read from the environment only, and never shown in a log line.

The Bot API carries the token in every request URL, and httpx logs each URL at INFO level, so
its logger is held at WARNING and every log handler redacts the token from what it writes.
"""

from __future__ import annotations

import logging
import os

from watcher.config import Config, ConfigError

REDACTED = "<token>"


def read_token(config: Config) -> str:
    name = config.telegram.token_env
    token = os.environ.get(name, "").strip()
    if not token:
        raise ConfigError(config.path, "telegram.token_env",
                          f"the environment variable {name} is empty or not set",
                          f"create a bot with @BotFather and export {name}=<its token>")
    return token


def keep_out_of_logs(token: str) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_Redact(token))


class _Redact(logging.Filter):
    def __init__(self, secret: str):
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = record.getMessage().replace(self._secret, REDACTED)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = record.exc_text.replace(self._secret, REDACTED)
        return True
