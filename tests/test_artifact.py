"""artifact: a new worker build is seen in the headers, and the body is never downloaded."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from watcher.sources import source_kind
from watcher.sources.artifact import ArtifactSource, file_name
from watcher.sources.base import FetchContext, FetchError

URL = "https://ci.cocoon.org/cocoon-worker-release-latest.tar.xz"
ETAG = '"6936a0b9-1a52"'
MODIFIED = "Mon, 08 Dec 2025 14:03:17 GMT"


class UnreadBody(httpx.AsyncByteStream):
    """A response body that records whether anyone read it."""

    def __init__(self) -> None:
        self.read = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.read = True
        yield b"\xfd7zXZ\x00" * 1000


@pytest.fixture
async def ctx() -> AsyncIterator[FetchContext]:
    async with httpx.AsyncClient() as client:
        yield FetchContext(http=client)


async def fetch(ctx: FetchContext, url: str = URL):
    return await ArtifactSource("Worker release", {"url": url}).fetch(ctx)


def test_registered():
    assert source_kind("artifact") is ArtifactSource
    assert ArtifactSource.required == ("url",) and ArtifactSource.defaults == {}


def test_file_name():
    assert file_name(URL) == "cocoon-worker-release-latest.tar.xz"
    assert file_name("https://x.org/dl/my%20file.bin?x=1") == "my file.bin"
    assert file_name("https://x.org/") == "x.org"


@respx.mock
async def test_head_with_etag_last_modified_and_length(ctx):
    head = respx.head(URL).mock(
        return_value=httpx.Response(
            200,
            headers={"ETag": ETAG, "Last-Modified": MODIFIED, "Content-Length": "2147483648"},
        )
    )
    get = respx.get(URL)
    fetched = await fetch(ctx)
    (item,) = fetched.items
    assert (item.key, item.kind, item.url) == (URL, "artifact", URL)
    assert item.title == "cocoon-worker-release-latest.tar.xz"
    assert item.text == f"etag: {ETAG}\nlast-modified: {MODIFIED}\nsize: 2147483648"
    assert item.meta == {"etag": ETAG, "last_modified": MODIFIED, "size": 2147483648}
    assert fetched.covers is None
    assert head.call_count == 1 and not get.called
    assert head.calls.last.request.headers["Accept-Encoding"] == "identity"


@respx.mock
async def test_head_with_only_some_headers_is_enough(ctx):
    respx.head(URL).mock(return_value=httpx.Response(200, headers={"Last-Modified": MODIFIED}))
    (item,) = (await fetch(ctx)).items
    assert item.text == f"last-modified: {MODIFIED}"
    assert item.meta == {"last_modified": MODIFIED}


@respx.mock
async def test_head_follows_redirects(ctx):
    final = "https://cdn.cocoon.org/builds/cocoon-worker-1207.tar.xz"
    respx.head(URL).mock(return_value=httpx.Response(302, headers={"Location": final}))
    respx.head(final).mock(return_value=httpx.Response(200, headers={"ETag": ETAG}))
    (item,) = (await fetch(ctx)).items
    assert item.key == URL and item.text == f"etag: {ETAG}"


@respx.mock
@pytest.mark.parametrize("refused", [405, 403, 501])
async def test_refused_head_falls_back_to_a_one_byte_get(ctx, refused):
    respx.head(URL).mock(return_value=httpx.Response(refused))
    body = UnreadBody()
    get = respx.get(URL).mock(
        return_value=httpx.Response(
            206,
            headers={
                "ETag": ETAG,
                "Content-Range": "bytes 0-0/123456789",
                "Content-Length": "1",
            },
            stream=body,
        )
    )
    (item,) = (await fetch(ctx)).items
    assert get.calls.last.request.headers["Range"] == "bytes=0-0"
    assert item.text == f"etag: {ETAG}\nsize: 123456789"
    assert item.meta == {"etag": ETAG, "size": 123456789}
    assert not body.read


@respx.mock
async def test_head_without_useful_headers_falls_back_and_get_ignoring_range(ctx):
    respx.head(URL).mock(return_value=httpx.Response(200, headers={"Content-Length": "0"}))
    body = UnreadBody()
    respx.get(URL).mock(
        return_value=httpx.Response(
            200, headers={"Content-Length": "987654", "Last-Modified": MODIFIED}, stream=body
        )
    )
    (item,) = (await fetch(ctx)).items
    assert item.text == f"last-modified: {MODIFIED}\nsize: 987654"
    assert not body.read


@respx.mock
async def test_unknown_total_in_content_range_gives_no_size(ctx):
    respx.head(URL).mock(return_value=httpx.Response(405))
    respx.get(URL).mock(
        return_value=httpx.Response(
            206, headers={"Content-Range": "bytes 0-0/*", "ETag": ETAG}, stream=UnreadBody()
        )
    )
    (item,) = (await fetch(ctx)).items
    assert item.text == f"etag: {ETAG}"


@respx.mock
async def test_nothing_useful_is_a_fetch_error(ctx):
    respx.head(URL).mock(return_value=httpx.Response(200))
    body = UnreadBody()
    respx.get(URL).mock(return_value=httpx.Response(206, stream=body))
    with pytest.raises(FetchError, match="no ETag, Last-Modified or size to compare"):
        await fetch(ctx)
    assert not body.read


@respx.mock
@pytest.mark.parametrize("status", [404, 410, 500])
async def test_head_errors_are_fetch_errors(ctx, status):
    respx.head(URL).mock(return_value=httpx.Response(status))
    get = respx.get(URL)
    with pytest.raises(FetchError, match=f"HTTP {status}"):
        await fetch(ctx)
    assert not get.called


@respx.mock
async def test_failing_ranged_get_is_a_fetch_error(ctx):
    respx.head(URL).mock(return_value=httpx.Response(405))
    respx.get(URL).mock(return_value=httpx.Response(403))
    with pytest.raises(FetchError, match="HTTP 403"):
        await fetch(ctx)


@respx.mock
@pytest.mark.parametrize(
    ("error", "message"),
    [(httpx.ConnectTimeout("slow"), "timed out"), (httpx.ConnectError("refused"), "ConnectError")],
)
async def test_transport_errors_are_fetch_errors(ctx, error, message):
    respx.head(URL).mock(side_effect=error)
    with pytest.raises(FetchError, match=message):
        await fetch(ctx)
