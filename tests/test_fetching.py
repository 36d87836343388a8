"""get_text: bounded retries, Retry-After, content types, body caps and charsets; the per-host
limit and conditional answers."""

import asyncio
import json

import httpx
import pytest
import respx
from local_site import LocalSite, Page

from watcher.models import Item
from watcher.replay import ReplayServer
from watcher.sources.base import (
    FetchContext,
    FetchError,
    HostLimits,
    RetryPolicy,
    conditional_headers,
    get_text,
)

URL = "https://cocoon.org/docs/gpu"


class Clock:
    """Sleeps recorded, not taken."""

    def __init__(self):
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def clock():
    return Clock()


def context(http, clock, **kwargs):
    policy = RetryPolicy(attempts=3, backoff=1.0, max_wait=30.0, sleep=clock.sleep)
    return FetchContext(http=http, retry=policy, **kwargs)


async def test_a_5xx_then_success_is_retried_with_backoff(clock):
    async with respx.mock as mock, httpx.AsyncClient() as http:
        route = mock.get(URL).mock(side_effect=[httpx.Response(503), httpx.Response(502),
                                                httpx.Response(200, html="<p>ok</p>")])
        _, text = await get_text(context(http, clock), URL)
    assert text == "<p>ok</p>"
    assert route.call_count == 3
    assert clock.waits == [1.0, 2.0]


async def test_429_waits_as_long_as_retry_after_says(clock):
    async with respx.mock as mock, httpx.AsyncClient() as http:
        mock.get(URL).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "7"}),
                                        httpx.Response(200, html="ok")])
        await get_text(context(http, clock), URL)
    assert clock.waits == [7.0]


async def test_a_retry_after_beyond_the_bound_ends_the_tries(clock):
    async with respx.mock as mock, httpx.AsyncClient() as http:
        later = httpx.Response(429, headers={"Retry-After": "3600"})
        route = mock.get(URL).mock(return_value=later)
        with pytest.raises(FetchError, match="HTTP 429, asked to retry after 3600 s"):
            await get_text(context(http, clock), URL)
    assert route.call_count == 1 and clock.waits == []


async def test_the_last_failure_is_reported(clock):
    async with respx.mock as mock, httpx.AsyncClient() as http:
        route = mock.get(URL).mock(return_value=httpx.Response(503))
        with pytest.raises(FetchError, match=r"cocoon.org/docs/gpu: HTTP 503$"):
            await get_text(context(http, clock), URL)
    assert route.call_count == 3 and clock.waits == [1.0, 2.0]


