"""The delivery outbox: each digest × chat is queued in the store as pending, sent, then marked.

What Telegram answers decides what happens to one message part:
- RetryAfter: wait as long as it says, then send again;
- a network error: send again after a growing pause, a few times, then leave the delivery
  pending for the next flush (the bot retries every few minutes, and at start);
- Forbidden (the bot was blocked or removed): unsubscribe the chat and drop the delivery;
- HTML it cannot parse: send that part as plain text.
The store counts the parts sent as they go, so a restart sends the rest and none twice.
Only one process should post from a store at a time (one bot, or one `watcher check --post`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from html import unescape

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from watcher import digest as digests
from watcher.config import Config
from watcher.i18n import translator
from watcher.models import Digest
from watcher.store import Delivery, Store

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Message = tuple[int, str]  # (chat id, Telegram HTML, any length)

MAX_ATTEMPTS = 5
MAX_PAUSE = 60.0  # seconds; network-error pauses double from 1 s up to this
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # a digest is a list of links, not one


def audience(config: Config, store: Store, digest: Digest) -> list[Message]:
    """Who gets a digest, and what: team chats all of it, each subscriber its categories' part."""
    if digests.is_quiet(digest) and not config.digest.send_empty:
        return []
    whole = digests.render_html(digest, config.digest.excerpt_chars,
                                translator(config.language))
    messages = [(chat_id, whole) for chat_id in config.telegram.chats]
    for subscriber in store.subscribers():
        html = whole
        if subscriber.categories:
            html = _in_categories(config, digest, subscriber.categories)
        if html is not None:
            messages.append((subscriber.chat_id, html))
    return messages


def _in_categories(config: Config, digest: Digest, categories: list[str]) -> str | None:
    wanted = set(categories)
    changes = [c for c in digest.changes if wanted & set(c.categories or ["other"])]
    moves = [m for m in digest.moves if m.category in wanted]
    t = translator(config.language)
    if changes or moves:
        part = replace(digest, changes=changes, moves=moves)
        return digests.render_html(part, config.digest.excerpt_chars, t)
    if config.telegram.filtered_empty == "line":
        return t("COCOON watch #{id}: nothing in {categories} this time. "
                 "/digest {id} shows everything.", id=digest.id, categories=", ".join(categories))
    return None


class Outbox:
    def __init__(self, bot: Bot, store: Store, clock: Callable[[], datetime],
                 sleep: Sleep = asyncio.sleep):
        self._bot, self._store, self._clock, self._sleep = bot, store, clock, sleep
        self._lock = asyncio.Lock()  # two flushes at once would send the same part twice

    def queue(self, digest: Digest, messages: list[Message]) -> None:
        """Record the messages as pending; a chat that has this digest queued keeps its own."""
        self._store.queue(digest.id, messages, self._clock())

    async def deliver(self, digest: Digest, messages: list[Message]) -> None:
        """Queue the messages, then send everything pending."""
        self.queue(digest, messages)
        await self.flush()

    async def flush(self) -> None:
        """Send every pending delivery; at a network outage stop and leave the rest pending."""
        async with self._lock:
            for delivery in self._store.pending():
                try:
                    await self._send_delivery(delivery)
                except Forbidden as exc:
                    self._drop(delivery, exc, unsubscribe=True)
                except BadRequest as exc:
                    self._drop(delivery, exc, unsubscribe=False)
                except (NetworkError, RetryAfter) as exc:
                    log.warning("Telegram unreachable (%s); deliveries stay pending", exc)
                    return

    async def reply(self, chat_id: int, html: str) -> None:
        """Send now, outside the outbox (an answer to a command), split and retried the same."""
        for part in digests.split_message(html):
            await self._send_part(chat_id, part)

    async def _send_delivery(self, delivery: Delivery) -> None:
        parts = digests.split_message(delivery.html)
        for index in range(delivery.parts_sent, len(parts)):
            await self._send_part(delivery.chat_id, parts[index])
            self._store.record_parts_sent(delivery.id, index + 1)
        self._store.finish_delivery(delivery.id, "sent", self._clock())

    async def _send_part(self, chat_id: int, part: str) -> None:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                await self._send_html(chat_id, part)
                return
            except (RetryAfter, NetworkError) as exc:
                if isinstance(exc, BadRequest) or attempt == MAX_ATTEMPTS:  # BadRequest is a
                    raise  # NetworkError in python-telegram-bot, but sending again won't help
                await self._sleep(_pause(exc, attempt))

    async def _send_html(self, chat_id: int, part: str) -> None:
        try:
            await self._bot.send_message(chat_id, part, parse_mode=ParseMode.HTML,
                                         link_preview_options=NO_PREVIEW)
        except BadRequest as exc:
            if "can't parse entities" not in exc.message.lower():
                raise
            log.warning("chat %s: Telegram refused the HTML (%s); sent as plain text",
                        chat_id, exc.message)
            await self._bot.send_message(chat_id, as_plain_text(part),
                                         link_preview_options=NO_PREVIEW)

    def _drop(self, delivery: Delivery, error: TelegramError, unsubscribe: bool) -> None:
        self._store.finish_delivery(delivery.id, "dropped", self._clock(), error.message)
        if unsubscribe and self._store.unsubscribe(delivery.chat_id):
            log.warning("chat %s: %s; unsubscribed it", delivery.chat_id, error.message)
        else:
            log.error("chat %s: digest #%s not delivered: %s", delivery.chat_id,
                      delivery.digest_id, error.message)


def _pause(error: TelegramError, attempt: int) -> float:
    if isinstance(error, RetryAfter):
        return _retry_after_seconds(error)
    return min(2.0 ** (attempt - 1), MAX_PAUSE)


def _retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form will become a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def as_plain_text(html: str) -> str:
    """Telegram HTML as plain text; a link keeps its address after its text (never longer)."""
    return unescape(_TAG.sub("", _LINK.sub(r"\2 — \1", html)))
