"""web_page: several pages per source, discovery under a prefix, what a run speaks for, and
conditional requests."""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import respx
from local_site import LocalSite
from local_site import Page as LocalPage

from watcher.models import Item
from watcher.replay import ReplayServer
from watcher.sources import source_kind
from watcher.sources.artifact import ArtifactSource
from watcher.sources.base import PER_HOST, FetchContext, FetchError
from watcher.sources.web_page import WebPageSource

DEMO_DATA = Path(__file__).resolve().parents[1] / "watcher" / "demo_data"
SITE = "https://cocoon.org"
HTML = {"Content-Type": "text/html; charset=utf-8"}


def page(title: str, body: str = "", links: tuple[str, ...] = ()) -> str:
    anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (
        f"<html><head><title>{title}</title><link rel='stylesheet' href='/s.css?v=1'></head>"
        f"<body><header><nav><ul>{anchors}</ul></nav></header>"
        f"<main><h1>{title}</h1>{body}</main><footer>3 minutes ago</footer></body></html>"
    )


def serve(path: str, html: str, status: int = 200) -> respx.Route:
    return respx.get(SITE + path).mock(return_value=httpx.Response(status, text=html, headers=HTML))


def source(**options) -> WebPageSource:
    return WebPageSource("cocoon.org", {**WebPageSource.defaults, "url": f"{SITE}/", **options})


@pytest.fixture
async def ctx() -> AsyncIterator[FetchContext]:
    async with httpx.AsyncClient() as client:
        yield FetchContext(http=client)


def item(key: str) -> Item:
    return Item(key=key, kind="page", title="", url=key, text="")


def test_registered():
    assert source_kind("web_page") is WebPageSource
    assert WebPageSource.required == ("url",)
    assert set(WebPageSource.defaults) == {
        "selector",
        "discover_prefix",
        "max_discovered",
        "extra_urls",
    }


@respx.mock
async def test_configured_pages_become_items_in_order(ctx):
    serve("/", page("Home", "<p>Confidential AI inference on TON</p>"))
    serve("/gpu-owners", page("GPU owners", "<ul><li>H100 or newer</li></ul>"))
    serve("/developers", "<html><body><main><h1>Developers</h1></main></body></html>")

    fetched = await source(
        extra_urls=[f"{SITE}/gpu-owners#top", f"{SITE}/developers?v=7", f"{SITE}/"]
    ).fetch(ctx)

    assert [i.key for i in fetched.items] == [
        f"{SITE}/",
        f"{SITE}/gpu-owners",
        f"{SITE}/developers",
    ]
    home, owners, developers = fetched.items
    assert (home.kind, home.title, home.url) == ("page", "Home", f"{SITE}/")
    assert home.text == "# Home\nConfidential AI inference on TON"
    assert owners.text == "# GPU owners\n- H100 or newer"
    assert developers.title == "Developers"  # no <title>: the first h1
    assert all(i.meta == {"discovered": False} for i in fetched.items)
    assert fetched.covers is not None and fetched.speaks_for(home)
    assert not fetched.speaks_for(item(f"{SITE}/blog"))


@respx.mock
async def test_selector_applies_to_every_page(ctx):
    serve("/", page("Home", "<div class='hero'>hero</div><p>rest</p>"))
    serve("/b", page("B", "<div class='hero'>other hero</div>"))
    fetched = await source(selector=".hero", extra_urls=[f"{SITE}/b"]).fetch(ctx)
    assert [i.text for i in fetched.items] == ["hero", "other hero"]


@respx.mock
async def test_discovery_finds_new_pages_breadth_first(ctx):
    serve(
        "/",
        page("Home", links=("/docs/gpu?v=3#tested", "/docs/arch", "/blog", "https://x.org/docs/a")),
    )
    serve("/docs/gpu", page("GPU", links=("/docs/arch", "/docs/seal-keys?utm_source=nav")))
    serve("/docs/arch", page("Arch", links=("/docs/",)))
    serve("/docs/seal-keys", page("Seal keys", "<p>persistent keys</p>"))
    serve("/docs/", page("Docs index", links=("/docs/gpu",)))
    blog = serve("/blog", page("Blog"))

    fetched = await source(discover_prefix=f"{SITE}/docs/").fetch(ctx)

    keys = [i.key for i in fetched.items]
    assert keys == [
        f"{SITE}/",
        f"{SITE}/docs/gpu",
        f"{SITE}/docs/arch",
        f"{SITE}/docs/seal-keys",
        f"{SITE}/docs/",
    ]
    assert [i.meta["discovered"] for i in fetched.items] == [False, True, True, True, True]
    assert fetched.items[3].text == "# Seal keys\npersistent keys"
    assert not blog.called  # outside the prefix
    assert all(route.call_count <= 1 for route in respx.routes)  # each page read once


