"""The small interface every source kind implements, and the registry that finds a kind by name.

A source knows how to fetch and normalise its own content into `Item`s. It knows nothing of
snapshots, digests or Telegram: the pipeline hands it what it needs in a `FetchContext`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from watcher.models import Fetched, Item


class FetchError(Exception):
    """A source could not be read this run. The message is shown to people: no secrets in it."""


class SourceGone(FetchError):
    """The source answered, but what we watch is not there (unknown channel, repo not found)."""


@dataclass
class FetchContext:
    """What the pipeline lends a source for one fetch."""

    http: httpx.AsyncClient
    previous: Mapping[str, Item] = field(default_factory=dict)
    """The source's stored items, by key, from the last accepted snapshot (empty on a first run)."""
    max_bytes: int = 5 * 1024 * 1024
    """Cap on one response body; larger bodies are cut and treated as a fetch problem."""


class Source(ABC):
    """One configured source. Subclasses declare `kind`, `required` and `defaults`.

    `options` arrive validated and merged with `defaults` by `watcher.config`; the keys a kind
    accepts are exactly `required` plus the keys of `defaults` (plus the common ones below).
    """

    kind: ClassVar[str]
    required: ClassVar[tuple[str, ...]] = ()
    defaults: ClassVar[dict[str, Any]] = {}
    common: ClassVar[dict[str, Any]] = {"ignore": [], "enabled": True}

    def __init__(self, name: str, options: Mapping[str, Any]):
        self.name = name
        self.options = dict(options)

    @property
    def link(self) -> str:
        """Where a person can look at this source themselves."""
        return str(self.options.get("url") or self.options.get("base_url") or "")

    @abstractmethod
    async def fetch(self, ctx: FetchContext) -> Fetched:
        """Read the source and return its items; raise FetchError when it cannot be read."""


SOURCE_KINDS: dict[str, type[Source]] = {}


def register(cls: type[Source]) -> type[Source]:
    """Class decorator: make a source kind available to the config by its `kind` name."""
    SOURCE_KINDS[cls.kind] = cls
    return cls


async def read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """Read a streamed response body, refusing to hold more than `max_bytes` of it."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"{response.url}: body larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def transport_error(url: str, exc: httpx.HTTPError) -> FetchError:
    """A FetchError for a request that got no HTTP answer (timeout, refused, DNS, TLS)."""
    if isinstance(exc, httpx.TimeoutException):
        return FetchError(f"{url}: timed out")
    return FetchError(f"{url}: {type(exc).__name__}: {exc}")


async def get_text(ctx: FetchContext, url: str, **kwargs: Any) -> tuple[httpx.Response, str]:
    """GET a URL and decode its body, mapping transport and HTTP errors to FetchError."""
    try:
        async with ctx.http.stream("GET", url, **kwargs) as response:
            body = await read_capped(response, ctx.max_bytes)
    except httpx.HTTPError as exc:
        raise transport_error(url, exc) from exc
    if response.status_code >= 400:
        raise FetchError(f"{url}: HTTP {response.status_code}")
    encoding = response.charset_encoding or "utf-8"
    try:
        text = body.decode(encoding, errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    return response, text
