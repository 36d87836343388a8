"""Time `watcher check` against urlwatch on the same pages, served slowly on 127.0.0.1.

    python bench/check_vs_urlwatch.py [--pages 10 100 500] [--latency 0.2] [--hosts 10]

A local server answers every request after `--latency` seconds (200 ms), on `--hosts` ports
(10 hosts to the client): N pages spread over them (copies of the recorded cocoon.org pages,
each made unique, with an ETag and Last-Modified), plus a t.me channel preview and the GitHub
API of the recorded demo. For each N it runs, in fresh folders, `watcher check` twice (the first
run records the baseline, the second finds every page unchanged: conditional requests answered
304) and urlwatch twice with its default settings on a job file for the same URLs (the pages,
the channel preview and the three GitHub API addresses). urlwatch is installed from PyPI into
bench/.venv (git-ignored), never into the project's environment; the watcher is timed as a
user runs it: installed (`pip install .`, no test extras) into bench/.venv-watcher (git-ignored).

It also prints the floor a run cannot go under (the longest chain of requests one after another
given the per-host limit, on the busiest host — host 0 also serves the channel preview and the
GitHub API — times the latency, plus the time to parse the pages the run reads: all on the first
run, none on the second), the peak RSS of `watcher check` and of the idle bot
(`watcher run` for a few seconds against a stand-in Telegram Bot API on 127.0.0.1), and the time
to diff and classify a 1 MB page pair with 1,000 changed lines (in a process of its own, with
the watcher as installed, as a run would: not in this one, full of pages). Beside the floor it
prints what a bare asyncio client takes for the same requests under the same per-host limit
('bare': raw sockets, nothing imported, parsed or stored), which also counts the slow site's
own work on this machine. Every server and loop here is bounded and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from watcher import classify, diff
from watcher.classify.changes import classify as classify_changes
from watcher.models import Fetched, Item
from watcher.replay import Recording
from watcher.sources.base import PER_HOST
from watcher.sources.page_text import parse_page

ROOT = Path(__file__).resolve().parents[1]
DEMO_WEEK = ROOT / "watcher" / "demo_data" / "week1"
URLWATCH_VENV = ROOT / "bench" / ".venv"
WATCHER_VENV = ROOT / "bench" / ".venv-watcher"
WATCHER = [str(WATCHER_VENV / "bin" / "watcher")]
URLWATCH = "urlwatch==2.29"
GITHUB_REQUESTS = 3  # the repository's commits, releases and tags, side by side
RUN_TIMEOUT = 600  # seconds: no run of either tool may take longer
IDLE_SECONDS = 8.0
LAST_MODIFIED = "Mon, 23 Nov 2026 09:00:00 GMT"
CHILD_ENV = {k: v for k, v in os.environ.items()
             if k not in ("GITHUB_TOKEN", "TELEGRAM_BOT_TOKEN", "TONCENTER_API_KEY",
                          "WATCHER_CONFIG")}


# --- the slow site ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class SlowSite:
    """`hosts` servers on 127.0.0.1, each answering after `latency` seconds. Host 0 also plays
    the recorded demo's t.me preview and GitHub API; pages are added with `add_page`."""

    def __init__(self, hosts: int, latency: float):
        self.latency = latency
        self.requests = 0
        self.statuses: dict[int, int] = {}
        self._lock = threading.Lock()
        self._pages: dict[tuple[int, str], Answer] = {}
        self._servers = [ThreadingHTTPServer(("127.0.0.1", 0), self._handler(n))
                         for n in range(hosts)]
        for server in self._servers:
            server.daemon_threads = True
            server.request_queue_size = 128
        self.bases = [f"http://127.0.0.1:{s.server_address[1]}" for s in self._servers]
        self._recording = Recording.load(DEMO_WEEK, self.bases[0])

    def add_page(self, host: int, path: str, html: str) -> str:
        body = html.encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        self._pages[host, path] = Answer(200, {"Content-Type": "text/html; charset=utf-8",
                                               "ETag": etag, "Last-Modified": LAST_MODIFIED},
                                         body)
        return self.bases[host] + path

    def clear_pages(self) -> None:
        self._pages.clear()

    def __enter__(self) -> SlowSite:
        for server in self._servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def _answer(self, host: int, raw_path: str, headers: dict[str, str]) -> Answer:
        path = raw_path.split("?", 1)[0]
        page = self._pages.get((host, path))
        if page is not None:
            asked = {k.lower(): v for k, v in headers.items()}
            if asked.get("if-none-match") == page.headers["ETag"]:
                return Answer(304, {"ETag": page.headers["ETag"]}, b"")
            return page
        route = self._recording.find(raw_path) if host == 0 else None
        if route is None:
            return Answer(404, {"Content-Type": "text/plain"}, b"not here\n")
        return Answer(route.status, route.headers, route.body)

    def _handler(self, host: int) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                time.sleep(site.latency)
                answer = site._answer(host, self.path, dict(self.headers))
                with site._lock:
                    site.requests += 1
                    site.statuses[answer.status] = site.statuses.get(answer.status, 0) + 1
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if answer.status != 304:
                    self.wfile.write(answer.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def demo_pages() -> list[str]:
    return [page.read_text(encoding="utf-8")
            for page in sorted((DEMO_WEEK / "site").glob("*.html"))]


def unique_page(template: str, number: int) -> str:
    """A recorded page made one of its own: its title and first heading carry its number."""
    marked = template.replace("<main", f"<main data-copy='{number}'", 1)
    marked = marked.replace("</h1>", f" (copy {number})</h1>", 1)
    return marked.replace("</main>", f"<p>This is copy {number} of the page.</p></main>", 1)


# --- the two tools ------------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    output: str


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run `command` to its end (at most RUN_TIMEOUT s): wall time, the child's peak RSS and
    what it printed on stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err,
                                   stdin=subprocess.DEVNULL, env=env or CHILD_ENV)
        deadline = start + RUN_TIMEOUT
        while not (waited := os.wait4(process.pid, os.WNOHANG))[0]:
            if time.perf_counter() > deadline:
                process.kill()
                raise SystemExit(f"{command[0]} ran past {RUN_TIMEOUT} s")
            time.sleep(0.005)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(waited[1])
        out.seek(0)
        err.seek(0)
        output, errors = (f.read().decode("utf-8", "replace") for f in (out, err))
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}:\n{errors[-3000:]}")
    return Run(seconds, waited[2].ru_maxrss / 1024, output)