@respx.mock
async def test_configured_page_under_the_prefix_is_not_discovered_twice(ctx):
    serve("/", page("Home", links=("/docs/gpu",)))
    gpu = serve("/docs/gpu", page("GPU", links=("/docs/gpu?v=2",)))
    fetched = await source(extra_urls=[f"{SITE}/docs/gpu"], discover_prefix=f"{SITE}/docs/").fetch(
        ctx
    )
    assert [(i.key, i.meta["discovered"]) for i in fetched.items] == [
        (f"{SITE}/", False),
        (f"{SITE}/docs/gpu", False),
    ]
    assert gpu.call_count == 1


@respx.mock
async def test_the_cap_is_a_hard_bound_across_levels(ctx):
    serve("/", page("Home", links=("/docs/a", "/docs/b")))
    serve("/docs/a", page("A", links=tuple(f"/docs/a{n}" for n in range(10))))
    serve("/docs/b", page("B", links=tuple(f"/docs/b{n}" for n in range(10))))
    deeper = respx.get(url__regex=rf"^{SITE}/docs/[ab]\d$").mock(
        return_value=httpx.Response(200, text=page("Deep"), headers=HTML)
    )

    fetched = await source(discover_prefix=f"{SITE}/docs/", max_discovered=5).fetch(ctx)

    discovered = [i.key for i in fetched.items if i.meta["discovered"]]
    assert discovered == [f"{SITE}/docs/{p}" for p in ("a", "b", "a0", "a1", "a2")]
    assert deeper.call_count == 3
    # discovery was cut short: a stored page it did not reach is not spoken for
    assert not fetched.speaks_for(item(f"{SITE}/docs/b9"))


@respx.mock
async def test_cap_zero_discovers_nothing(ctx):
    serve("/", page("Home", links=("/docs/a",)))
    fetched = await source(discover_prefix=f"{SITE}/docs/", max_discovered=0).fetch(ctx)
    assert [i.key for i in fetched.items] == [f"{SITE}/"]


@respx.mock
async def test_a_failing_discovered_page_is_skipped_and_not_covered(ctx):
    serve("/", page("Home", links=("/docs/ok", "/docs/broken", "/docs/gone")))
    serve("/docs/ok", page("OK"))
    serve("/docs/broken", "oops", status=500)
    respx.get(f"{SITE}/docs/gone").mock(side_effect=httpx.ConnectError("refused"))

    fetched = await source(discover_prefix=f"{SITE}/docs/").fetch(ctx)

    assert [i.key for i in fetched.items] == [f"{SITE}/", f"{SITE}/docs/ok"]
    assert fetched.speaks_for(item(f"{SITE}/docs/ok"))
    assert not fetched.speaks_for(item(f"{SITE}/docs/broken"))
    assert not fetched.speaks_for(item(f"{SITE}/docs/gone"))
    # with a failure, discovery may have missed pages: unseen stored ones are kept too
    assert not fetched.speaks_for(item(f"{SITE}/docs/unlinked"))


@respx.mock
async def test_complete_discovery_speaks_for_pages_no_longer_linked(ctx):
    serve("/", page("Home", links=("/docs/a",)))
    serve("/docs/a", page("A"))
    fetched = await source(discover_prefix=f"{SITE}/docs/").fetch(ctx)
    assert fetched.speaks_for(item(f"{SITE}/docs/removed"))  # reported as removed
    assert not fetched.speaks_for(item(f"{SITE}/elsewhere"))


@respx.mock
@pytest.mark.parametrize(
    "failure",
    [httpx.Response(404, text="no"), httpx.Response(503), httpx.ConnectError("refused")],
)
async def test_a_failing_configured_page_fails_the_source(ctx, failure):
    serve("/", page("Home"))
    route = respx.get(f"{SITE}/gpu-owners")
    if isinstance(failure, Exception):
        route.mock(side_effect=failure)
    else:
        route.mock(return_value=failure)
    with pytest.raises(FetchError, match="gpu-owners"):
        await source(extra_urls=[f"{SITE}/gpu-owners"]).fetch(ctx)