@pytest.mark.parametrize("error", [httpx.ConnectError("Connection refused"),
                                   httpx.ConnectError("[Errno -2] Name or service not known"),
                                   httpx.ConnectTimeout("timed out"),
                                   httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED]")])
async def test_transport_errors_are_retried_then_reported(clock, error):
    async with respx.mock as mock, httpx.AsyncClient() as http:
        route = mock.get(URL).mock(side_effect=error)
        with pytest.raises(FetchError, match=r"^https://cocoon.org/docs/gpu: "):
            await get_text(context(http, clock), URL)
    assert route.call_count == 3


async def test_a_404_is_not_retried(clock):
    async with respx.mock as mock, httpx.AsyncClient() as http:
        route = mock.get(URL).mock(return_value=httpx.Response(404))
        with pytest.raises(FetchError, match="HTTP 404"):
            await get_text(context(http, clock), URL)
    assert route.call_count == 1


async def test_a_body_of_the_wrong_type_is_a_fetch_problem(clock):
    async with respx.mock as mock, httpx.AsyncClient() as http:
        mock.get(URL).mock(return_value=httpx.Response(200, json={"error": "maintenance"}))
        with pytest.raises(FetchError, match="expected text/html or application/xhtml"
                                             r"\+xml, got application/json"):
            await get_text(context(http, clock), URL, expect=("text/html",
                                                              "application/xhtml+xml"))


async def test_a_huge_body_is_cut_not_read(clock):
    async with respx.mock as mock, httpx.AsyncClient() as http:
        mock.get(URL).mock(return_value=httpx.Response(200, content=b"x" * 2_000_000))
        with pytest.raises(FetchError, match="body larger than 1000000 bytes"):
            await get_text(context(http, clock, max_bytes=1_000_000), URL)


@pytest.mark.parametrize(("content", "content_type", "expected"), [
    ("Nguồn: cocoon".encode(), "text/html", "Nguồn: cocoon"),
    ("prix: 5 £".encode("latin-1"), "text/html; charset=iso-8859-1", "prix: 5 £"),
    (b"bad \xff\xfe bytes", "text/html; charset=utf-8", "bad \ufffd\ufffd bytes"),
    (b"unknown charset", "text/html; charset=x-no-such", "unknown charset"),
])
async def test_charsets_wrong_or_missing_never_crash(clock, content, content_type, expected):
    async with respx.mock as mock, httpx.AsyncClient() as http:
        mock.get(URL).mock(return_value=httpx.Response(
            200, content=content, headers={"Content-Type": content_type}))
        _, text = await get_text(context(http, clock), URL)
    assert text == expected


@pytest.mark.parametrize("target", ["ftp://cocoon.org/docs", "file:///etc/passwd"])
async def test_a_redirect_to_another_scheme_is_refused(clock, tmp_path, target):
    # a real server and client: a mocked transport would follow any scheme
    week = tmp_path / "week1" / "routes"
    week.mkdir(parents=True)
    (week / "r.json").write_text(json.dumps(
        [{"path": "/page", "status": 302, "headers": {"Location": target}}]))
    with ReplayServer(tmp_path) as server:
        async with httpx.AsyncClient(follow_redirects=True) as http:
            with pytest.raises(FetchError, match="UnsupportedProtocol"):
                await get_text(context(http, clock), f"{server.base_url}/page")
        assert len(server.requests) == 1 and clock.waits == []


# -- the per-host limit and conditional answers ---------------------------------------------


async def test_requests_to_one_host_never_exceed_its_limit_across_sources():
    with LocalSite(delay=0.05) as first, LocalSite(delay=0.05) as second:
        for site in (first, second):
            site.pages = {f"/{n}": Page("<p>page</p>") for n in range(8)}
        hosts = HostLimits(per_host=3)  # one per run, shared by every source's context
        async with httpx.AsyncClient() as http:
            sources = [FetchContext(http=http, hosts=hosts) for _ in range(2)]
            await asyncio.gather(*(get_text(ctx, f"{site.base_url}/{n}")
                                   for ctx in sources for site in (first, second)
                                   for n in range(8)))
    assert len(first.requests) == len(second.requests) == 16
    assert first.peak == second.peak == 3  # concurrent, and never more than the limit


async def test_a_304_is_returned_at_once_with_no_text(clock):
    async with respx.mock as mock, httpx.AsyncClient() as http:
        route = mock.get(URL).mock(return_value=httpx.Response(304, headers={"ETag": '"a"'}))
        response, text = await get_text(context(http, clock), URL,
                                        headers={"If-None-Match": '"a"'})
    assert (response.status_code, text) == (304, "")
    assert route.call_count == 1
    assert route.calls.last.request.headers["If-None-Match"] == '"a"'
    assert clock.waits == []


async def test_a_5xx_before_a_304_is_retried_as_ever(clock):
    async with respx.mock as mock, httpx.AsyncClient() as http:
        route = mock.get(URL).mock(side_effect=[httpx.Response(503), httpx.Response(304)])
        response, text = await get_text(context(http, clock), URL)
    assert (response.status_code, text, route.call_count) == (304, "", 2)
    assert clock.waits == [1.0]


async def test_a_304_leaves_its_connection_open_for_the_next_request(clock):
    with LocalSite() as site:
        site.pages = {"/a": Page("<p>a</p>", etag='"a"'), "/b": Page("<p>b</p>", etag='"b"')}
        async with httpx.AsyncClient() as http:
            for path in ("/a", "/b", "/a"):
                response, _ = await get_text(context(http, clock), f"{site.base_url}{path}",
                                             headers={"If-None-Match": f'"{path[1]}"'})
                assert response.status_code == 304
    assert site.statuses == [304, 304, 304]
    assert len(site.connections) == 1  # kept alive, not closed and opened again


def test_conditional_headers_send_back_what_the_item_kept():
    meta = {"etag": '"v1"', "last_modified": "Mon, 23 Nov 2026 09:00:00 GMT", "x": 1}
    item = Item("k", "page", "t", URL, "text", meta)
    assert conditional_headers(item) == {"If-None-Match": '"v1"',
                                         "If-Modified-Since": "Mon, 23 Nov 2026 09:00:00 GMT"}
    assert conditional_headers(None) == {}
    assert conditional_headers(Item("k", "page", "t", URL, "text")) == {}
