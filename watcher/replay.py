"""A local HTTP server that plays back recorded responses, week by week.

`watcher demo` and the tests use it to stand in for t.me, the GitHub API, cocoon.org and the
worker download, on 127.0.0.1 only. A recording is a folder per week; each week holds
`routes/*.json` files, each a JSON list of routes:

    {"path": "/tme/s/cocoon", "query": {"before": "12"}, "file": "tme/page.html",
     "status": 200, "headers": {"Content-Type": "text/html; charset=utf-8"}}

`query` must match the request's query exactly (order ignored; absent means "no query");
`file` is relative to the week folder (absent means an empty body). In bodies and header values
`{{BASE}}` becomes the server's base URL and `https://api.github.com` becomes `{{BASE}}/github`,
so recorded GitHub JSON points back at this server, as PyGithub requires.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

GITHUB_API = "https://api.github.com"


@dataclass(frozen=True)
class Route:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Recording:
    """All routes of one week, keyed by (path, sorted query items)."""

    routes: dict[tuple[str, tuple[tuple[str, str], ...]], Route] = field(default_factory=dict)

    @classmethod
    def load(cls, week_dir: Path, base: str) -> Recording:
        recording = cls()
        for routes_file in sorted((week_dir / "routes").glob("*.json")):
            for spec in json.loads(routes_file.read_text(encoding="utf-8")):
                body = (week_dir / spec["file"]).read_bytes() if spec.get("file") else b""
                headers = {k: _expand(v, base) for k, v in spec.get("headers", {}).items()}
                key = (spec["path"], _query_key(spec.get("query", {}).items()))
                recording.routes[key] = Route(spec.get("status", 200), headers,
                                              _expand_body(body, base))
        return recording

    def find(self, raw_path: str) -> Route | None:
        parts = urlsplit(raw_path)
        return self.routes.get((parts.path, _query_key(parse_qsl(parts.query))))


def _query_key(pairs) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in pairs))


def _expand_body(body: bytes, base: str) -> bytes:
    try:
        return _expand(body.decode("utf-8"), base).encode("utf-8")
    except UnicodeDecodeError:
        return body  # binary bodies are served as recorded


def _expand(text: str, base: str) -> str:
    return text.replace(GITHUB_API, "{{BASE}}/github").replace("{{BASE}}", base)


class ReplayServer:
    """Serve a recorded folder (`<root>/week1`, `<root>/week2`, ...) on 127.0.0.1.

    Use as a context manager; `use_week(n)` switches what is served. Every request is logged in
    `requests` as (method, path-with-query, headers) so tests can assert what was asked.
    """

    def __init__(self, root: Path, week: int = 1):
        self.root = Path(root)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread: threading.Thread | None = None
        self._gates: dict[str, threading.Event] = {}
        self.use_week(week)

    def hold(self, path: str) -> threading.Event:
        """Keep requests for `path` waiting until the returned event is set (at most a minute),
        so a test can act while a client is mid-fetch."""
        gate = threading.Event()
        self._gates[path] = gate
        return gate

    def use_week(self, week: int) -> None:
        self.recording = Recording.load(self.root / f"week{week}", self.base_url)

    def __enter__(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._answer(send_body=True)

            def do_HEAD(self) -> None:
                self._answer(send_body=False)

            def _answer(self, send_body: bool) -> None:
                server.requests.append((self.command, self.path, dict(self.headers)))
                gate = server._gates.get(urlsplit(self.path).path)
                if gate is not None:
                    gate.wait(timeout=60)
                route = server.recording.find(self.path) or Route(
                    404, {"Content-Type": "text/plain"}, b"not recorded\n"
                )
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if "content-length" not in {k.lower() for k in route.headers}:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                if send_body and route.status not in (204, 304):
                    self.wfile.write(route.body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the request log above is what tests read; stderr stays clean

        return Handler
