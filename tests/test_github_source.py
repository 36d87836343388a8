"""GitHubSource: PyGithub against a real HTTP server on 127.0.0.1 (watcher.replay.ReplayServer).

Served folders are built in tmp_path from the real samples (the 71 real cocoon commits, a real
PyGithub releases page, a real 403 rate-limit answer) plus the bodies in tests/fixtures/github/.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from urllib3.util.retry import Retry

from watcher.models import Item
from watcher.replay import ReplayServer
from watcher.sources import source_kind
from watcher.sources.base import FetchContext, FetchError, HostLimits, RetryPolicy, SourceGone
from watcher.sources.github import GitHubSource

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "github"
DEMO_DATA = ROOT / "watcher" / "demo_data"

REPO = "TelegramMessenger/cocoon"
REPO_ID = json.loads((FIXTURES / "repo_cocoon.json").read_text(encoding="utf-8"))["id"]
API = "https://api.github.com"
PATH = f"/github/repos/{REPO}"
JSON = {"Content-Type": "application/json; charset=utf-8"}
PER_PAGE = 100
TOKEN = "ghp_testTOKEN0123456789abcdefghijklmnopqr"
HEAD = "b75d444766212b9b17ae2bfab1268a2e2e334b6f"


# --- building served folders --------------------------------------------------------------------


def write_week(root: Path, week: int, files: dict[str, Any], routes: list[dict]) -> None:
    """One week of a replay folder: `files` (name -> JSON data, or bytes served as they are) and
    the routes that serve them."""
    week_dir = root / f"week{week}"
    for name, data in files.items():
        target = week_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        raw = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
        target.write_bytes(raw)
    (week_dir / "routes").mkdir(parents=True, exist_ok=True)
    (week_dir / "routes" / "github.json").write_text(json.dumps(routes), encoding="utf-8")


def route(path: str, file: str | None, query: dict | None = None, **extra: Any) -> dict:
    spec: dict[str, Any] = {"path": path, "headers": dict(JSON), **extra}
    if file:
        spec["file"] = file
    if query:
        spec["query"] = query
    return spec


def commit_pages(commits: list[dict]) -> tuple[dict[str, Any], list[dict]]:
    """Serve `commits` the way GitHub pages them: page 1 at the /repos/ URL PyGithub builds,
    later pages at the numeric /repositories/{id}/ URLs of the Link header."""
    pages = [commits[i : i + PER_PAGE] for i in range(0, len(commits), PER_PAGE)] or [[]]
    files, routes = {}, []
    for number, page in enumerate(pages, start=1):
        name = f"github/commits_p{number}.json"
        files[name] = page
        query = {"per_page": str(PER_PAGE)}
        path = f"{PATH}/commits"
        if number > 1:
            query["page"] = str(number)
            path = f"/github/repositories/{REPO_ID}/commits"
        spec = route(path, name, query)
        if len(pages) > 1:
            spec["headers"]["Link"] = link_header(number, len(pages))
        routes.append(spec)
    return files, routes


def link_header(number: int, last: int) -> str:
    def url(page: int) -> str:
        return f"{API}/repositories/{REPO_ID}/commits?per_page={PER_PAGE}&page={page}"

    links = []
    if number > 1:
        links.append(f'<{url(number - 1)}>; rel="prev"')
    if number < last:
        links += [f'<{url(number + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    if number > 1:
        links.append(f'<{url(1)}>; rel="first"')
    return ", ".join(links)


def github_week(
    root: Path,
    week: int,
    commits: list[dict],
    releases: Sequence[dict] = (),
    tags: Sequence[dict] = (),
) -> None:
    files, routes = commit_pages(commits)
    files |= {"github/releases.json": list(releases), "github/tags.json": list(tags)}
    routes += [
        route(f"{PATH}/releases", "github/releases.json", {"per_page": str(PER_PAGE)}),
        route(f"{PATH}/tags", "github/tags.json", {"per_page": str(PER_PAGE)}),
    ]
    write_week(root, week, files, routes)


def simulated_commits(real: list[dict], count: int, label: str) -> list[dict]:
    """`count` commits on top of `real` (newest first), shaped like the real newest commit."""
    commits, parent = [], real[0]["sha"]
    for n in range(1, count + 1):
        commit = copy.deepcopy(real[0])
        sha = hashlib.sha1(f"{label}-{n}".encode()).hexdigest()
        commit["sha"] = sha
        commit["commit"]["message"] = f"{label} change {n}\n\nSimulated for the tests."
        commit["url"] = f"{API}/repos/{REPO}/commits/{sha}"
        commit["html_url"] = f"https://github.com/{REPO}/commit/{sha}"
        commit["parents"] = [{"sha": parent, "url": f"{API}/repos/{REPO}/commits/{parent}"}]
        commits.insert(0, commit)
        parent = sha
    return commits


def tag(name: str, sha: str) -> dict:
    return {
        "name": name,
        "zipball_url": f"{API}/repos/{REPO}/zipball/refs/tags/{name}",
        "tarball_url": f"{API}/repos/{REPO}/tarball/refs/tags/{name}",
        "commit": {"sha": sha, "url": f"{API}/repos/{REPO}/commits/{sha}"},
    }


def meta_headers(meta_file: Path) -> dict[str, str]:
    return {name: value for name, value in json.loads(meta_file.read_text())["response_headers"]}


# --- running the source ---------------------------------------------------------------------------


@pytest.fixture
def real_commits(real_fixtures: Path) -> list[dict]:
    return json.loads((real_fixtures / "cocoon-github" / "commits.json").read_text("utf-8"))


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture(autouse=True)
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)


THREE_TRIES = RetryPolicy(attempts=3)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record every sleep instead of taking it: retries must be short, never real waits."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    monkeypatch.setattr(
        Retry, "sleep", lambda self, response=None: slept.append(self.get_backoff_time())
    )
    return slept


def source(server: ReplayServer, **options: Any) -> GitHubSource:
    return GitHubSource(
        "GitHub cocoon",
        {**GitHubSource.defaults, "repo": REPO, "api_url": f"{server.base_url}/github", **options},
    )


async def fetch(
    src: GitHubSource, http: httpx.AsyncClient, previous: Iterable[Item] = ()
) -> list[Item]:
    fetched = await src.fetch(FetchContext(http=http, previous={i.key: i for i in previous}))
    return fetched.items


def paths(server: ReplayServer) -> list[str]:
    return [path for _, path, _ in server.requests]


def leaks(items: Iterable[Item], secret: str) -> bool:
    return any(secret in json.dumps([i.key, i.title, i.url, i.text, i.meta]) for i in items)


# --- commits -------------------------------------------------------------------------------------


async def test_first_run_records_the_real_cocoon_history(tmp_path, http, real_commits):
    github_week(tmp_path, 1, real_commits)
    with ReplayServer(tmp_path) as server:
        src = source(server)
        fetched = await src.fetch(FetchContext(http=http))

    assert [i.key for i in fetched.items] == [f"commit:{c['sha']}" for c in real_commits]
    newest = fetched.items[0]
    assert newest.kind == "commit"
    assert newest.title == "update ton"
    assert newest.text == "update ton"
    assert newest.url == f"https://github.com/{REPO}/commit/{HEAD}"
    assert newest.meta == {
        "sha": HEAD,
        "author": "Arseny Smirnov",
        "date": "2025-12-19T17:34:11+00:00",
        "parents": 1,
    }
    assert sum(i.meta["parents"] == 2 for i in fetched.items) == 7  # the 7 real merge commits
    assert fetched.items[-1].meta["parents"] == 0
    # one request per list, none per commit: only fields of the list response are read; none
    # for the repository itself (the commits listed are its default branch's)
    assert sorted(paths(server)) == [
        f"{PATH}/commits?per_page=100",
        f"{PATH}/releases?per_page=100",
        f"{PATH}/tags?per_page=100",
    ]
    assert src.link == f"https://github.com/{REPO}"
    assert source_kind("github") is GitHubSource


async def test_the_three_lists_are_read_side_by_side(tmp_path, http, real_commits):
    github_week(tmp_path, 1, real_commits[:3])
    with ReplayServer(tmp_path) as server:
        releases = server.hold(f"{PATH}/releases")
        fetching = asyncio.create_task(source(server).fetch(FetchContext(http=http)))
        deadline = time.monotonic() + 10
        while len(server.requests) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        asked_while_releases_held = sorted(paths(server))
        releases.set()
        fetched = await fetching
    assert asked_while_releases_held == [
        f"{PATH}/commits?per_page=100",
        f"{PATH}/releases?per_page=100",
        f"{PATH}/tags?per_page=100",
    ]
    assert len(fetched.items) == 3


class CountedLimits(HostLimits):
    """The run's per-host limit, counting how many slots were taken for what, and the most
    held at once."""

    def __init__(self, per_host: int):
        super().__init__(per_host)
        self.taken: list[str] = []
        self.held = self.peak = 0

    def slot(self, url):
        limits, semaphore = self, super().slot(url)

        class Counted:
            async def __aenter__(self):
                await semaphore.acquire()
                limits.taken.append(str(url))
                limits.held += 1
                limits.peak = max(limits.peak, limits.held)

            async def __aexit__(self, *exc_info):
                limits.held -= 1
                semaphore.release()

        return Counted()


async def test_the_api_host_counts_against_the_runs_per_host_limit(tmp_path, http,
                                                                   real_commits):
    github_week(tmp_path, 1, real_commits[:3])
    with ReplayServer(tmp_path) as server:
        limits = CountedLimits(per_host=1)
        fetched = await source(server).fetch(FetchContext(http=http, hosts=limits))
    assert len(fetched.items) == 3 and len(server.requests) == 3
    assert limits.taken == [f"{server.base_url}/github"] * 3  # one for each list
    assert limits.peak == 1  # one at a time, as the limit says


async def test_stored_commits_are_never_reported_removed(tmp_path, http, real_commits):
    github_week(tmp_path, 1, real_commits[:3])
    with ReplayServer(tmp_path) as server:
        fetched = await source(server).fetch(FetchContext(http=http))

    commit = Item("commit:0000", "commit", "old", "", "old")
    release = Item("release:1", "release", "v1", "", "v1")
    bare_tag = Item("tag:v1", "tag", "v1", "", "v1 abc")
    assert not fetched.speaks_for(commit)
    assert fetched.speaks_for(release)
    assert fetched.speaks_for(bare_tag)


async def test_second_run_returns_exactly_the_new_commits(tmp_path, http, real_commits):
    github_week(tmp_path, 1, real_commits)
    newer = simulated_commits(real_commits, 2, "week2")
    github_week(tmp_path, 2, newer + real_commits)
    with ReplayServer(tmp_path) as server:
        first = await fetch(source(server), http)
        server.use_week(2)
        server.requests.clear()
        second = await fetch(source(server), http, previous=first)

    assert [i.key for i in second] == [f"commit:{c['sha']}" for c in newer[:2]]
    assert second[0].title == "week2 change 2"
    assert second[0].text == "week2 change 2\n\nSimulated for the tests."
    commit_requests = [p for p in paths(server) if "/commits" in p]
    assert commit_requests == [f"{PATH}/commits?per_page=100"]


async def test_pagination_stops_on_the_page_holding_a_known_sha(tmp_path, http, real_commits):
    newer = simulated_commits(real_commits, 179, "busy")  # 250 commits: pages of 100, 100, 50
    github_week(tmp_path, 1, newer + real_commits)
    known = [Item(f"commit:{c['sha']}", "commit", "", "", "") for c in real_commits]
    with ReplayServer(tmp_path) as server:
        items = await fetch(source(server, max_commits=500), http, previous=known)

    assert [i.key for i in items] == [f"commit:{c['sha']}" for c in newer]
    assert [p for p in paths(server) if "/commits" in p] == [
        f"{PATH}/commits?per_page=100",
        f"/github/repositories/{REPO_ID}/commits?page=2&per_page=100",
    ]


@pytest.mark.parametrize(("max_commits", "pages"), [(100, 1), (150, 2), (250, 3), (1000, 3)])
async def test_first_run_is_bounded_by_max_commits(
    tmp_path, http, real_commits, max_commits, pages
):
    history = simulated_commits(real_commits, 179, "busy") + real_commits
    github_week(tmp_path, 1, history)
    with ReplayServer(tmp_path) as server:
        items = await fetch(source(server, max_commits=max_commits), http)

    assert [i.key for i in items] == [f"commit:{c['sha']}" for c in history[:max_commits]]
    assert len([p for p in paths(server) if "/commits" in p]) == pages


async def test_a_long_first_line_is_cut_for_the_title(tmp_path, http, real_commits):
    commit = simulated_commits(real_commits, 1, "x")[0]
    commit["commit"]["message"] = "word " * 40 + "\r\n\r\nbody"
    github_week(tmp_path, 1, [commit])
    with ReplayServer(tmp_path) as server:
        [item] = await fetch(source(server), http)

    assert len(item.title) <= 100
    assert item.title.endswith("…")
    assert item.text == commit["commit"]["message"]


async def test_empty_repository_has_no_commits(tmp_path, http):
    github_week(tmp_path, 1, [])
    routes_file = tmp_path / "week1" / "routes" / "github.json"
    routes = json.loads(routes_file.read_text())
    (tmp_path / "week1" / "github" / "empty.json").write_text(
        (FIXTURES / "error_409_empty_repository.json").read_text()
    )
    routes[0].update(status=409, file="github/empty.json")
    routes_file.write_text(json.dumps(routes))
    with ReplayServer(tmp_path) as server:
        assert await fetch(source(server), http) == []


# --- releases and tags ----------------------------------------------------------------------------


def release(real: dict, release_id: int, tag_name: str, name: str, body: str) -> dict:
    """A release in the exact shape GitHub returned for PyGithub, moved to the cocoon repo."""
    shaped = copy.deepcopy(real)
    shaped.update(
        id=release_id,
        tag_name=tag_name,
        name=name,
        body=body,
        url=f"{API}/repos/{REPO}/releases/{release_id}",
        assets_url=f"{API}/repos/{REPO}/releases/{release_id}/assets",
        html_url=f"https://github.com/{REPO}/releases/tag/{tag_name}",
    )
    return shaped


async def test_new_release_edited_notes_and_new_bare_tag(
    tmp_path, http, real_fixtures, real_commits
):
    page = json.loads(
        (real_fixtures / "github" / "releases_PyGithub_PyGithub_page1.json").read_text()
    )
    old = release(page[1], 101, "v0.9.0", "", "**Fixes**\r\n\r\n* first fix  \r\n")
    edited = release(page[1], 101, "v0.9.0", "", "**Fixes**\r\n\r\n* first fix\r\n* second fix\r\n")
    new = release(page[0], 102, "v1.0.0", "COCOON worker v1.0.0", "Supports H200.")
    github_week(tmp_path, 1, real_commits, [old], [tag("v0.9.0", real_commits[1]["sha"])])
    github_week(
        tmp_path,
        2,
        real_commits,
        [new, edited],
        [tag("v1.0.1", HEAD), tag("v1.0.0", HEAD), tag("v0.9.0", real_commits[1]["sha"])],
    )
    with ReplayServer(tmp_path) as server:
        first = {i.key: i for i in await fetch(source(server), http)}
        server.use_week(2)
        second = {i.key: i for i in await fetch(source(server), http, previous=first.values())}

    assert first["release:101"].title == "v0.9.0"  # the real release had name "": fall back to tag
    assert first["release:101"].text == "v0.9.0\n\n\n**Fixes**\n\n* first fix"
    assert first["release:101"].meta == {
        "tag": "v0.9.0",
        "published_at": "2021-04-26T04:07:53+00:00",  # the real release's date
        "prerelease": False,
        "draft": False,
    }
    # v1.0.0 comes with its release, so only the bare tag v1.0.1 is an item of its own
    assert set(second) - set(first) == {"release:102", "tag:v1.0.1"}
    assert second["release:101"].text != first["release:101"].text
    assert second["release:101"].text.endswith("* first fix\n* second fix")
    assert second["release:102"].title == "COCOON worker v1.0.0"
    assert second["release:102"].url == f"https://github.com/{REPO}/releases/tag/v1.0.0"
    bare = second["tag:v1.0.1"]
    assert (bare.kind, bare.title, bare.text) == ("tag", "v1.0.1", f"v1.0.1 {HEAD}")
    assert bare.url == f"https://github.com/{REPO}/releases/tag/v1.0.1"


async def test_bare_tag_that_gets_its_release_is_not_reported_removed(
    tmp_path, http, real_fixtures, real_commits
):
    page = json.loads(
        (real_fixtures / "github" / "releases_PyGithub_PyGithub_page1.json").read_text()
    )
    github_week(tmp_path, 1, real_commits, [], [tag("v1.0.0", HEAD)])
    github_week(tmp_path, 2, real_commits, [release(page[0], 7, "v1.0.0", "v1", "notes")],
                [tag("v1.0.0", HEAD)])
    with ReplayServer(tmp_path) as server:
        first = await fetch(source(server), http)
        server.use_week(2)
        src = source(server)
        fetched = await src.fetch(FetchContext(http=http, previous={i.key: i for i in first}))

    [bare] = [i for i in first if i.kind == "tag"]
    assert [i.key for i in fetched.items if i.kind != "commit"] == ["release:7"]
    assert not fetched.speaks_for(bare)


# --- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize("token", [TOKEN, "", None])
async def test_token_is_sent_only_as_the_authorization_header(
    tmp_path, http, real_commits, monkeypatch, token
):
    if token is not None:
        monkeypatch.setenv("GITHUB_TOKEN", token)
    github_week(tmp_path, 1, real_commits[:5])
    with ReplayServer(tmp_path) as server:
        items = await fetch(source(server), http)

    sent = [headers.get("Authorization") for _, _, headers in server.requests]
    assert sent == [f"token {TOKEN}" if token else None] * 3
    assert not leaks(items, TOKEN)


async def test_token_env_names_the_variable(tmp_path, http, real_commits, monkeypatch):
    monkeypatch.setenv("COCOON_GH", TOKEN)
    github_week(tmp_path, 1, real_commits[:1])
    with ReplayServer(tmp_path) as server:
        await fetch(source(server, token_env="COCOON_GH"), http)

    assert {headers.get("Authorization") for _, _, headers in server.requests} == {f"token {TOKEN}"}


# --- errors -----------------------------------------------------------------------------------


def error_week(root: Path, status: int, body: Path, headers: dict[str, str] | None = None) -> None:
    """Every list of the repository gets this answer."""
    specs = [route(f"{PATH}/{name}", "github/error.json", {"per_page": str(PER_PAGE)},
                   status=status) for name in ("commits", "releases", "tags")]
    for spec in specs:
        spec["headers"] = headers or dict(JSON)
    write_week(root, 1, {"github/error.json": body.read_bytes()}, specs)


async def test_missing_repository_is_source_gone(tmp_path, http):
    error_week(tmp_path, 404, FIXTURES / "error_404_not_found.json")
    with ReplayServer(tmp_path) as server, pytest.raises(SourceGone) as caught:
        await fetch(source(server), http)

    assert str(caught.value) == f"github {REPO}: repository not found"


async def test_rate_limit_fails_at_once_and_names_the_token_variable(
    tmp_path, http, real_fixtures, monkeypatch, sleeps
):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    real = real_fixtures / "github"
    error_week(
        tmp_path,
        403,
        real / "error_403_rate_limit.json",
        meta_headers(real / "error_403_rate_limit.meta.json"),
    )
    with ReplayServer(tmp_path) as server, pytest.raises(FetchError) as caught:
        await fetch(source(server), http)

    message = str(caught.value)
    assert not isinstance(caught.value, SourceGone)
    assert message.startswith(f"github {REPO}: GitHub API rate limit exceeded")
    assert "reset time not given" in message  # the 2013 answer has no X-RateLimit-Reset
    assert "GITHUB_TOKEN" in message
    assert TOKEN not in message
    assert len(server.requests) == 3  # once for each list: not retried
    assert sleeps == []


async def test_rate_limit_message_gives_the_reset_time(tmp_path, http, real_fixtures, sleeps):
    real = real_fixtures / "github"
    headers = meta_headers(real / "error_403_rate_limit.meta.json")
    headers["X-RateLimit-Reset"] = "1641832874"  # the reset of the recorded releases answer
    error_week(tmp_path, 403, real / "error_403_rate_limit.json", headers)
    with ReplayServer(tmp_path) as server, pytest.raises(FetchError) as caught:
        await fetch(source(server), http)

    assert "resets at 2022-01-10 16:41 UTC" in str(caught.value)
    assert sleeps == []


async def test_bad_credentials_name_the_variable_not_the_token(tmp_path, http, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    error_week(tmp_path, 401, FIXTURES / "error_401_bad_credentials.json")
    with ReplayServer(tmp_path) as server, pytest.raises(FetchError) as caught:
        await fetch(source(server), http)

    assert "GITHUB_TOKEN" in str(caught.value)
    assert TOKEN not in str(caught.value)


async def test_server_errors_are_retried_briefly_then_reported(tmp_path, http, sleeps):
    error_week(tmp_path, 503, FIXTURES / "error_503_unavailable.json")
    with ReplayServer(tmp_path) as server, pytest.raises(FetchError) as caught:
        await source(server).fetch(FetchContext(http=http, retry=THREE_TRIES))

    assert str(caught.value) == f"github {REPO}: HTTP 503 Service Unavailable"
    assert len(server.requests) == 3 * 3  # each list: the first try and two retries
    assert len(sleeps) == 3 * 2 and max(sleeps) <= 1.0


async def test_a_cut_off_answer_is_a_fetch_error(tmp_path, http, real_commits):
    github_week(tmp_path, 1, real_commits[:2])
    cut = tmp_path / "week1" / "github" / "commits_p1.json"
    cut.write_bytes(cut.read_bytes()[:500])
    with ReplayServer(tmp_path) as server, pytest.raises(FetchError) as caught:
        await fetch(source(server), http)

    assert str(caught.value) == f"github {REPO}: the answer was not valid JSON"


async def test_unreachable_server_is_a_fetch_error(tmp_path, http, sleeps):
    write_week(tmp_path, 1, {}, [])
    with ReplayServer(tmp_path) as server:
        closed = source(server)  # the server is shut down when the block ends
    with pytest.raises(FetchError) as caught:
        await closed.fetch(FetchContext(http=http, retry=THREE_TRIES))

    assert str(caught.value) == f"github {REPO}: ConnectionError"
    assert len(sleeps) == 3 * 2  # each list: two waits between its three tries


# --- the recorded demo weeks ---------------------------------------------------------------------


async def test_demo_weeks_bring_the_new_commit_and_release(http):
    with ReplayServer(DEMO_DATA) as server:
        week1 = await fetch(source(server), http)
        server.use_week(2)
        week2 = await fetch(source(server), http, previous=week1)

    assert len(week1) == 70
    assert {i.kind for i in week1} == {"commit"}
    assert [i.key for i in week2] == [f"commit:{HEAD}", "release:271993044"]
    release_item = week2[1]
    assert release_item.title == "COCOON worker v1.0.0"
    assert "H200" in release_item.text and "Docker client" in release_item.text
    assert "\r" not in release_item.text
    assert [p for p in paths(server) if "/commits" in p] == [f"{PATH}/commits?per_page=100"] * 2


async def test_a_commit_listing_that_suddenly_is_empty_is_a_fetch_problem(
    tmp_path, http, real_commits
):
    github_week(tmp_path, 1, real_commits[:3])
    github_week(tmp_path, 2, [])
    with ReplayServer(tmp_path) as server:
        first = await fetch(source(server), http)
        server.use_week(2)
        with pytest.raises(FetchError, match="commit listing came back empty .3 commits stored."):
            await fetch(source(server), http, previous=first)