def watcher_config(folder: Path, site: SlowSite, hosts: dict[int, list[str]],
                   per_host: int, bot_api: str = "http://127.0.0.1:9") -> Path:
    base = site.bases[0]
    sources = [f"""
[[sources]]
name = "Telegram @cocoon"
kind = "telegram_channel"
channel = "cocoon"
base_url = "{base}/tme"
max_posts = 8              # the recorded preview's first page: one request a run

[[sources]]
name = "GitHub TelegramMessenger/cocoon"
kind = "github"
repo = "TelegramMessenger/cocoon"
api_url = "{base}/github"
"""]
    for host, urls in sorted(hosts.items()):
        sources.append(f"""
[[sources]]
name = "site {host}"
kind = "web_page"
url = "{urls[0]}"
extra_urls = {json.dumps(urls[1:])}
""")
    path = folder / "watcher.toml"
    path.write_text(f"""
[store]
path = "{folder / 'watcher.db'}"
[http]
per_host = {per_host}
[telegram]
api_base_url = "{bot_api}"
{''.join(sources)}""", encoding="utf-8")
    return path


def check(config: Path, folder: Path) -> Run:
    run = timed([*WATCHER, "check", "--json", "--config", str(config)], folder)
    outcomes = json.loads(run.output)["sources"]
    failed = [o for o in outcomes if o["status"] == "failed"]
    if failed:
        raise SystemExit(f"watcher check: sources failed: {failed}")
    return run


def install_watcher() -> None:
    """This checkout, installed the way a user installs it (its dependencies once, the code
    afresh each time): the test extras (Selenium brings trio, which httpx then imports) and an
    editable install's import hook would both slow the start-up the bench times."""
    python = WATCHER_VENV / "bin" / "python"
    if not python.exists():
        print(f"installing the watcher into {WATCHER_VENV.relative_to(ROOT)} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(WATCHER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(ROOT)], check=True,
                       timeout=RUN_TIMEOUT)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps",
                    "--force-reinstall", str(ROOT)], check=True, timeout=RUN_TIMEOUT)


