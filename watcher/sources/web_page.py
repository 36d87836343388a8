"""Web pages: a configured URL (plus `extra_urls`), and optionally the pages found under a prefix.

Each page becomes one Item whose text is the page's normalised main content (see `page_text`),
so cache-busters, footers, hidden tokens and navigation never count as a change, and a new page
under `discover_prefix` shows up as a new item.

Requests are conditional: an item keeps its page's ETag and Last-Modified in `meta` (and, when
discovery is on, the page's links), and a page the server answers 304 Not Modified is the
stored item itself, neither parsed nor compared. Pages are fetched all at once, as many at a
time to one host as the run's per-host limit allows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from watcher.models import Fetched, Item
from watcher.sources.base import (
    HTML_TYPES,
    FetchContext,
    FetchError,
    Source,
    conditional_headers,
    get_text,
    parse,
    register,
    validators,
)
from watcher.sources.page_text import Page, normalize_url, parse_page


@register
class WebPageSource(Source):
    kind = "web_page"
    required = ("url",)
    defaults = {
        "selector": "",
        "discover_prefix": "",
        "max_discovered": 30,
        "extra_urls": [],
    }

    async def fetch(self, ctx: FetchContext) -> Fetched:
        crawl = _Crawl(self, ctx)
        await crawl.run()
        return Fetched(items=crawl.items(), covers=crawl.covers)

    def configured_urls(self) -> list[str]:
        """The url and the extra_urls, normalised, without repeats, in configured order."""
        extra = self.options.get("extra_urls") or []
        raw = [self.options["url"], *([extra] if isinstance(extra, str) else extra)]
        urls: list[str] = []
        for value in raw:
            url = normalize_url(str(value))
            if not url or not url.startswith(("http://", "https://")):
                raise FetchError(f"{self.name}: not an http(s) URL: {value!r}")
            if url not in urls:
                urls.append(url)
        return urls


class _Crawl:
    """One run of one WebPageSource: configured pages first, then discovery, breadth first."""

    def __init__(self, source: WebPageSource, ctx: FetchContext):
        self.ctx = ctx
        self.selector = str(source.options.get("selector") or "")
        prefix = str(source.options.get("discover_prefix") or "")
        self.prefix = (normalize_url(prefix) or "") if prefix else ""
        self.budget = max(int(source.options.get("max_discovered", 30)), 0)
        self.configured = source.configured_urls()
        self.pages: dict[str, Page] = {}
        self.validators: dict[str, dict[str, str]] = {}  # ETag / Last-Modified, by page
        self.unchanged: dict[str, Item] = {}  # pages answered 304: their stored items
        self.discovered: list[str] = []  # attempted by discovery, in order
        self.failed: set[str] = set()  # discovered pages that could not be read
        self.truncated = False  # discovery stopped at the cap with links left to follow

    async def run(self) -> None:
        results = await self._load_all(self.configured)
        for result in results:
            if isinstance(result, BaseException):
                raise result  # a configured page failed: the whole source failed
        frontier = self.configured
        while self.prefix and frontier:
            links = self._new_links(frontier)
            if len(links) > self.budget:
                self.truncated = True
                links = links[: self.budget]
            if not links:
                break
            self.budget -= len(links)
            self.discovered.extend(links)
            results = await self._load_all(links)
            for url, result in zip(links, results, strict=True):
                if isinstance(result, FetchError):
                    self.failed.add(url)  # skipped; covers() keeps its last snapshot
                elif isinstance(result, BaseException):
                    raise result
            frontier = [url for url in links if url in self.pages]

    def _new_links(self, frontier: Iterable[str]) -> list[str]:
        seen = set(self.configured) | set(self.discovered)
        found: list[str] = []
        for url in frontier:
            for link in self.pages[url].links:
                if link.startswith(self.prefix) and link not in seen:
                    seen.add(link)
                    found.append(link)
        return found

    async def _load_all(self, urls: list[str]) -> list[None | BaseException]:
        return await asyncio.gather(*(self._load(url) for url in urls), return_exceptions=True)

    async def _load(self, url: str) -> None:
        stored = self._reusable(url)
        response, html = await get_text(self.ctx, url, expect=HTML_TYPES,
                                        follow_redirects=True,
                                        headers=conditional_headers(stored))
        if response.status_code == 304:
            if stored is None:
                raise FetchError(f"{url}: HTTP 304 to a request that was not conditional")
            links = stored.meta.get("links") or ()
            self.pages[url] = Page(stored.title, stored.text, tuple(links))
            self.unchanged[url] = stored
            return
        if response.url.scheme not in ("http", "https"):
            raise FetchError(f"{url}: redirected to a non-http URL")
        try:
            self.pages[url] = await parse(self.ctx, parse_page, html, self.selector,
                                          str(response.url))
        except ValueError as exc:
            raise FetchError(f"{url}: {exc}") from exc
        self.validators[url] = validators(response)

    def _reusable(self, url: str) -> Item | None:
        """The stored page a 304 would stand for: one with validators, stored as this run sees
        it (configured or discovered), and with its links when discovery needs them."""
        stored = self.ctx.previous.get(url)
        if stored is None or not conditional_headers(stored):
            return None
        if stored.meta.get("discovered") != (url not in self.configured):
            return None
        if self.prefix and "links" not in stored.meta:
            return None
        return stored

    def items(self) -> list[Item]:
        discovered = set(self.discovered)
        return [self.unchanged.get(url) or self._item(url, url in discovered)
                for url in [*self.configured, *self.discovered] if url in self.pages]

    def _item(self, url: str, discovered: bool) -> Item:
        page = self.pages[url]
        meta: dict[str, object] = {"discovered": discovered, **self.validators.get(url, {})}
        if self.prefix:
            meta["links"] = list(page.links)  # what discovery follows from it, after a 304
        return Item(key=url, kind="page", title=page.title or url, url=url, text=page.text,
                    meta=meta)

    def covers(self, item: Item) -> bool:
        """Which stored pages this run speaks for.

        The pages read this run; a discovered page that failed is not covered (its last
        snapshot is kept, never reported removed). When discovery ran to its end, without
        failures and under the cap, it saw every page still linked under the prefix, so a
        stored page under the prefix that it no longer found is covered: it was removed.
        """
        if item.key in self.pages:
            return True
        if item.key in self.failed or not self.prefix:
            return False
        complete = not self.truncated and not self.failed
        return complete and item.key.startswith(self.prefix)