async def test_a_non_http_url_is_refused(ctx):
    with pytest.raises(FetchError, match="not an http"):
        await source(url="file:///etc/passwd").fetch(ctx)


@respx.mock
async def test_redirects_are_followed_and_links_resolve_against_the_final_url(ctx):
    respx.get(f"{SITE}/").mock(
        return_value=httpx.Response(301, headers={"Location": f"{SITE}/en/"})
    )
    serve("/en/", page("Home", '<p><a href="docs/gpu">GPU</a></p>'))
    fetched = await source().fetch(ctx)
    assert fetched.items[0].key == f"{SITE}/"
    assert fetched.items[0].text == f"# Home\nGPU ({SITE}/en/docs/gpu)"


@respx.mock
async def test_concurrency_is_bounded(ctx):
    in_flight = peak = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(5):
            await asyncio.sleep(0)  # yield to the others, no real time
        in_flight -= 1
        return httpx.Response(200, text=page(request.url.path), headers=HTML)

    serve("/", page("Home", links=tuple(f"/docs/{n}" for n in range(12))))
    respx.get(url__regex=rf"^{SITE}/docs/\d+$").mock(side_effect=slow)
    fetched = await source(discover_prefix=f"{SITE}/docs/").fetch(ctx)
    assert len(fetched.items) == 13
    assert 1 < peak <= PER_HOST


# -- the recorded demo weeks, on the real local replay server -------------------------------

PAGES = ("gpu-owners", "developers", "architecture", "docs/smart-contracts", "docs/gpu")


async def fetch_demo(replay: ReplayServer):
    base = replay.base_url
    site = WebPageSource(
        "cocoon.org",
        {
            **WebPageSource.defaults,
            "url": f"{base}/site/",
            "extra_urls": [f"{base}/site/{p}" for p in PAGES],
            "discover_prefix": f"{base}/site/docs/",
        },
    )
    artifact = ArtifactSource(
        "Worker release", {"url": f"{base}/ci/cocoon-worker-release-latest.tar.xz"}
    )
    async with httpx.AsyncClient(timeout=10) as client:
        ctx = FetchContext(http=client)
        return await site.fetch(ctx), await artifact.fetch(ctx)


