"""The part of the GitHub source that talks to PyGithub: one client per call (a PyGithub client
is not safe to share between threads), the reads, and errors worded for people.

Imported only by the GitHub source's worker threads (see `github._api`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import requests
from github import Auth, Github, GithubException
from github.Commit import Commit
from github.GithubException import (
    BadCredentialsException,
    RateLimitExceededException,
    UnknownObjectException,
)
from github.GitRelease import GitRelease
from github.Repository import Repository
from github.Tag import Tag
from urllib3.util.retry import Retry

from watcher.models import Item
from watcher.sources.base import FetchError, RetryPolicy, SourceGone
from watcher.sources.github import (
    COMMIT_PREFIX,
    PER_PAGE,
    TAG_PREFIX,
    first_line,
    iso,
    normalise,
)


def commits(options: Mapping[str, Any], retry: RetryPolicy, known: set[str]) -> list[Item]:
    with _client(options, retry) as gh:
        return commit_items(gh.get_repo(options["repo"]), known, options["max_commits"],
                            options["repo"])


def releases(options: Mapping[str, Any], retry: RetryPolicy) -> list[Item]:
    with _client(options, retry) as gh:
        return release_items(gh.get_repo(options["repo"]), options["max_releases"])


def tags(options: Mapping[str, Any], retry: RetryPolicy) -> list[Item]:
    with _client(options, retry) as gh:
        return tag_items(gh.get_repo(options["repo"]), options["repo"], options["max_tags"])


@contextmanager
def _client(options: Mapping[str, Any], retry: RetryPolicy) -> Iterator[Github]:
    """A client of its own, its errors worded for people. It is lazy: get_repo sends no
    request, the repository is only a place to ask."""
    token = os.environ.get(options["token_env"])
    try:
        with Github(
            base_url=options["api_url"],
            auth=Auth.Token(token) if token else None,
            per_page=PER_PAGE,
            # PyGithub asserts an int here; round up so a sub-second timeout never becomes 0
            timeout=math.ceil(options["timeout"]),
            retry=retry_policy(retry),
            seconds_between_requests=None,
            lazy=True,
        ) as gh:
            yield gh
    except (GithubException, requests.RequestException, json.JSONDecodeError) as exc:
        raise fetch_error(exc, options["repo"], options["token_env"]) from exc


def retry_policy(policy: RetryPolicy) -> Retry:
    """The run's retry policy in urllib3's terms. PyGithub's default, GithubRetry, would instead
    sleep until the rate-limit reset, which can hold a weekly check for up to an hour."""
    return Retry(
        total=policy.attempts - 1,
        backoff_factor=policy.backoff / 2,
        backoff_max=policy.max_wait,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        # a 503's Retry-After has no upper bound; the backoff above does
        respect_retry_after_header=False,
        # hand the last 5xx to PyGithub, so the error names the status, not "too many retries"
        raise_on_status=False,
    )


def commit_items(repo: Repository, known: set[str], limit: int, name: str) -> list[Item]:
    """The default branch (GitHub's answer when no branch is named), newest first, down to the
    first stored commit or `limit` commits."""
    items: list[Item] = []
    listed = False
    try:
        # islice stops before asking for the next page once `limit` is reached
        for commit in islice(repo.get_commits(), limit):
            listed = True
            if commit.sha in known:
                break
            items.append(commit_item(commit))
    except GithubException as exc:
        if exc.status != 409:  # 409 is GitHub's answer for an empty repository: no history yet
            raise
    if known and not listed:
        # history is append-only: a listing that suddenly has nothing is a broken answer
        raise FetchError(f"github {name}: the commit listing came back empty "
                         f"({len(known)} commits stored); keeping the last good copy")
    return items


def commit_item(commit: Commit) -> Item:
    # Only fields present in the list response: any other attribute makes PyGithub fetch the
    # commit again, one request per commit.
    message = commit.commit.message
    author = commit.commit.author
    return Item(
        key=f"{COMMIT_PREFIX}{commit.sha}",
        kind="commit",
        title=first_line(message),
        url=commit.html_url,
        text=message,
        meta={
            "sha": commit.sha,
            "author": author.name,
            "date": iso(author.date),
            "parents": len(commit.parents),
        },
    )


def release_items(repo: Repository, limit: int) -> list[Item]:
    return [release_item(release) for release in islice(repo.get_releases(), limit)]


def release_item(release: GitRelease) -> Item:
    return Item(
        key=f"release:{release.id}",
        kind="release",
        title=release.name or release.tag_name,
        url=release.html_url,
        text=normalise(f"{release.tag_name}\n{release.name or ''}\n\n{release.body or ''}"),
        meta={
            "tag": release.tag_name,
            "published_at": iso(release.published_at),
            "prerelease": release.prerelease,
            "draft": release.draft,
        },
    )


def tag_items(repo: Repository, full_name: str, limit: int) -> list[Item]:
    return [tag_item(tag, full_name) for tag in islice(repo.get_tags(), limit)]


def tag_item(tag: Tag, full_name: str) -> Item:
    return Item(
        key=f"{TAG_PREFIX}{tag.name}",
        kind="tag",
        title=tag.name,
        url=f"https://github.com/{full_name}/releases/tag/{tag.name}",
        text=f"{tag.name} {tag.commit.sha}",
        meta={"sha": tag.commit.sha},
    )


def fetch_error(exc: Exception, repo: str, token_env: str) -> FetchError:
    """Say what went wrong in words a person can act on. Never include the token itself."""
    prefix = f"github {repo}"
    if isinstance(exc, UnknownObjectException):
        return SourceGone(f"{prefix}: repository not found")
    if isinstance(exc, RateLimitExceededException):
        return FetchError(
            f"{prefix}: GitHub API rate limit exceeded ({reset_hint(exc.headers)}); "
            f"setting the {token_env} environment variable to a token raises the limit"
        )
    if isinstance(exc, BadCredentialsException):
        return FetchError(f"{prefix}: bad credentials; check the token in {token_env}")
    if isinstance(exc, GithubException):
        return FetchError(f"{prefix}: HTTP {exc.status} {server_message(exc.data)}".rstrip())
    if isinstance(exc, json.JSONDecodeError):
        return FetchError(f"{prefix}: the answer was not valid JSON")
    if isinstance(exc, requests.Timeout):
        return FetchError(f"{prefix}: timed out")
    return FetchError(f"{prefix}: {type(exc).__name__}")


def reset_hint(headers: Mapping[str, str] | None) -> str:
    # Read the exception's own headers: Github.rate_limiting_resettime makes a request of its
    # own when no reset was seen, and that request would be rate limited too.
    headers = headers or {}
    if "x-ratelimit-reset" in headers:
        reset = datetime.fromtimestamp(int(float(headers["x-ratelimit-reset"])), tz=UTC)
        return f"resets at {reset:%Y-%m-%d %H:%M} UTC"
    if "retry-after" in headers:
        return f"retry after {headers['retry-after']} s"
    return "reset time not given"


def server_message(data: Any) -> str:
    return str(data.get("message", "")) if isinstance(data, dict) else ""
