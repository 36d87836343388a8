"""The bot end to end: python-telegram-bot against the Bot API emulator, the sources against the
replay server, and the tests acting as Telegram users.

The clock the bot reads is a test's: Tuesday 2026-11-24, 10:00 in Ho Chi Minh City, the day after
a scheduled Monday. Scheduled jobs are run directly; sleeps the outbox asks for are recorded,
not slept.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from emulator import Chat, Telegram, User
from telegram.ext import Application

from watcher import config
from watcher.bot import checks, handlers, jobs
from watcher.bot.app import build_application
from watcher.bot.delivery import MAX_ATTEMPTS
from watcher.bot.facts import fact_sheet
from watcher.classify.facts import LABELS
from watcher.cli import main
from watcher.config import Config
from watcher.demo import write_config
from watcher.digest import split_message
from watcher.pipeline import CheckResult, run_check
from watcher.replay import ReplayServer
from watcher.store import Store, Subscriber

TUESDAY = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
SAIGON = ZoneInfo("Asia/Ho_Chi_Minh")

ALICE, BOB, CAROL, DAVE, ERIN = (User(101, "Alice"), User(102, "Bob"), User(103, "Carol"),
                                 User(104, "Dave"), User(105, "Erin"))
ALICE_CHAT, BOB_CHAT, CAROL_CHAT, DAVE_CHAT, ERIN_CHAT = (
    Chat(u.id) for u in (ALICE, BOB, CAROL, DAVE, ERIN))
GROUP = Chat(-1001200, "supergroup")
TEAM = Chat(-1001300, "supergroup")


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    """One bot under test: its config, store, clock and the sleeps it asked for."""

    folder: Path
    replay: ReplayServer
    telegram: Telegram
    clock: Clock = field(default_factory=lambda: Clock(TUESDAY))
    sleeps: list[float] = field(default_factory=list)
    config: Config | None = None
    store: Store | None = None

    def configure(self, **telegram_keys: object) -> None:
        """Write the demo config pointed at the replay server and the emulator, with these
        [telegram] keys changed, and (re)open the store."""
        path = write_config(self.folder, self.replay.base_url)
        text = path.read_text().replace("https://api.telegram.org", self.telegram.url)
        for key, value in telegram_keys.items():
            text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {json.dumps(value)}", text)
        path.write_text(text)
        self.config = config.load(path)
        if self.store is None:
            self.store = Store.open(self.config.store_path)

    async def check(self) -> CheckResult:
        """A check the way `watcher check` runs it, outside the bot."""
        return await run_check(self.config, self.store, now=self.clock)

    def subscribe(self, chat: Chat, *categories: str) -> None:
        self.store.subscribe(chat.id, list(categories), self.clock())

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Application]:
        """The bot as `watcher run` starts it, polling the emulator until the block ends."""
        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        app = build_application(self.config, self.store, self.telegram.token, clock=self.clock,
                                sleep=sleep)
        await app.initialize()
        await app.post_init(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=10)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()


@pytest.fixture
def rig(tmp_path, replay, telegram):
    rig = Rig(tmp_path, replay, telegram)
    rig.configure()
    yield rig
    rig.store.close()


async def run_weekly(app: Application) -> None:
    """Fire the weekly job now, as its Monday trigger would."""
    [weekly] = app.job_queue.get_jobs_by_name(jobs.WEEKLY)
    await weekly.run(app)


async def test_private_chat_subscribes_checks_and_unsubscribes(rig, telegram, replay):
    await rig.check()  # week 1: the baseline
    async with rig.running():
        await telegram.command("/start", ALICE_CHAT, ALICE)
        help_text = (await telegram.reply(ALICE_CHAT))["text"]
        assert "/subscribe" in help_text and "/archive" in help_text
        assert "Next weekly digest: Mon 2026-11-30 09:00 (Asia/Ho_Chi_Minh)" in help_text

        await telegram.command("/subscribe", ALICE_CHAT, ALICE)
        assert (await telegram.reply(ALICE_CHAT))["text"].startswith(
            "Subscribed: this chat gets the weekly digest. Next: Mon 2026-11-30 09:00")
        assert rig.store.subscribers() == [Subscriber(ALICE.id, [])]

        replay.use_week(2)
        await telegram.command("/check", ALICE_CHAT, ALICE)
        checking, digest = await telegram.replies(ALICE_CHAT, 2)
        assert checking["text"] == f"Checking {len(rig.config.sources)} sources…"
        assert digest["parse_mode"] == "HTML"
        assert digest["text"].startswith("<b>COCOON watch #2 — 2026-11-24</b>")
        assert ">+ New commit: update ton" in digest["text"]

        await telegram.command("/status", ALICE_CHAT, ALICE)
        status = (await telegram.reply(ALICE_CHAT))["text"]
        assert "Last run: Tue 2026-11-24 10:00 (Asia/Ho_Chi_Minh), ok" in status
        assert "• Telegram @cocoon: ok (" in status and "• Worker release: ok (1 item)" in status
        assert "Next weekly digest: Mon 2026-11-30 09:00" in status
        assert "Subscribers: 1, team chats: 0" in status
        assert f"This chat's id (for telegram.chats): <code>{ALICE_CHAT.id}</code>" in status

        await telegram.command("/unsubscribe", ALICE_CHAT, ALICE)
        assert (await telegram.reply(ALICE_CHAT))["text"].startswith("Unsubscribed")
        await telegram.command("/unsubscribe", ALICE_CHAT, ALICE)
        assert (await telegram.reply(ALICE_CHAT))["text"] == "This chat was not subscribed."
    assert rig.store.subscribers() == []
    assert len(await telegram.sent(ALICE_CHAT)) == 7  # each command answered once, no more


async def test_archive_last_digest_facts_sources_and_hints(rig, telegram, replay):
    await rig.check()
    replay.use_week(2)
    await rig.check()
    async with rig.running():
        await telegram.command("/last", ALICE_CHAT, ALICE)
        assert (await telegram.reply(ALICE_CHAT))["text"] == rig.store.digest(2).html

        await telegram.command("/archive", ALICE_CHAT, ALICE)
        listing = await telegram.reply(ALICE_CHAT)
        assert f"#2 · 2026-11-24 · {escape(rig.store.digest(2).headline)}" in listing["text"]
        assert f"#1 · 2026-11-24 · {escape(rig.store.digest(1).headline)}" in listing["text"]
        buttons = [row[0] for row in listing["reply_markup"]["inline_keyboard"]]
        assert [b["callback_data"] for b in buttons] == ["digest:2", "digest:1"]

        await telegram.press("digest:1", ALICE_CHAT, ALICE, listing["message_id"])
        assert "Baseline recorded" in (await telegram.reply(ALICE_CHAT))["text"]
        await telegram.command("/digest 2", ALICE_CHAT, ALICE)
        assert (await telegram.reply(ALICE_CHAT))["text"] == rig.store.digest(2).html
        await telegram.command("/digest 99", ALICE_CHAT, ALICE)
        assert (await telegram.reply(ALICE_CHAT))["text"] == "No digest #99: see /archive."
        await telegram.command("/digest", ALICE_CHAT, ALICE)
        assert (await telegram.reply(ALICE_CHAT))["text"].startswith("Which one?")

        await telegram.command("/facts", ALICE_CHAT, ALICE)
        parts = len(split_message(fact_sheet(rig.store)))  # the on-chain facts make it long
        sheet = "\n".join(m["text"] for m in await telegram.replies(ALICE_CHAT, parts))
        facts = rig.store.current_facts()
        assert sheet.startswith("<b>Fact sheet</b>") and len(facts) > 3
        assert all(f"<b>{escape(LABELS[name])}</b>: " in sheet for name in facts)

        await telegram.command("/sources", ALICE_CHAT, ALICE)
        watched = (await telegram.reply(ALICE_CHAT))["text"]
        assert '<a href="https://github.com/TelegramMessenger/cocoon">' in watched
        assert watched.count("<a href=") == len(rig.config.sources)

        await telegram.say("what's new?", ALICE_CHAT, ALICE)
        assert (await telegram.reply(ALICE_CHAT))["text"] == handlers.HINT
        await telegram.command("/weather", ALICE_CHAT, ALICE)
        assert (await telegram.reply(ALICE_CHAT))["text"] == handlers.HINT


async def test_in_a_group_only_admins_change_the_subscription(rig, telegram):
    async with rig.running():
        await telegram.command("/subscribe", GROUP, BOB)
        assert (await telegram.reply(GROUP))["text"] == handlers.ADMINS_ONLY
        assert rig.store.subscribers() == []

        await telegram.make_member(GROUP, BOB, "administrator")
        await telegram.command("/subscribe hardware gpus", GROUP, BOB)
        assert (await telegram.reply(GROUP))["text"].startswith("Unknown category: gpus.")
        await telegram.command("/subscribe Hardware pricing", GROUP, BOB)
        assert (await telegram.reply(GROUP))["text"].startswith(
            "Subscribed: this chat gets the weekly digest, only its changes in hardware, pricing.")
        assert rig.store.subscribers() == [Subscriber(GROUP.id, ["hardware", "pricing"])]

        await telegram.command("/unsubscribe", GROUP, ALICE)
        assert (await telegram.reply(GROUP))["text"] == handlers.ADMINS_ONLY
        await telegram.make_member(GROUP, ALICE, "creator")
        await telegram.command("/unsubscribe", GROUP, ALICE)
        assert (await telegram.reply(GROUP))["text"].startswith("Unsubscribed")
        assert rig.store.subscribers() == []

        # In a group a command may be meant for another bot: only ours gets the hint.
        await telegram.command("/weather", GROUP, ALICE)
        await telegram.command("/weather@TestNameBot", GROUP, ALICE)
        await telegram.command("/help", GROUP, ALICE)
        hint, help_text = await telegram.replies(GROUP, 2)
        assert hint["text"] == handlers.HINT and "/subscribe" in help_text["text"]


async def test_a_second_check_joins_the_running_one_then_the_cooldown_holds(
        rig, telegram, monkeypatch):
    await rig.check()
    gate = asyncio.Event()
    real_check = checks.run_check

    async def held_check(*args, **kwargs):
        await gate.wait()
        return await real_check(*args, **kwargs)

    monkeypatch.setattr(checks, "run_check", held_check)
    async with rig.running():
        await telegram.command("/check", ALICE_CHAT, ALICE)
        checking = f"Checking {len(rig.config.sources)} sources…"
        assert (await telegram.reply(ALICE_CHAT))["text"] == checking
        await telegram.command("/check", GROUP, BOB)
        assert (await telegram.reply(GROUP))["text"] == (
            "A check is already running: its digest follows.")
        gate.set()
        assert "COCOON watch #2" in (await telegram.reply(ALICE_CHAT))["text"]
        assert "COCOON watch #2" in (await telegram.reply(GROUP))["text"]
        assert [d.id for d in rig.store.digests()] == [2, 1]  # one check for both

        await telegram.command("/check", ALICE_CHAT, ALICE)
        assert (await telegram.reply(ALICE_CHAT))["text"] == (
            "This chat ran a check a moment ago; try again in 10 minutes, or see /last.")
        rig.clock.now += timedelta(minutes=10)
        await telegram.command("/check", ALICE_CHAT, ALICE)
        checking, digest = await telegram.replies(ALICE_CHAT, 2)
        assert "COCOON watch #3" in digest["text"] and "No changes" in digest["text"]


async def test_a_chat_flooding_commands_gets_one_word_then_silence(rig, telegram):
    async with rig.running():
        for _ in range(21):
            await telegram.command("/help", ERIN_CHAT, ERIN)
        replies = await telegram.replies(ERIN_CHAT, 21)
        assert all("/subscribe" in r["text"] for r in replies[:20])
        assert replies[20]["text"] == handlers.TOO_MANY
        await telegram.command("/help", ERIN_CHAT, ERIN)  # dropped without a word
        await telegram.command("/help", DAVE_CHAT, DAVE)  # other chats are not held up
        assert "/subscribe" in (await telegram.reply(DAVE_CHAT))["text"]
        assert len(await telegram.sent(ERIN_CHAT)) == 21


async def test_allowlist_refuses_others_politely(rig, telegram):
    rig.configure(allow_users=[ALICE.id], allow_chats=[TEAM.id])
    await rig.check()
    async with rig.running():
        await telegram.command("/check", BOB_CHAT, BOB)
        assert (await telegram.reply(BOB_CHAT))["text"] == handlers.NOT_ALLOWED
        await telegram.command("/subscribe", BOB_CHAT, BOB)
        assert (await telegram.reply(BOB_CHAT))["text"] == handlers.NOT_ALLOWED
        await telegram.command("/check", TEAM, BOB)
        checking, digest = await telegram.replies(TEAM, 2)
        assert checking["text"] == f"Checking {len(rig.config.sources)} sources…"
        assert "No changes" in digest["text"]
        await telegram.command("/subscribe", ALICE_CHAT, ALICE)
        assert (await telegram.reply(ALICE_CHAT))["text"].startswith("Subscribed")
    assert rig.store.subscribers() == [Subscriber(ALICE.id, [])]


async def test_weekly_job_delivers_to_team_chats_and_every_subscriber(rig, telegram, replay):
    rig.configure(chats=[TEAM.id], filtered_empty="line")
    await rig.check()
    rig.subscribe(ALICE_CHAT)
    rig.subscribe(GROUP, "hardware")
    rig.subscribe(BOB_CHAT, "governance")
    rig.subscribe(TEAM)  # a team chat that also subscribed gets the digest once
    replay.use_week(2)
    async with rig.running() as app:
        [weekly] = app.job_queue.get_jobs_by_name(jobs.WEEKLY)
        due = weekly.next_t.astimezone(SAIGON)
        assert (due.weekday(), due.hour, due.minute) == (0, 9, 0)
        await run_weekly(app)

    whole = rig.store.digest(2).html
    assert [m["text"] for m in await telegram.sent(TEAM)] == [whole]
    assert [m["text"] for m in await telegram.sent(ALICE_CHAT)] == [whole]
    [hardware] = await telegram.sent(GROUP)
    changes = rig.store.digest(2).digest.changes
    about_hardware = [c.title for c in changes if "hardware" in c.categories]
    assert about_hardware and all(title in hardware["text"] for title in about_hardware)
    assert len(about_hardware) < len(changes) and "update ton" not in hardware["text"]
    [governance] = await telegram.sent(BOB_CHAT)
    assert governance["text"] == ("COCOON watch #2: nothing in governance this time. "
                                  "/digest 2 shows everything.")
    assert rig.store.pending() == []


async def test_telegram_errors_wait_fall_back_or_unsubscribe(rig, telegram, replay, caplog):
    await rig.check()
    for chat in (ALICE_CHAT, BOB_CHAT, CAROL_CHAT, DAVE_CHAT):
        rig.subscribe(chat)
    await telegram.fail_next(BOB_CHAT, 429, "Too Many Requests: retry after 7", retry_after=7)
    await telegram.fail_next(CAROL_CHAT, 403, "Forbidden: bot was blocked by the user")
    await telegram.fail_next(DAVE_CHAT, 400, "Bad Request: can't parse entities: Unsupported "
                                             'start tag "x" at byte offset 0')
    replay.use_week(2)
    caplog.set_level(logging.WARNING, "watcher.bot.delivery")
    async with rig.running() as app:
        await run_weekly(app)

    whole = rig.store.digest(2).html
    assert [m["text"] for m in await telegram.sent(ALICE_CHAT)] == [whole]
    assert [m["text"] for m in await telegram.sent(BOB_CHAT)] == [whole]
    assert rig.sleeps == [7.0]  # as long as Telegram said, once
    assert await telegram.sent(CAROL_CHAT) == []
    assert [s.chat_id for s in rig.store.subscribers()] == [ALICE.id, BOB.id, DAVE.id]
    assert f"chat {CAROL.id}: Forbidden: bot was blocked by the user; unsubscribed" in caplog.text
    [plain] = await telegram.sent(DAVE_CHAT)
    assert "parse_mode" not in plain
    assert ("+ New commit: update ton · GitHub TelegramMessenger/cocoon — "
            "https://github.com/TelegramMessenger/cocoon/commit/") in plain["text"]
    assert "<" not in plain["text"]
    assert rig.store.pending() == []


async def test_a_restart_sends_pending_deliveries_exactly_once(rig, telegram, replay):
    await rig.check()
    rig.subscribe(ALICE_CHAT)
    rig.subscribe(CAROL_CHAT)
    await telegram.fail_next(CAROL_CHAT, 502, "Bad Gateway", times=MAX_ATTEMPTS)
    replay.use_week(2)
    async with rig.running() as app:
        await run_weekly(app)
        assert [d.chat_id for d in rig.store.pending()] == [CAROL.id]
        assert rig.sleeps == [1.0, 2.0, 4.0, 8.0]  # bounded backoff, then left pending
    assert len(await telegram.sent(ALICE_CHAT)) == 1

    async with rig.running():  # the restart: the outbox is flushed at start
        await telegram.reply(CAROL_CHAT)
    whole = rig.store.digest(2).html
    assert [m["text"] for m in await telegram.sent(ALICE_CHAT)] == [whole]
    assert [m["text"] for m in await telegram.sent(CAROL_CHAT)] == [whole]
    assert rig.store.pending() == []


async def test_a_missed_monday_runs_once_on_start(rig, telegram, replay, caplog):
    caplog.set_level(logging.INFO, "watcher.bot.jobs")
    rig.clock.now = TUESDAY - timedelta(days=8)  # Monday the 16th, 10:00: after that run
    await rig.check()
    rig.subscribe(ALICE_CHAT)
    rig.clock.now = TUESDAY  # the bot was down over Monday the 23rd
    replay.use_week(2)
    async with rig.running():
        assert "COCOON watch #2" in (await telegram.reply(ALICE_CHAT))["text"]
    assert caplog.text.count("running it now") == 1
    async with rig.running():  # up again the same day: nothing is missed any more
        await telegram.command("/last", ALICE_CHAT, ALICE)
        assert "COCOON watch #2" in (await telegram.reply(ALICE_CHAT))["text"]
    assert caplog.text.count("running it now") == 1
    assert [d.id for d in rig.store.digests()] == [2, 1]


def test_check_post_sends_through_the_same_outbox(rig, telegram, monkeypatch, capsys):
    rig.configure(chats=[TEAM.id])
    rig.subscribe(ALICE_CHAT)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", telegram.token)
    assert main(["check", "--post", "--config", str(rig.config.path)]) == 0
    assert "Baseline recorded" in capsys.readouterr().out
    for chat in (TEAM, ALICE_CHAT):
        [posted] = asyncio.run(telegram.sent(chat))
        assert posted["text"] == rig.store.digest(1).html
    assert rig.store.pending() == []


def test_check_post_keeps_the_digest_queued_while_telegram_is_down(rig, telegram, monkeypatch,
                                                                   caplog):
    rig.configure(chats=[TEAM.id], api_base_url="http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", telegram.token)
    assert main(["check", "--post", "--config", str(rig.config.path)]) == 0
    assert "the digest stays queued" in caplog.text
    assert [d.chat_id for d in rig.store.pending()] == [TEAM.id]


def test_check_post_needs_the_token_and_a_real_run(rig, monkeypatch, capsys):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["check", "--post", "--config", str(rig.config.path)]) == 2
    error = capsys.readouterr().err
    assert "telegram.token_env" in error and "TELEGRAM_BOT_TOKEN" in error
    assert rig.store.digests() == []  # refused before checking anything
    with pytest.raises(SystemExit) as usage:
        main(["check", "--post", "--dry-run", "--config", str(rig.config.path)])
    assert usage.value.code == 2


def test_watcher_run_answers_then_stops_cleanly_without_logging_the_token(rig, telegram):
    environment = {**os.environ, "TELEGRAM_BOT_TOKEN": telegram.token}
    bot = subprocess.Popen([sys.executable, "-m", "watcher", "-v", "run", "--config",
                            str(rig.config.path)], env=environment, stderr=subprocess.PIPE,
                           text=True)
    try:
        asyncio.run(telegram.command("/help", ALICE_CHAT, ALICE))
        assert "Next weekly digest" in asyncio.run(telegram.reply(ALICE_CHAT))["text"]
    finally:
        bot.send_signal(signal.SIGINT)
        _, log = bot.communicate(timeout=30)
    assert bot.returncode == 0
    assert "Application started" in log and "running it now" in log  # the first start's run
    assert telegram.token not in log and telegram.token.split(":")[1] not in log


async def test_roi_answers_the_scenarios_then_a_scenario_of_one_s_own(rig, telegram, replay):
    await rig.check()  # the baseline reads the worker fee off the root contract
    async with rig.running():
        await telegram.command("/help", ALICE_CHAT, ALICE)
        assert "/roi — payback of a GPU on COCOON" in (await telegram.reply(ALICE_CHAT))["text"]

        await telegram.command("/roi", ALICE_CHAT, ALICE)
        answer = await telegram.reply(ALICE_CHAT)
        assert answer["parse_mode"] == "HTML"
        assert answer["text"].startswith(
            "<pre>ROI of one GPU: capex 45,000 USD, cost 12 USD/day\n")
        assert answer["text"].endswith("nearest scenario: bear (1.5 USD/GPU-hr)</pre>")
        lines = answer["text"].splitlines()
        assert lines[3:6] == [
            "bear       1.5   20%    7.2     12   −4.8  never",
            "base         3   40%   28.8     12   16.8  2,679 days ≈ 7.3 years",
            "bull         5   70%     84     12     72  625 days ≈ 1.7 years",
        ]
        assert "bear  utilization 33.3% at 1.5 USD/GPU-hr; rate 2.5 USD/GPU-hr at 20%" in lines
        assert "= 0.58 USD/GPU-hr at 100% utilization; nearest scenario: bear (1.5 USD/GPU-hr)" \
            "</pre>" in lines

        await telegram.command("/roi rate=3.2 util=55%", ALICE_CHAT, ALICE)
        custom = (await telegram.reply(ALICE_CHAT))["text"]
        assert custom.startswith(
            "<pre>ROI of one GPU, your scenario: capex 45,000 USD, cost 12 USD/day\n")
        # 3.2 × 24 × 55% = 42.24 USD a day, less 12: 45,000 / 30.24 = 1,488 days
        assert "custom     3.2   55%   42.2     12   30.2  1,488 days ≈ 4.1 years" in custom
        assert "custom  utilization 15.6% at 3.2 USD/GPU-hr; rate 0.91 USD/GPU-hr at 55%" in custom

        await telegram.command("/roi util=120%", ALICE_CHAT, ALICE)
        assert (await telegram.reply(ALICE_CHAT))["text"] == (
            "util=120% is over 100%: a GPU is busy at most all day.\n"
            "For example: /roi rate=3.2 util=55% capex=40000 cost=12")
        await telegram.command("/roi power=300", GROUP, BOB)
        assert (await telegram.reply(GROUP))["text"].startswith(
            'unknown key &quot;power&quot;: use rate, util, capex or cost.')

        replay.use_week(2)  # the price per token moves: the digest carries the ROI line
        await telegram.command("/check", ALICE_CHAT, ALICE)
        _, digest = await telegram.replies(ALICE_CHAT, 2)
        assert "\nROI: 0.58 USD/GPU-hr implied at 100% utilization with 2 USD/TON" in (
            digest["text"])