def install_urlwatch() -> Path:
    program = URLWATCH_VENV / "bin" / "urlwatch"
    if not program.exists():
        print(f"installing {URLWATCH} into {URLWATCH_VENV.relative_to(ROOT)} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(URLWATCH_VENV)], check=True)
        subprocess.run([str(URLWATCH_VENV / "bin" / "python"), "-m", "pip", "install",
                        "--quiet", URLWATCH], check=True, timeout=RUN_TIMEOUT)
    return program


def urlwatch_run(program: Path, folder: Path, urls: list[str]) -> Run:
    jobs = folder / "urls.yaml"
    jobs.write_text("\n---\n".join(f"name: job {n}\nurl: {json.dumps(url)}"
                                   for n, url in enumerate(urls)) + "\n", encoding="utf-8")
    # its own config (written with the defaults on the first run), cache and hooks, all here
    return timed([str(program), "--urls", str(jobs), "--config", str(folder / "urlwatch.yaml"),
                  "--hooks", str(folder / "hooks.py"), "--cache", str(folder / "cache.db")],
                 folder)


# --- one size -----------------------------------------------------------------------------------


@dataclass
class Row:
    pages: int
    run: str
    ours: Run
    theirs: Run
    floor: float
    bare: float


def bench_size(site: SlowSite, program: Path, pages: int, hosts: int, per_host: int,
               templates: list[str], repeat: int) -> list[Row]:
    site.clear_pages()
    by_host: dict[int, list[str]] = {}
    htmls = []
    for n in range(pages):
        html = unique_page(templates[n % len(templates)], n)
        htmls.append(html)
        by_host.setdefault(n % hosts, []).append(site.add_page(n % hosts, f"/docs/page-{n}", html))
    # the floor: the longest chain of requests one after another, plus parsing every page the
    # run reads (the second run reads none: they are all answered 304)
    requests = [len(by_host.get(host, [])) for host in range(hosts)]
    requests[0] += 1 + GITHUB_REQUESTS  # the channel preview and the GitHub API
    rounds = max(math.ceil(count / per_host) for count in requests)
    start = time.perf_counter()
    for html in htmls:
        parse_page(html)
    parsing = time.perf_counter() - start
    chain = rounds * site.latency
    base = site.bases[0]
    repo = f"{base}/github/repos/TelegramMessenger/cocoon"
    urls = [url for host in sorted(by_host) for url in by_host[host]]
    urls += [f"{base}/tme/s/cocoon", f"{repo}/commits?per_page=100",
             f"{repo}/releases?per_page=100", f"{repo}/tags?per_page=100"]
    bare = statistics.median(bare_client(urls, per_host) for _ in range(repeat))
    runs: dict[str, tuple[list[Run], list[Run]]] = {"first": ([], []), "second": ([], [])}
    for _ in range(repeat):  # each time in fresh folders: a first run, then a second
        with (tempfile.TemporaryDirectory() as ours_dir,
              tempfile.TemporaryDirectory() as their_dir):
            config = watcher_config(Path(ours_dir), site, by_host, per_host)
            for ours, theirs in runs.values():
                ours.append(check(config, Path(ours_dir)))
                theirs.append(urlwatch_run(program, Path(their_dir), urls))
    floors = {"first": chain + parsing, "second": chain}
    return [Row(pages, label, median_run(ours), median_run(theirs), floors[label], bare)
            for label, (ours, theirs) in runs.items()]


def bare_client(urls: list[str], per_host: int) -> float:
    """Seconds a bare asyncio client takes to GET `urls` on kept-alive connections, `per_host`
    to a host, reading each body and nothing more: what the slow site allows when nothing is
    imported, started, parsed or stored (its own threads' work shows here, and not in the floor).
    """
    queues: dict[tuple[str, int], list[str]] = {}
    for url in urls:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        queues.setdefault((parts.hostname or "", parts.port or 80), []).append(target)

    async def connection(host: str, port: int, queue: list[str]) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while queue:  # each URL is taken once: as many requests as URLs, no more
                writer.write(f"GET {queue.pop(0)} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n"
                             .encode())
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length: *(\d+)", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
        finally:
            writer.close()

    async def all_hosts() -> None:
        await asyncio.gather(*(connection(host, port, queue)
                               for (host, port), queue in queues.items()
                               for _ in range(per_host)))

    start = time.perf_counter()
    asyncio.run(asyncio.wait_for(all_hosts(), RUN_TIMEOUT))
    return time.perf_counter() - start


def median_run(runs: list[Run]) -> Run:
    """The median time (this machine's timings wander by a tenth from one run to the next) and
    the highest peak RSS of `runs`."""
    return Run(statistics.median(r.seconds for r in runs), max(r.peak_rss_mb for r in runs), "")


# --- the idle bot -------------------------------------------------------------------------------


class FakeBotApi:
    """Just enough of the Telegram Bot API for `watcher run` to start and poll: getMe, a
    getUpdates that waits a second and finds nothing, and `true` for everything else."""

    def __init__(self):
        self.calls: dict[str, int] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeBotApi:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                method = self.path.rsplit("/", 1)[-1]
                api.calls[method] = api.calls.get(method, 0) + 1
                result: object = True
                if method == "getMe":
                    result = {"id": 123456, "is_bot": True, "first_name": "Bench",
                              "username": "bench_bot", "can_join_groups": True,
                              "can_read_all_group_messages": False,
                              "supports_inline_queries": False}
                elif method == "getUpdates":
                    time.sleep(1.0)
                    result = []
                body = json.dumps({"ok": True, "result": result}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bot was stopped while it waited for updates

            do_GET = do_POST

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def idle_bot(site: SlowSite, templates: list[str], hosts: int, per_host: int) -> tuple[Run, int]:
    """`watcher run` on a baselined store, left idle IDLE_SECONDS, then stopped: its peak RSS,
    and how many requests it sent to the sources meanwhile (0: it stayed idle)."""
    site.clear_pages()
    by_host = {n: [site.add_page(n, f"/docs/page-{n}", unique_page(templates[n], n))]
               for n in range(min(hosts, len(templates)))}
    with tempfile.TemporaryDirectory() as folder, FakeBotApi() as api:
        config = watcher_config(Path(folder), site, by_host, per_host, bot_api=api.url)
        check(config, Path(folder))  # the baseline: the bot then has nothing due at start
        before = site.requests
        env = {**CHILD_ENV, "TELEGRAM_BOT_TOKEN": "123456:BENCH-not-a-real-token"}
        start = time.perf_counter()
        process = subprocess.Popen([*WATCHER, "run", "--config", str(config)], cwd=folder, env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(IDLE_SECONDS)
        process.send_signal(signal.SIGTERM)
        deadline = time.perf_counter() + 30
        while not (waited := os.wait4(process.pid, os.WNOHANG))[0]:
            if time.perf_counter() > deadline:
                process.kill()
                raise SystemExit("watcher run did not stop on SIGTERM")
            time.sleep(0.05)
        if not api.calls.get("getUpdates"):
            raise SystemExit(f"the bot never polled the stand-in Bot API: {api.calls}")
        run = Run(time.perf_counter() - start, waited[2].ru_maxrss / 1024, "")
        return run, site.requests - before


# --- the 1 MB page pair -------------------------------------------------------------------------


def page_pair(size: int = 1_000_000, changed: int = 1000, seed: int = 9) -> tuple[str, str]:
    """The recorded cocoon.org pages' text, repeated (each line made unique) to `size`
    characters, and a copy with `changed` lines edited the way docs get edited."""
    lines: list[str] = []
    texts = [parse_page(html).text.split("\n") for html in demo_pages()]
    copy = 0
    while sum(map(len, lines)) + len(lines) < size:
        copy += 1
        lines += [f"{line} (part {copy})" if not line.startswith("#") else f"{line} {copy}"
                  for text in texts for line in text]
    rnd = random.Random(seed)
    edits = [lambda s: s.replace("H100", "H200"), lambda s: s + " Updated.",
             lambda s: s.replace("6.16", "6.12"), lambda s: "Note: " + s,
             lambda s: s.replace(" the ", " a ")]
    new = list(lines)
    for i in rnd.sample([i for i, line in enumerate(new) if not line.startswith("#")], changed):
        edited = rnd.choice(edits)(new[i])
        new[i] = edited if edited != new[i] else new[i] + " (edited)"
    return "\n".join(lines), "\n".join(new)


def diff_and_classify(before: str, after: str, rules: classify.Rules) -> tuple[float, int]:
    old, new = (Item("page", "page", "Page", "https://cocoon.org/docs", t) for t in (before, after))
    start = time.perf_counter()
    changes = diff.changes("cocoon.org", diff.compare({"page": old}, Fetched([new])))
    classify_changes(changes, {"page": old}, {"page": new}, rules)
    return time.perf_counter() - start, len(changes)


# --- main ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per response")
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--per-host", type=int, default=PER_HOST,
                        help="watcher's http.per_host for these runs")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each tool per size; the median is printed")
    parser.add_argument("--page-pair", action="store_true",
                        help="only time the 1 MB page pair here and print JSON (what the "
                             "bench runs in a process of its own)")
    args = parser.parse_args()
    if args.page_pair:
        time_page_pair()
        return 0
    install_watcher()
    program = install_urlwatch()
    version = subprocess.run([str(program), "--version"], capture_output=True, text=True,
                             check=True).stdout.strip()
    templates = demo_pages()
    print(f"watcher check vs {version}: {args.hosts} hosts on 127.0.0.1, "
          f"{args.latency * 1000:.0f} ms per response, watcher per_host = {args.per_host}, "
          f"{os.cpu_count()} cores")
    print(f"each N: the pages + a t.me preview + {GITHUB_REQUESTS} GitHub API requests; "
          "'first' records the baseline, 'second' finds every page unchanged (304); times are "
          f"the median of {args.repeat} runs in fresh folders, RSS the highest")
    header = (f"{'pages':>5}  {'run':<6}  {'ours s':>7}  {'urlwatch s':>10}  "
              f"{'ours/urlwatch':>13}  {'floor s':>7}  {'ours/floor':>10}  {'bare s':>6}  "
              f"{'ours peak RSS':>13}")
    print(header)
    with SlowSite(args.hosts, args.latency) as site:
        for pages in args.pages:
            for row in bench_size(site, program, pages, args.hosts, args.per_host, templates,
                                  args.repeat):
                print(f"{row.pages:>5}  {row.run:<6}  {row.ours.seconds:>7.2f}  "
                      f"{row.theirs.seconds:>10.2f}  "
                      f"{row.ours.seconds / row.theirs.seconds:>13.2f}  {row.floor:>7.2f}  "
                      f"{row.ours.seconds / row.floor:>10.2f}  {row.bare:>6.2f}  "
                      f"{row.ours.peak_rss_mb:>10.0f} MB", flush=True)
        bot, requests = idle_bot(site, templates, args.hosts, args.per_host)
    start = min(timed([*WATCHER, "--version"], WATCHER_VENV).seconds
                for _ in range(3))
    print(f"'ours' includes starting Python and importing the watcher: {start:.2f} s "
          f"(`watcher --version`, best of 3)")
    print(f"idle bot (watcher run, {IDLE_SECONDS:.0f} s against a stand-in Bot API, "
          f"{requests} source requests meanwhile): peak RSS {bot.peak_rss_mb:.0f} MB")
    pair = json.loads(subprocess.run(
        [str(WATCHER_VENV / "bin" / "python"), __file__, "--page-pair"], capture_output=True,
        text=True, check=True, timeout=RUN_TIMEOUT, env=CHILD_ENV).stdout)
    print(f"diff + classify of a {pair['mb']:.2f} MB page pair, {pair['changed']:,} changed "
          f"lines ({pair['sections']} sections): {pair['times'][0]:.2f} s first, "
          f"{min(pair['times']):.2f} s best of 3")
    return 0


def time_page_pair() -> None:
    """The 1 MB pair, timed in a process of its own with the watcher as installed (as a run
    would: the rules loaded afresh, nothing else in memory); prints the figures as JSON."""
    rules = classify.load(ROOT / "config" / "rules.toml")
    before, after = page_pair()
    changed = sum(a != b for a, b in zip(before.split("\n"), after.split("\n"), strict=True))
    times = []
    for _ in range(3):
        seconds, count = diff_and_classify(before, after, rules)
        times.append(seconds)
    print(json.dumps({"mb": len(after) / 1e6, "changed": changed, "sections": count,
                      "times": times}))


if __name__ == "__main__":
    sys.exit(main())
