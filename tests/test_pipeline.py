"""The orchestrator with stand-in sources: one failing never stops the others."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from local_site import LocalSite, Page

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


# -- real pages on local servers: the per-host limit and conditional requests -----------------

DOC_HTML = "<html><body><main><h1>GPU</h1>{}</main></body></html>"


def doc_html(lines: str = DOC) -> str:
    return DOC_HTML.format("".join(f"<p>{line}</p>" for line in lines.split("\n")))


def web_settings(tmp_path: Path, sites: dict[str, list[str]], per_host: int = 4):
    tables = "".join(f"""
[[sources]]
name = "{name}"
kind = "web_page"
url = "{urls[0]}"
extra_urls = {urls[1:]!r}
""".replace("'", '"') for name, urls in sites.items())
    path = tmp_path / "web.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "web.db"}"\n[http]\nretries = 1\n'
                    f"per_host = {per_host}\n{tables}")
    return config.load(path)


async def test_a_run_keeps_to_the_per_host_limit_across_its_sources(tmp_path):
    with LocalSite(delay=0.05) as shared, LocalSite(delay=0.05) as other:
        for site in (shared, other):
            site.pages = {f"/{n}": Page(doc_html()) for n in range(6)}
        urls = {site: [f"{site.base_url}/{n}" for n in range(6)] for site in (shared, other)}
        settings = web_settings(tmp_path, {"first": urls[shared], "second": urls[shared],
                                           "third": urls[other]}, per_host=2)
        result = await check(settings, T0)
    assert [o.status for o in result.digest.outcomes] == ["baseline"] * 3
    assert len(shared.requests) == 12 and len(other.requests) == 6
    assert shared.peak == other.peak == 2
    # connections are kept open between requests: no more of them than the limit
    assert len(shared.connections) == len(other.connections) == 2


async def test_unchanged_pages_answered_304_are_neither_changes_nor_failures(tmp_path):
    with LocalSite() as site:
        site.pages = {"/gpu": Page(doc_html(), etag='"v1"'),
                      "/kernel": Page(doc_html(), last_modified="Mon, 23 Nov 2026 09:00:00 GMT")}
        settings = web_settings(tmp_path, {"docs": [f"{site.base_url}/gpu",
                                                    f"{site.base_url}/kernel"]})
        await check(settings, T0)
        second = await check(settings, T0 + timedelta(days=7))
        assert site.statuses == [200, 200, 304, 304]
        assert second.digest.kind == "no_changes"
        assert [(o.status, o.items) for o in second.digest.outcomes] == [("ok", 2)]

        site.pages["/gpu"] = Page(doc_html(DOC + "\nH200 or newer"), etag='"v2"')
        third = await check(settings, T0 + timedelta(days=14))
    assert [(c.item_key, c.kind, c.section) for c in third.digest.changes] == [
        (f"{site.base_url}/gpu", "added", "GPU")]
    store = Store.open(settings.store_path)
    history = store.history("docs", f"{site.base_url}/gpu")
    assert [entry.meta["etag"] for _, entry in history] == ['"v1"', '"v2"']
    store.close()


async def test_a_new_etag_on_the_same_text_is_kept_without_a_new_version(tmp_path):
    with LocalSite() as site:
        site.pages = {"/gpu": Page(doc_html(), etag='"v1"')}
        settings = web_settings(tmp_path, {"docs": [f"{site.base_url}/gpu"]})
        await check(settings, T0)
        site.pages["/gpu"] = Page(doc_html() + "<!-- rebuilt -->", etag='"v2"')
        second = await check(settings, T0 + timedelta(days=7))
        third = await check(settings, T0 + timedelta(days=14))
    assert second.digest.kind == third.digest.kind == "no_changes"
    assert [headers["If-None-Match"] for _, headers in site.requests[1:]] == ['"v1"', '"v2"']
    assert site.statuses == [200, 200, 304]
    store = Store.open(settings.store_path)
    [(_, stored)] = store.history("docs", f"{site.base_url}/gpu")
    assert stored.meta["etag"] == '"v2"'
    store.close()


async def test_a_held_page_keeps_its_good_copy_validators(tmp_path):
    with LocalSite() as site:
        site.pages = {"/gpu": Page(doc_html(), etag='"good"')}
        settings = web_settings(tmp_path, {"docs": [f"{site.base_url}/gpu"]})
        await check(settings, T0)
        site.pages["/gpu"] = Page(doc_html("Just a moment... checking your browser"),
                                  etag='"challenge"')
        held = await check(settings, T0 + timedelta(days=7))
        assert "held back" in held.text and held.digest.changes == []
        # the good copy's ETag is sent again: the challenge is read in full and, seen twice,
        # accepted as real
        again = await check(settings, T0 + timedelta(days=14))
    assert [headers["If-None-Match"] for _, headers in site.requests[1:]] == ['"good"'] * 2
    assert site.statuses == [200, 200, 200]
    assert [c.kind for c in again.digest.changes] == ["modified"]
