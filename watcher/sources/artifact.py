"""A downloadable file (the worker release archive): watched by its headers, never downloaded.

A HEAD request says whether a new build is out (ETag, Last-Modified, size). Servers that refuse
HEAD, or answer it without any of those, get a GET for one byte (`Range: bytes=0-0`) whose
response is closed unread; its Content-Range carries the full size.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from watcher.models import Fetched, Item
from watcher.sources.base import FetchContext, FetchError, Source, register, transport_error

HEAD_REFUSED = frozenset({403, 405, 501})
"""HEAD answers that mean "ask with GET instead", not "the file is gone"."""

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:\d+-\d+|\*)\s*/\s*(\d+)\s*$", re.IGNORECASE)
_REQUEST_HEADERS = {"Accept-Encoding": "identity"}  # sizes of the file, not of a gzip of it


@register
class ArtifactSource(Source):
    kind = "artifact"
    required = ("url",)
    defaults = {}

    async def fetch(self, ctx: FetchContext) -> Fetched:
        url = str(self.options["url"])
        facts = await _head(ctx, url)
        if not facts:
            facts = await _ranged_get(ctx, url)
        if not facts:
            raise FetchError(f"{url}: no ETag, Last-Modified or size to compare")
        text = "\n".join(f"{name.replace('_', '-')}: {value}" for name, value in facts.items())
        item = Item(
            key=url, kind="artifact", title=file_name(url), url=url, text=text, meta=dict(facts)
        )
        return Fetched(items=[item])


def file_name(url: str) -> str:
    """The last path segment of a URL (its host when the path is empty)."""
    parts = urlsplit(url)
    return unquote(PurePosixPath(parts.path).name) or parts.netloc or url


async def _head(ctx: FetchContext, url: str) -> dict[str, Any]:
    """ETag/Last-Modified/size from a HEAD; empty when HEAD was refused or told nothing."""
    try:
        async with ctx.hosts.slot(url):
            response = await ctx.http.head(url, headers=_REQUEST_HEADERS, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise transport_error(url, exc) from exc
    if response.status_code in HEAD_REFUSED:
        return {}
    _check_status(url, response)
    return _facts(response.headers, size=response.headers.get("content-length"))


async def _ranged_get(ctx: FetchContext, url: str) -> dict[str, Any]:
    """The same facts from a one-byte GET, closed before any of the body is read."""
    headers = {**_REQUEST_HEADERS, "Range": "bytes=0-0"}
    try:
        async with ctx.hosts.slot(url), ctx.http.stream("GET", url, headers=headers,
                                                         follow_redirects=True) as response:
            pass  # leaving the block closes the response with its body unread
    except httpx.HTTPError as exc:
        raise transport_error(url, exc) from exc
    _check_status(url, response)
    if response.status_code == 206:
        match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
        size = match.group(1) if match else None
    else:  # the server ignored Range: Content-Length is the whole file
        size = response.headers.get("content-length")
    return _facts(response.headers, size=size)


def _facts(headers: httpx.Headers, size: str | None) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if etag := headers.get("etag", "").strip():
        facts["etag"] = etag
    if modified := headers.get("last-modified", "").strip():
        facts["last_modified"] = modified
    if size and size.strip().isascii() and size.strip().isdigit() and int(size) > 0:  # 0: none
        facts["size"] = int(size)
    return facts


def _check_status(url: str, response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise FetchError(f"{url}: HTTP {response.status_code}")
