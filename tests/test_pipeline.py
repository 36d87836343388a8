"""The orchestrator with stand-in sources: one failing never stops the others."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from watcher import config
from watcher.models import Fetched, Item
from watcher.pipeline import run_check
from watcher.sources.base import FetchError, Source, register
from watcher.store import Store

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
STATE: dict[str, object] = {}


@register
class ScriptedSource(Source):
    """Returns whatever the test put in STATE under its name (an exception is raised)."""

    kind = "scripted"
    defaults = {"url": ""}

    async def fetch(self, ctx):
        value = STATE[self.name]
        if isinstance(value, Exception):
            raise value
        return Fetched(list(value))


def item(key: str, text: str) -> Item:
    return Item(key, "post", text, f"https://example.org/{key}", text)


@pytest.fixture
def settings(tmp_path: Path):
    path = tmp_path / "w.toml"
    path.write_text(f"""
ignore = ['\\d+ views']
[store]
path = "{tmp_path / 'w.db'}"
[[sources]]
name = "a"
kind = "scripted"
[[sources]]
name = "b"
kind = "scripted"
ignore = ['rotating tip: .*']
""")
    return config.load(path)


async def check(settings, when, **kwargs):
    store = Store.open(settings.store_path)
    try:
        return await run_check(settings, store, now=lambda: when, **kwargs)
    finally:
        store.close()


async def test_first_run_is_a_baseline_then_changes_are_reported(settings):
    STATE.update(a=[item("1", "one")], b=[item("x", "ex")])
    first = await check(settings, T0)
    assert first.digest.kind == "baseline"
    assert first.digest.changes == []
    assert "Baseline recorded: 2 sources, 2 items" in first.text

    STATE.update(a=[item("1", "one"), item("2", "two")], b=[item("x", "ex")])
    second = await check(settings, T0 + timedelta(days=7))
    assert [(c.source, c.item_key, c.kind) for c in second.digest.changes] == [("a", "2", "added")]

    third = await check(settings, T0 + timedelta(days=14))
    assert third.digest.kind == "no_changes"


async def test_a_failing_source_keeps_its_snapshot_and_does_not_stop_others(settings):
    STATE.update(a=[item("1", "one")], b=[item("x", "ex")])
    await check(settings, T0)
    STATE.update(a=FetchError("example.org: HTTP 503"), b=[item("x", "ex 2")])
    result = await check(settings, T0 + timedelta(days=7))
    assert [o.status for o in result.digest.outcomes] == ["failed", "ok"]
    assert "a: example.org: HTTP 503; last good copy 2026-11-23 kept" in result.text
    assert [c.item_key for c in result.digest.changes] == ["x"]
    assert not result.all_failed

    STATE.update(a=[item("1", "one")])
    after = await check(settings, T0 + timedelta(days=14))
    assert after.digest.kind == "no_changes"  # nothing "removed" or "new" after the outage


async def test_a_crashing_source_is_reported_without_its_traceback(settings):
    STATE.update(a=ValueError("secret detail"), b=[item("x", "ex")])
    result = await check(settings, T0)
    assert "internal error (ValueError)" in result.text
    assert "secret detail" not in result.text


async def test_every_source_failing_is_flagged(settings):
    STATE.update(a=FetchError("down"), b=FetchError("down too"))
    result = await check(settings, T0)
    assert result.all_failed
    assert "Nothing could be checked: 2 sources failed" in result.text
    assert "a: down; nothing stored yet" in result.text


async def test_noise_patterns_global_and_per_source(settings):
    STATE.update(a=[item("1", "hello 10 views")], b=[item("x", "ex\nrotating tip: A")])
    await check(settings, T0)
    STATE.update(a=[item("1", "hello 99 views")], b=[item("x", "ex\nrotating tip: B")])
    result = await check(settings, T0 + timedelta(days=7))
    assert result.digest.kind == "no_changes"


async def test_dry_run_stores_nothing(settings):
    STATE.update(a=[item("1", "one")], b=[item("x", "ex")])
    result = await check(settings, T0, dry_run=True)
    assert result.run_id is None and result.digest.id is None
    store = Store.open(settings.store_path)
    assert store.digests() == [] and not store.is_baselined("a")


async def test_only_named_sources_run(settings):
    STATE.update(a=[item("1", "one")], b=FetchError("must not be asked"))
    result = await check(settings, T0, only=["a"])
    assert [o.source for o in result.digest.outcomes] == ["a"]


def page(key: str, text: str) -> Item:
    return Item(key, "page", key.upper(), f"https://example.org/{key}", text)


DOC = "\n".join(f"- requirement line number {n}" for n in range(40))


async def test_a_page_that_shrinks_is_held_until_seen_again(settings):
    STATE.update(a=[page("gpu", DOC)], b=[])
    await check(settings, T0)
    short = "\n".join(DOC.split("\n")[:5])
    STATE.update(a=[page("gpu", short)])
    held = await check(settings, T0 + timedelta(days=7))
    assert held.digest.changes == []
    assert "GPU: came back 88% shorter — held back, last good copy kept" in held.text
    store = Store.open(settings.store_path)
    assert store.current_items("a")["gpu"].text == DOC
    store.close()

    again = await check(settings, T0 + timedelta(days=14))
    assert [c.kind for c in again.digest.changes] == ["removed"]
    assert "held back" not in again.text


async def test_a_maintenance_page_is_held_and_a_recovery_is_no_change(settings):
    STATE.update(a=[page("gpu", DOC)], b=[])
    await check(settings, T0)
    STATE.update(a=[page("gpu", DOC + "\nThe site is under maintenance, back soon")])
    held = await check(settings, T0 + timedelta(days=7))
    assert "looks like an error or challenge page ('under maintenance')" in held.text
    assert held.digest.changes == []
    STATE.update(a=[page("gpu", DOC)])
    back = await check(settings, T0 + timedelta(days=14))
    assert back.digest.kind == "no_changes" and "held back" not in back.text


async def test_failing_streak_warns_once_and_says_when_recovered(settings):
    STATE.update(a=[item("1", "one")], b=[item("x", "ex")])
    await check(settings, T0)
    STATE.update(a=FetchError("down"))
    texts = [(await check(settings, T0 + timedelta(days=7 * n))).text for n in range(1, 5)]
    warned = [n for n, text in enumerate(texts, start=1) if "has failed 3 runs in a row" in text]
    assert warned == [3]
    assert "(since 2026-11-30)" in texts[2]
    STATE.update(a=[item("1", "one")])
    back = await check(settings, T0 + timedelta(days=35))
    assert "✓ a is back after 4 failed runs" in back.text
    quiet = await check(settings, T0 + timedelta(days=42))
    assert "is back" not in quiet.text
