"""`watcher run`: the Application, its services, handlers and jobs, built in one place.

`watcher check --post` uses `post` here: the same outbox, through a bare Bot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from telegram import Bot, Update
from telegram.error import InvalidToken, NetworkError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from watcher.bot import handlers, jobs
from watcher.bot.checks import CheckRunner, Cooldown, RateLimit
from watcher.bot.delivery import Outbox, Sleep, audience
from watcher.bot.schedule import Schedule
from watcher.bot.services import KEY, Services
from watcher.config import Config, ConfigError
from watcher.i18n import translator
from watcher.models import Digest
from watcher.store import Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# Edited messages are left alone: editing "/check" into "/check " must not run a second check.
_NEW_MESSAGES = filters.UpdateType.MESSAGE
_COMMANDS = {
    "start": handlers.help_, "help": handlers.help_, "subscribe": handlers.subscribe,
    "unsubscribe": handlers.unsubscribe, "last": handlers.last, "archive": handlers.archive,
    "digest": handlers.digest, "status": handlers.status, "facts": handlers.facts,
    "sources": handlers.sources, "roi": handlers.roi,
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_application(config: Config, store: Store, token: str, *, clock: Clock = _utc_now,
                      sleep: Sleep = asyncio.sleep) -> Application:
    """The bot, ready for `run_polling`; `clock` and `sleep` are what tests drive."""
    application = (
        Application.builder().token(token)
        .base_url(f"{config.telegram.api_base_url}/bot")
        .base_file_url(f"{config.telegram.api_base_url}/file/bot")
        .post_init(_on_start)
        .build()
    )
    application.bot_data[KEY] = Services(
        config=config,
        store=store,
        schedule=Schedule.from_settings(config.telegram),
        checks=CheckRunner(config, store, clock),
        cooldown=Cooldown(timedelta(minutes=config.telegram.cooldown_minutes)),
        rate=RateLimit(),
        outbox=Outbox(application.bot, store, clock, sleep),
        clock=clock,
    )
    # group -1 runs before the commands: a chat over its rate is stopped there
    application.add_handler(TypeHandler(Update, handlers.throttle), group=-1)
    for name, callback in _COMMANDS.items():
        application.add_handler(CommandHandler(name, callback, filters=_NEW_MESSAGES))
    # Not blocking: a check takes a while, and other updates (another /check that joins it)
    # must be handled meanwhile.
    application.add_handler(CommandHandler("check", handlers.check, filters=_NEW_MESSAGES,
                                           block=False))
    application.add_handler(CallbackQueryHandler(handlers.open_digest,
                                                 pattern=handlers.OPEN_DIGEST))
    application.add_handler(MessageHandler(
        _NEW_MESSAGES & filters.TEXT & (filters.COMMAND | filters.ChatType.PRIVATE),
        handlers.hint))
    application.add_error_handler(handlers.on_error)
    return application


async def _on_start(application: Application) -> None:
    services: Services = application.bot_data[KEY]
    await application.bot.set_my_commands(
        handlers.commands(translator(services.config.language)))
    last_run = services.store.last_run()
    last_started = last_run[1] if last_run else None
    jobs.install(application.job_queue, services.schedule, last_started, services.clock())


def run(config: Config, token: str) -> None:
    """Poll Telegram and run the schedule until stopped (Ctrl-C or SIGTERM)."""
    store = Store.open(config.store_path)
    try:
        with _token_refused_as_config_error(config):
            # Started before the network is up (a container, a boot), it keeps trying to reach
            # Telegram, as it does once running; a refused token still stops it at once.
            build_application(config, store, token).run_polling(
                allowed_updates=Update.ALL_TYPES, bootstrap_retries=-1)
    finally:
        store.close()


async def post(config: Config, store: Store, token: str, digest: Digest) -> None:
    """Queue a digest for everyone who gets the weekly one, and send it (and what was pending)."""
    api = config.telegram.api_base_url
    bot = Bot(token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot")
    outbox = Outbox(bot, store, _utc_now)
    outbox.queue(digest, audience(config, store, digest))  # first: an outage loses nothing
    try:
        with _token_refused_as_config_error(config):
            async with bot:
                await outbox.flush()
    except NetworkError as exc:
        log.warning("cannot reach Telegram (%s): the digest stays queued for the next post "
                    "or the bot", exc)


@contextmanager
def _token_refused_as_config_error(config: Config) -> Iterator[None]:
    try:
        yield
    except InvalidToken:
        name = config.telegram.token_env
        raise ConfigError(config.path, "telegram.token_env",
                          f"Telegram refused the token in {name}",
                          f"copy it again from @BotFather (/mybots, API Token) into {name}"
                          ) from None
