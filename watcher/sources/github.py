"""GitHub: the commits on a repository's default branch, its releases and its tags, via PyGithub.

PyGithub is synchronous (requests), so it runs in worker threads: the three lists side by side,
each through a client of its own (a PyGithub client is not safe to share between threads). The
commits are the default branch's, which GitHub lists when no branch is named, so no list waits
for an answer about the repository (a repository gone or a token refused fails each list the
same way). Commits are walked newest first only down to the first one already stored; releases
and tags are read whole, up to their caps. Everything that touches PyGithub is in
`github_api`, imported by the first worker thread (see `_api`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from types import ModuleType
from typing import TypeVar

from watcher.models import Fetched, Item
from watcher.sources.base import FetchContext, Source, register

T = TypeVar("T")
PER_PAGE = 100
TITLE_LIMIT = 100
COMMIT_PREFIX = "commit:"
TAG_PREFIX = "tag:"


@register
class GitHubSource(Source):
    """One repository: `repo` is "owner/name"; `api_url` points elsewhere for tests and GHE."""

    kind = "github"
    required = ("repo",)
    defaults = {
        "api_url": "https://api.github.com",
        "token_env": "GITHUB_TOKEN",
        "max_commits": 100,
        "max_releases": 50,
        "max_tags": 50,
        "timeout": 15.0,
    }

    @property
    def repo(self) -> str:
        return self.options["repo"]

    @property
    def link(self) -> str:
        return f"https://github.com/{self.repo}"

    async def fetch(self, ctx: FetchContext) -> Fetched:
        known = known_shas(ctx.previous)
        options, retry = self.options, ctx.retry
        lists = await asyncio.gather(
            self._in_thread(ctx, lambda api: api.commits(options, retry, known)),
            self._in_thread(ctx, lambda api: api.releases(options, retry)),
            self._in_thread(ctx, lambda api: api.tags(options, retry)),
            return_exceptions=True,
        )
        for result in lists:  # the first failure in this order, whichever came first
            if isinstance(result, BaseException):
                raise result
        items = [item for found in lists for item in found]  # type: ignore[union-attr]
        release_tags = {f"{TAG_PREFIX}{i.meta['tag']}" for i in items if i.kind == "release"}
        # A release brings its tag: report the release once, not "new tag" beside it. A bare
        # tag that later gets a release is carried forward quietly, not reported removed.
        items = [i for i in items if i.key not in release_tags]
        return Fetched(items, covers=lambda item: covers(item) and item.key not in release_tags)

    async def _in_thread(self, ctx: FetchContext, call: Callable[[ModuleType], T]) -> T:
        """`call` in a worker thread, holding one of the API host's slots (see HostLimits):
        the requests of one call go one after another, so the run's per-host limit holds."""
        api = await asyncio.to_thread(_api)
        async with ctx.hosts.slot(self.options["api_url"]):
            return await asyncio.to_thread(call, api)


def _api() -> ModuleType:
    # PyGithub, requests and the crypto they bring take ~0.15 s to import. Imported here, by a
    # worker thread, that overlaps the other sources' requests instead of delaying them all.
    from watcher.sources import github_api

    return github_api


def known_shas(previous: Mapping[str, Item]) -> set[str]:
    return {key.removeprefix(COMMIT_PREFIX) for key in previous if key.startswith(COMMIT_PREFIX)}


def covers(item: Item) -> bool:
    # History is append-only and the walk stops at the first stored commit, so a stored commit
    # missing from this fetch was simply not reached; releases and tags are read whole.
    return item.kind != "commit"


def first_line(text: str) -> str:
    line = text.strip().split("\n", 1)[0].strip()
    return line if len(line) <= TITLE_LIMIT else line[: TITLE_LIMIT - 1].rstrip() + "…"


def normalise(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
