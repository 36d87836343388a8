"""The outbox against a scripted Bot API (python-telegram-bot's offline pattern: a Bot whose
request object answers from a script), and who gets which digest."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot
from telegram.request import BaseRequest

from watcher import config
from watcher.bot.delivery import MAX_ATTEMPTS, Outbox, as_plain_text, audience
from watcher.digest import TELEGRAM_LIMIT, render_html, telegram_length
from watcher.models import Change, Digest, FactMove, SourceOutcome
from watcher.store import Store, Subscriber

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ALICE, BOB, TEAM = 101, 102, -1001300


class ScriptedApi(BaseRequest):
    """Answers sendMessage with success unless an error is queued for that chat, or Telegram is
    "down" (502) once `outage_after` messages went through; records what was sent as
    (chat id, text, parse mode)."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, str | None]] = []
        self.outage_after: int | None = None
        self._errors: dict[int, list[tuple[int, dict[str, Any]]]] = {}

    def fail(self, chat_id: int, status: int, description: str, times: int = 1,
             **parameters: Any) -> None:
        body = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        self._errors.setdefault(chat_id, []).extend([(status, body)] * times)

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, url, method, request_data=None, **timeouts) -> tuple[int, bytes]:
        params = request_data.parameters if request_data else {}
        if url.endswith("/getMe"):
            return 200, _ok({"id": 1, "is_bot": True, "first_name": "W", "username": "w_bot"})
        chat_id = int(params["chat_id"])
        if self.outage_after is not None and len(self.sent) >= self.outage_after:
            return 502, json.dumps({"ok": False, "description": "Bad Gateway"}).encode()
        if self._errors.get(chat_id):
            status, body = self._errors[chat_id].pop(0)
            return status, json.dumps(body).encode()
        self.sent.append((chat_id, params["text"], params.get("parse_mode")))
        return 200, _ok({"message_id": len(self.sent), "date": 0, "text": params["text"],
                         "chat": {"id": chat_id, "type": "private"}})


def _ok(result: Any) -> bytes:
    return json.dumps({"ok": True, "result": result}).encode()


@pytest.fixture
def api() -> ScriptedApi:
    return ScriptedApi()


@pytest.fixture
def store(tmp_path):
    store = Store.open(tmp_path / "w.db")
    yield store
    store.close()


@pytest.fixture
async def outbox(api, store):
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with Bot("1:T", request=api, get_updates_request=ScriptedApi()) as bot:
        box = Outbox(bot, store, lambda: NOW, sleep)
        box.sleeps = sleeps
        yield box


def settings(**telegram: Any) -> config.Config:
    raw = {"telegram": telegram, "sources": [{"name": "c", "kind": "telegram_channel",
                                              "channel": "cocoon"}]}
    return config.parse(raw, Path("watcher.toml"))


def change(title: str, *categories: str) -> Change:
    return Change("GitHub", title, "commit", "added", title, f"https://x/{title}",
                  categories=list(categories))


def weekly(*changes: Change, digest_id: int = 7) -> Digest:
    outcomes = [SourceOutcome("GitHub", "github", "ok", 3)]
    return Digest("changes" if changes else "no_changes", NOW, list(changes), outcomes,
                  id=digest_id)


def archived(store: Store, digest: Digest) -> Digest:
    """Give the digest a row in the archive, as a check does, so the outbox can refer to it."""
    run = store.start_run(NOW)
    store.commit_run(run, NOW, digest, "h", [], [], lambda d: ("text", "html"))
    return digest


def long_html(sections: int) -> str:
    """Sections of about 3,000 characters: two never fit one message."""
    return "\n\n".join(
        f"<b>Section {s}</b>\n" + "\n".join(f'<a href="https://x/{s}/{i}">line {i}</a>'
                                           for i in range(75))
        for s in range(sections))


async def test_network_errors_back_off_then_stay_pending_until_the_next_flush(
        api, store, outbox):
    digest = archived(store, weekly(change("a")))
    api.fail(ALICE, 502, "Bad Gateway", times=MAX_ATTEMPTS)
    await outbox.deliver(digest, [(ALICE, "<b>hi</b>"), (BOB, "<b>hi</b>")])
    assert outbox.sleeps == [1.0, 2.0, 4.0, 8.0]
    assert [d.chat_id for d in store.pending()] == [ALICE, BOB]  # stopped at the outage
    assert api.sent == []

    await outbox.flush()
    assert api.sent == [(ALICE, "<b>hi</b>", "HTML"), (BOB, "<b>hi</b>", "HTML")]
    assert store.pending() == []


