"""A small web site on 127.0.0.1 for fetch tests: pages held in memory, answered with their ETag
and Last-Modified (and 304 to a matching conditional request), every request logged with the
connection it came on, and the most requests it ever had in flight at once counted.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Page:
    html: str
    etag: str | None = None
    last_modified: str | None = None


class LocalSite:
    """Use as a context manager; `pages` maps a path to its Page and may change between runs.
    Each answer is held `delay` seconds, so requests overlap when the client sends them so."""

    def __init__(self, delay: float = 0.0):
        self.pages: dict[str, Page] = {}
        self.delay = delay
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.statuses: list[int] = []
        self.connections: set[int] = set()  # the client ports requests came from
        self.peak = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> LocalSite:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _answer(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        page = self.pages.get(path)
        if page is None:
            return 404, {"Content-Type": "text/plain"}, b"not here\n"
        sent = {"Content-Type": "text/html; charset=utf-8"}
        if page.etag:
            sent["ETag"] = page.etag
        if page.last_modified:
            sent["Last-Modified"] = page.last_modified
        asked = {k.lower(): v for k, v in headers.items()}
        if page.etag and asked.get("if-none-match") == page.etag or (
                "if-none-match" not in asked and page.last_modified
                and asked.get("if-modified-since") == page.last_modified):
            return 304, sent, b""
        return 200, sent, page.html.encode("utf-8")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with site._lock:
                    site.requests.append((self.path, dict(self.headers)))
                    site.connections.add(self.client_address[1])
                    site._in_flight += 1
                    site.peak = max(site.peak, site._in_flight)
                try:
                    time.sleep(site.delay)
                    status, headers, body = site._answer(self.path, dict(self.headers))
                finally:
                    with site._lock:
                        site._in_flight -= 1
                site.statuses.append(status)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
