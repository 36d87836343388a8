"""One check at a time in the bot: a /check that arrives while one runs joins it, each chat
waits out a cooldown between its own checks, and no chat sends more than a few commands a
minute."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from watcher.bot.delivery import Message, audience
from watcher.config import Config
from watcher.models import Digest
from watcher.pipeline import CheckResult, run_check
from watcher.store import Store


class CheckRunner:
    def __init__(self, config: Config, store: Store, clock: Callable[[], datetime]):
        self._config, self._store, self._clock = config, store, clock
        self._task: asyncio.Task[CheckResult] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> Awaitable[CheckResult]:
        """Start a check, or join the one already running; await the result."""
        if not self.running:
            self._task = asyncio.create_task(run_check(
                self._config, self._store, now=self._clock, recipients=self._news_audience))
        # Shielded: one caller giving up must not cancel the check the others are waiting on.
        return asyncio.shield(self._task)


    def _news_audience(self, digest: Digest) -> list[Message]:
        """Changes go to everyone who gets the weekly digest, queued with the digest itself: a
        check advances the snapshots, so they would never reach a later digest. Who asked, and
        a weekly run's quiet digest, are queued by the caller afterwards."""
        return audience(self._config, self._store, digest) if digest.kind == "changes" else []


@dataclass
class Cooldown:
    length: timedelta
    _started: dict[int, datetime] = field(default_factory=dict)

    def claim(self, chat_id: int, now: datetime) -> timedelta | None:
        """Start the chat's cooldown and return None, or return how long it still has to wait."""
        last = self._started.get(chat_id)
        if last is not None and now - last < self.length:
            return self.length - (now - last)
        self._started[chat_id] = now
        return None


@dataclass
class RateLimit:
    """At most `per_minute` updates a minute from one chat. The first one over is answered
    (the verdict "warn"), the rest of that minute dropped without a word."""

    per_minute: int = 20
    _seen: dict[int, deque[datetime]] = field(default_factory=dict)

    def judge(self, chat_id: int, now: datetime) -> Literal["ok", "warn", "drop"]:
        seen = self._seen.setdefault(chat_id, deque())
        while seen and now - seen[0] >= timedelta(minutes=1):
            seen.popleft()
        seen.append(now)
        if len(seen) <= self.per_minute:
            return "ok"
        return "warn" if len(seen) == self.per_minute + 1 else "drop"