async def test_a_long_digest_goes_in_parts_and_resumes_after_the_part_sent(api, store, outbox):
    digest = archived(store, weekly(change("a")))
    html = long_html(3)
    api.outage_after = 1  # the first part goes out, then Telegram is gone
    await outbox.deliver(digest, [(ALICE, html)])
    [pending] = store.pending()
    assert pending.parts_sent == 1 and len(api.sent) == 1

    api.outage_after = None
    await outbox.flush()  # as after a restart: the rest, and never the first part again
    assert store.pending() == []
    texts = [text for _, text, _ in api.sent]
    assert len(texts) == 3 == len(set(texts))
    assert all(telegram_length(t) <= TELEGRAM_LIMIT for t in texts)
    assert "\n\n".join(texts) == html


async def test_refused_html_is_sent_as_plain_text(api, store, outbox, caplog):
    digest = archived(store, weekly(change("a")))
    api.fail(ALICE, 400, "Bad Request: can't parse entities: Unsupported start tag \"x\"")
    await outbox.deliver(digest, [(ALICE, '<b>Week</b>\n<a href="https://x/1?a=1&amp;b=2">'
                                          "New commit: fix &lt;tag&gt;</a>")])
    assert api.sent == [(ALICE, "Week\nNew commit: fix <tag> — https://x/1?a=1&b=2", None)]
    assert "refused the HTML" in caplog.text


async def test_forbidden_unsubscribes_and_a_bad_request_drops_only_that_delivery(
        api, store, outbox, caplog):
    digest = archived(store, weekly(change("a")))
    store.subscribe(ALICE, [], NOW)
    store.subscribe(BOB, [], NOW)
    api.fail(ALICE, 403, "Forbidden: bot was kicked from the supergroup chat")
    api.fail(TEAM, 400, "Bad Request: chat not found")
    await outbox.deliver(digest, [(ALICE, "x"), (TEAM, "x"), (BOB, "x")])
    assert store.subscribers() == [Subscriber(BOB, [])]
    assert api.sent == [(BOB, "x", "HTML")]
    assert store.pending() == []
    assert f"chat {ALICE}: Forbidden: bot was kicked" in caplog.text
    assert f"chat {TEAM}: digest #{digest.id} not delivered: Chat not found" in caplog.text


async def test_retry_after_waits_as_long_as_telegram_says(api, store, outbox):
    digest = archived(store, weekly(change("a")))
    api.fail(ALICE, 429, "Too Many Requests: retry after 31", retry_after=31)
    await outbox.deliver(digest, [(ALICE, "x")])
    assert outbox.sleeps == [31.0]
    assert api.sent == [(ALICE, "x", "HTML")]


async def test_a_chat_gets_a_digest_once_however_often_it_is_queued(api, store, outbox):
    digest = archived(store, weekly(change("a")))
    await outbox.deliver(digest, [(ALICE, "first"), (ALICE, "second")])
    await outbox.deliver(digest, [(ALICE, "third")])
    assert api.sent == [(ALICE, "first", "HTML")]


async def test_a_reply_is_split_under_the_limit(api, outbox):
    await outbox.reply(ALICE, long_html(2))
    assert len(api.sent) == 2
    assert all(telegram_length(text) <= TELEGRAM_LIMIT for _, text, _ in api.sent)


def test_team_chats_get_everything_and_subscribers_their_categories(store):
    store.subscribe(ALICE, [], NOW)
    store.subscribe(BOB, ["pricing"], NOW)
    store.subscribe(103, ["governance"], NOW)
    digest = weekly(change("gpu", "hardware"), change("fee", "pricing", "contract"))
    digest.moves = [FactMove("fee", "Fee", "pricing", "1%", "2%")]
    got = dict(audience(settings(chats=[TEAM]), store, digest))
    whole = render_html(digest)
    assert got[TEAM] == whole and got[ALICE] == whole
    assert "fee" in got[BOB] and "gpu" not in got[BOB] and "Fee 1% → 2%" in got[BOB]
    assert 103 not in got  # filtered_empty = "skip" by default

    line = dict(audience(settings(filtered_empty="line"), store, digest))[103]
    assert line == "COCOON watch #7: nothing in governance this time. /digest 7 shows everything."


def test_unclassified_changes_count_as_other(store):
    store.subscribe(ALICE, ["other"], NOW)
    assert dict(audience(settings(), store, weekly(change("misc"))))[ALICE]


def test_a_quiet_week_goes_to_nobody_when_send_empty_is_off(store):
    store.subscribe(ALICE, [], NOW)
    quiet = settings(chats=[TEAM])
    assert [chat for chat, _ in audience(quiet, store, weekly())] == [TEAM, ALICE]
    silent = config.parse({"digest": {"send_empty": False}, "telegram": {"chats": [TEAM]},
                           "sources": [{"name": "c", "kind": "telegram_channel",
                                        "channel": "cocoon"}]}, Path("w.toml"))
    assert audience(silent, store, weekly()) == []


def test_plain_text_keeps_link_addresses_and_is_never_longer():
    html = '<b><a href="https://t.me/s/cocoon">Channel</a></b>\n<i>a &amp; b</i>'
    plain = as_plain_text(html)
    assert plain == "Channel — https://t.me/s/cocoon\na & b"
    assert len(plain) <= len(html)
