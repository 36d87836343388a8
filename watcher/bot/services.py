"""What the handlers and jobs share, kept in `application.bot_data` (no module-level state)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from telegram.ext import CallbackContext

from watcher.bot.checks import CheckRunner, Cooldown, RateLimit
from watcher.bot.delivery import Outbox
from watcher.bot.schedule import Schedule
from watcher.config import Config
from watcher.store import Store

KEY = "services"


@dataclass
class Services:
    config: Config
    store: Store
    schedule: Schedule
    checks: CheckRunner
    cooldown: Cooldown
    rate: RateLimit
    outbox: Outbox
    clock: Callable[[], datetime]


def services_of(context: CallbackContext) -> Services:
    return context.bot_data[KEY]
