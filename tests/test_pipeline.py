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