async def test_demo_weeks_change_only_what_was_meant_to_change():
    with ReplayServer(DEMO_DATA) as replay:
        base = replay.base_url
        site1, artifact1 = await fetch_demo(replay)
        replay.use_week(2)
        site2, artifact2 = await fetch_demo(replay)
        requested = [path for method, path, _ in replay.requests if method == "GET"]

    week1 = {i.key: i for i in site1.items}
    week2 = {i.key: i for i in site2.items}
    configured = [f"{base}/site/", *(f"{base}/site/{p}" for p in PAGES)]
    discovered = [f"{base}/site/docs/{p}" for p in ("deployment", "ra-tls", "tdx-and-images")]
    assert list(week1) == configured + discovered  # breadth first, in link order
    assert [week1[k].meta["discovered"] for k in week1] == [False] * 6 + [True] * 3
    assert list(week2) == configured + discovered + [f"{base}/site/docs/seal-keys"]
    assert "?" not in "".join(requested)  # cache-busters never reach a request
    # no discovered page failed and the cap was not reached: discovery saw the whole docs tree
    assert site1.speaks_for(item(f"{base}/site/docs/not-linked-any-more"))
    assert all(path.startswith(("/site/", "/ci/")) for path in requested)

    seal_keys = week2[f"{base}/site/docs/seal-keys"]
    assert seal_keys.title == "Persistent Key Derivation (Seal Protocol) · COCOON"
    assert seal_keys.text.startswith("# Persistent Key Derivation (Seal Protocol)\n## Problem")

    gpu = f"{base}/site/docs/gpu"
    diff = [
        line
        for line in difflib.unified_diff(
            week1[gpu].text.splitlines(), week2[gpu].text.splitlines(), lineterm="", n=0
        )
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert diff == ["+- NVIDIA B200"]
    lines = week2[gpu].text.splitlines()
    tested = lines.index("Tested:")
    assert lines.index("### Supported GPUs") < tested
    assert lines[tested + 1 : tested + 3] == ["- NVIDIA H200 NVL", "- NVIDIA B200"]
    for key in configured + discovered:
        if key != gpu:
            assert week2[key].text == week1[key].text, key
            assert week2[key].title == week1[key].title, key

    (old,), (new,) = artifact1.items, artifact2.items
    assert old.key == new.key and old.title == "cocoon-worker-release-latest.tar.xz"
    assert old.text != new.text
    assert old.meta["etag"] != new.meta["etag"]
    assert new.text.splitlines()[1] == "last-modified: Mon, 08 Dec 2025 14:03:17 GMT"


# -- conditional requests ----------------------------------------------------------------------

LAST_MODIFIED = "Mon, 23 Nov 2026 09:00:00 GMT"


async def fetch_site(site: LocalSite, previous: dict[str, Item] | None = None, **options):
    options = {**WebPageSource.defaults, "url": f"{site.base_url}/", **options}
    async with httpx.AsyncClient() as client:
        ctx = FetchContext(http=client, previous=previous or {})
        return await WebPageSource("site", options).fetch(ctx)


def stored(fetched) -> dict[str, Item]:
    return {i.key: i for i in fetched.items}


@pytest.mark.parametrize(("validators", "header"), [
    ({"etag": '"v1"'}, "If-None-Match"),
    ({"last_modified": LAST_MODIFIED}, "If-Modified-Since"),
])
async def test_an_unchanged_page_is_the_stored_item_itself(validators, header, monkeypatch):
    with LocalSite() as site:
        site.pages["/"] = LocalPage(page("Home", "<p>H100 or newer</p>"), **validators)
        first = await fetch_site(site)
        [home] = first.items
        assert home.meta == {"discovered": False, **validators}
        assert header not in site.requests[0][1]

        def no_parsing(*args):
            raise AssertionError("a 304 is not parsed")

        monkeypatch.setattr("watcher.sources.web_page.parse_page", no_parsing)
        second = await fetch_site(site, stored(first))
    assert site.requests[1][1][header] == next(iter(validators.values()))
    assert site.statuses == [200, 304]
    assert second.items[0] is home


async def test_a_changed_page_is_read_again_with_its_new_validators():
    with LocalSite() as site:
        site.pages["/"] = LocalPage(page("Home", "<p>H100 or newer</p>"), etag='"v1"')
        first = await fetch_site(site)
        site.pages["/"] = LocalPage(page("Home", "<p>H200 or newer</p>"), etag='"v2"')
        second = await fetch_site(site, stored(first))
    assert site.statuses == [200, 200]
    [home] = second.items
    assert home.text == "# Home\nH200 or newer"
    assert home.meta["etag"] == '"v2"'


async def test_discovery_follows_the_links_a_304_page_kept():
    with LocalSite() as site:
        site.pages["/"] = LocalPage(page("Home", links=("/docs/a",)), etag='"h"')
        site.pages["/docs/a"] = LocalPage(page("A", links=("/docs/b",)), etag='"a"')
        site.pages["/docs/b"] = LocalPage(page("B"), etag='"b"')
        prefix = f"{site.base_url}/docs/"
        first = await fetch_site(site, discover_prefix=prefix)
        second = await fetch_site(site, stored(first), discover_prefix=prefix)
    assert site.statuses == [200] * 3 + [304] * 3
    assert [i.key for i in second.items] == [i.key for i in first.items]
    assert all(new is old for new, old in zip(second.items, first.items, strict=True))
    # discovery saw the whole tree again: a stored page no longer linked counts as removed
    assert second.speaks_for(item(f"{prefix}gone"))


async def test_pages_stored_without_what_a_304_needs_are_asked_in_full():
    with LocalSite() as site:
        site.pages["/"] = LocalPage(page("Home", links=("/docs/a",)), etag='"h"')
        site.pages["/docs/a"] = LocalPage(page("A"), etag='"a"')
        without_links = await fetch_site(site)  # stored before discovery was switched on
        await fetch_site(site, stored(without_links), discover_prefix=f"{site.base_url}/docs/")
    assert "If-None-Match" not in site.requests[1][1]
    assert site.statuses == [200, 200, 200]


@respx.mock
async def test_a_304_to_a_plain_request_is_a_fetch_problem(ctx):
    respx.get(f"{SITE}/").mock(return_value=httpx.Response(304))
    with pytest.raises(FetchError, match="304 to a request that was not conditional"):
        await source().fetch(ctx)
