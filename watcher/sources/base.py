"""The small interface every source kind implements, and the registry that finds a kind by name.

A source knows how to fetch and normalise its own content into `Item`s. It knows nothing of
snapshots, digests or Telegram: the pipeline hands it what it needs in a `FetchContext`.
"""

from __future__ import annotations

import asyncio
import itertools
import ssl
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import httpx

from watcher.models import Fetched, Item

T = TypeVar("T")


class FetchError(Exception):
    """A source could not be read this run. The message is shown to people: no secrets in it."""


class SourceGone(FetchError):
    """The source answered, but what we watch is not there (unknown channel, repo not found)."""


RETRYABLE = frozenset({429, 500, 502, 503, 504})
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: `attempts` tries in all, waits doubling from `backoff` seconds, no single
    wait (a server's Retry-After included) longer than `max_wait`."""

    attempts: int = 3
    backoff: float = 1.0
    max_wait: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def wait(self, attempt: int) -> float:
        return min(self.backoff * 2 ** (attempt - 1), self.max_wait)


NO_RETRY = RetryPolicy(attempts=1)
PER_HOST = 4
"""Requests at the same time to one host, unless the config says otherwise (http.per_host)."""


class HostLimits:
    """At most `per_host` requests in flight to any one host (scheme, name and port), shared by
    every source of a run: however many pages a run reads, no server gets more at once."""

    def __init__(self, per_host: int = PER_HOST):
        self.per_host = per_host
        self._slots: dict[tuple[str, str], asyncio.Semaphore] = {}

    def slot(self, url: str | httpx.URL) -> asyncio.Semaphore:
        """Hold this (`async with`) around one request to `url`, its body included."""
        parts = urlsplit(str(url))
        key = (parts.scheme.lower(), parts.netloc.lower())
        if key not in self._slots:
            self._slots[key] = asyncio.Semaphore(self.per_host)
        return self._slots[key]


class HostPools(httpx.AsyncBaseTransport):
    """A transport that keeps each host's connections in a pool of its own, `per_host` at
    most, kept open between requests (HTTP keep-alive) for `keepalive` seconds.

    One pool for every host would do, but httpcore looks over all of a pool's connections
    (with a system call each) whenever a request starts or ends: with forty hosts' worth of
    open connections that costs more than the pages. A pool per host keeps it to a few."""

    def __init__(self, per_host: int = PER_HOST, keepalive: float = 15.0):
        self._limits = httpx.Limits(max_connections=per_host, max_keepalive_connections=per_host,
                                    keepalive_expiry=keepalive)
        self._pools: dict[tuple[bytes, bytes, int | None], httpx.AsyncHTTPTransport] = {}
        self._tls: dict[bool, ssl.SSLContext] = {}  # one for all pools: loading CAs takes a while

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.raw_scheme, url.raw_host, url.port)
        if key not in self._pools:
            self._pools[key] = httpx.AsyncHTTPTransport(limits=self._limits,
                                                        verify=self._context(url.scheme))
        return await self._pools[key].handle_async_request(request)

    def _context(self, scheme: str) -> ssl.SSLContext:
        # a pool serves one scheme, host and port, so a plain-http pool never starts TLS: it
        # gets a context with no CA bundle loaded (loading one takes ~25 ms)
        https = scheme == "https"
        if https not in self._tls:
            self._tls[https] = (httpx.create_ssl_context() if https
                                else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        return self._tls[https]

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()
        self._pools.clear()


@dataclass
class FetchContext:
    """What the pipeline lends a source for one fetch.

    A source may return a stored item from `previous` itself (the very object) to say the
    server confirmed it unchanged (HTTP 304): the pipeline then takes it as it is, with no
    noise filter and no diff.
    """

    http: httpx.AsyncClient
    previous: Mapping[str, Item] = field(default_factory=dict)
    """The source's stored items, by key, from the last accepted snapshot (empty on a first run)."""
    max_bytes: int = 5 * 1024 * 1024
    """Cap on one response body; larger bodies are cut and treated as a fetch problem."""
    retry: RetryPolicy = NO_RETRY
    """The pipeline passes the configured policy; a bare context (a test) tries once."""
    hosts: HostLimits = field(default_factory=HostLimits)
    """The run's per-host limit, shared by all its sources; a bare context has its own."""
    parser: Executor | None = None
    """Where `parse` runs: the run's one parsing thread (None: asyncio's default threads)."""


async def parse(ctx: FetchContext, read: Callable[..., T], *args: Any) -> T:
    """Run CPU work on what was fetched (parsing a page) off the event loop, so the other
    requests go on meanwhile. The pipeline gives a run one thread for it: threads doing CPU
    work only take turns at the interpreter lock, and more of them cost more than they give."""
    return await asyncio.get_running_loop().run_in_executor(ctx.parser, read, *args)


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


async def get_text(ctx: FetchContext, url: str, expect: tuple[str, ...] = (),
                   **kwargs: Any) -> tuple[httpx.Response, str]:
    """GET a URL and decode its body, retrying transport errors, 429 and 5xx within the
    context's RetryPolicy; anything else, or the last failure, is a FetchError. `expect` lists
    the content types the caller can read (a JSON error page is not a channel preview).

    Each try holds the host's slot (see HostLimits), released while waiting to try again. A
    304 (the answer to a conditional request, see `conditional_headers`) is returned at once
    with an empty text: the caller keeps what it stored."""
    policy = ctx.retry
    for attempt in itertools.count(1):
        last = attempt >= policy.attempts
        try:
            async with ctx.hosts.slot(url), ctx.http.stream("GET", url, **kwargs) as response:
                if response.status_code == 304:
                    # read its (empty) body: an unread answer costs the kept-alive connection
                    await response.aread()
                    return response, ""
                if last or response.status_code not in RETRYABLE:
                    _check_answer(url, response, expect)
                    body = await read_capped(response, ctx.max_bytes)
                    return response, _decode(body, response.charset_encoding)
            wait = _retry_wait(url, response, policy, attempt)
        except httpx.HTTPError as exc:
            # a redirect to ftp:// or file:// is refused at once: only http(s) is fetched
            if last or isinstance(exc, httpx.UnsupportedProtocol):
                raise transport_error(url, exc) from exc
            wait = policy.wait(attempt)
        await policy.sleep(wait)


VALIDATORS = {"etag": "If-None-Match", "last_modified": "If-Modified-Since"}
"""What a stored item's meta may keep of an answer (ETag, Last-Modified), and the request
header that sends each back."""


def validators(response: httpx.Response) -> dict[str, str]:
    """The answer's ETag and Last-Modified, for the item's meta (see VALIDATORS)."""
    found = {"etag": response.headers.get("etag", ""),
             "last_modified": response.headers.get("last-modified", "")}
    return {name: value.strip() for name, value in found.items() if value.strip()}


def conditional_headers(item: Item | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from what a stored item kept (none for no item)."""
    meta = item.meta if item is not None else {}
    return {header: str(meta[name]) for name, header in VALIDATORS.items() if meta.get(name)}


def _retry_wait(url: str, response: httpx.Response, policy: RetryPolicy, attempt: int) -> float:
    """How long to wait before the next try; a Retry-After beyond the bound ends the tries."""
    asked = response.headers.get("retry-after", "")
    if not asked.isdigit():
        return policy.wait(attempt)
    if int(asked) > policy.max_wait:
        raise FetchError(f"{url}: HTTP {response.status_code}, asked to retry after {asked} s")
    return float(asked)


def _check_answer(url: str, response: httpx.Response, expect: tuple[str, ...]) -> None:
    if response.status_code >= 400:
        limited = " (rate limited)" if response.status_code == 429 else ""
        raise FetchError(f"{url}: HTTP {response.status_code}{limited}")
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if expect and kind and kind not in expect:
        raise FetchError(f"{url}: expected {' or '.join(expect)}, got {kind}")


def _decode(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know: the bytes are most likely UTF-8
        return body.decode("utf-8", errors="replace")
