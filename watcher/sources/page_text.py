"""HTML -> stable, line-oriented text for diffing web pages.

One logical line per block (headings as "# ...", list items as "- ...", table rows as
"| a | b |", the lines of <pre> blocks kept and indented by four spaces), links inline as
"text (absolute-url)", and everything that changes without the page changing left out:
navigation, headers, footers, scripts, styles, hidden elements, comments, form inputs, and
cache-busting query parameters in URLs.

The walk is iterative (an explicit stack), so a page nested thousands of levels deep cannot hit
Python's recursion limit, and text is gathered in lists joined once per line, so the work stays
linear in the size of the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import soupsieve
from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag

CACHE_BUSTING_PARAMS = frozenset(
    {"v", "ver", "version", "_", "t", "ts", "cb", "cachebuster", "hash", "rev"}
)
"""Query parameters that only defeat caches; `utm_*` parameters are dropped as well."""

DROPPED_TAGS = frozenset(
    {
        "nav", "header", "footer", "script", "style", "noscript", "template", "svg", "iframe",
        "input", "select", "textarea", "button", "option", "datalist", "object", "embed",
        "canvas", "head", "title", "meta", "link", "base",
    }
)  # fmt: skip

BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "form", "hgroup", "hr",
        "html", "legend", "li", "main", "menu", "ol", "p", "section", "summary", "table",
        "tbody", "tfoot", "thead", "ul", "h1", "h2", "h3", "h4", "h5", "h6",
    }
)  # fmt: skip

_HEADINGS = {f"h{level}": "#" * level + " " for level in range(1, 7)}
_LISTS = frozenset({"ul", "ol", "menu"})
_CELLS = frozenset({"td", "th"})
_NO_URL_SCHEMES = ("javascript:", "data:", "vbscript:", "about:", "blob:")
MAIN_CANDIDATES = ("main", "article", '[role="main"]')
CODE_INDENT = "    "
"""Put before each line of a <pre> block (as Markdown does), so "# comment" in code never reads
as a heading."""


@dataclass(frozen=True)
class Page:
    """What one HTML document says: its title, its normalised main text and the links it holds."""

    title: str
    text: str
    links: tuple[str, ...]
    """Every http(s) link of the whole document (navigation included), absolute and
    normalised, in document order, without repeats."""


def page_text(html: str, selector: str = "", base_url: str = "") -> str:
    """The normalised text of a page's main content (see the module docstring)."""
    return parse_page(html, selector, base_url).text


def parse_page(html: str, selector: str = "", base_url: str = "") -> Page:
    """Parse once; return title, normalised text and links.

    Raises ValueError for a selector that is not valid CSS.
    """
    try:
        soup = BeautifulSoup(html, "lxml")
    except UnicodeEncodeError:  # lone surrogates: not from a decoded response, but never crash
        soup = BeautifulSoup(html.encode("utf-8", "replace").decode("utf-8"), "lxml")
    base = _document_base(soup, base_url)
    roots = _content_roots(soup, selector)
    text = "\n".join(_TextWriter(base).run(roots))
    return Page(title=_title(soup), text=text, links=tuple(_links(soup, base)))


def normalize_url(url: str, base_url: str = "") -> str | None:
    """Absolute form of `url` (resolved against `base_url`) with no fragment and no
    cache-busting query parameters; None for what is no web address (javascript:, data:, ...)."""
    url = url.strip()
    if not url or url.lower().startswith(_NO_URL_SCHEMES):
        return None
    try:
        parts = urlsplit(urljoin(base_url, url) if base_url else url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    netloc = parts.netloc.lower()
    path = parts.path or ("/" if netloc and scheme in ("http", "https") else "")
    query = "&".join(p for p in parts.query.split("&") if p and not _is_cache_buster(p))
    return urlunsplit((scheme, netloc, path, query, ""))


def _is_cache_buster(pair: str) -> bool:
    name = unquote(pair.split("=", 1)[0]).strip().lower()
    return name in CACHE_BUSTING_PARAMS or name.startswith("utm_")


def _document_base(soup: BeautifulSoup, base_url: str) -> str:
    base_tag = soup.find("base", href=True)
    if isinstance(base_tag, Tag):
        resolved = normalize_url(str(base_tag["href"]), base_url)
        if resolved:
            return resolved
    return base_url


def _content_roots(soup: BeautifulSoup, selector: str) -> list[Tag]:
    if selector:
        try:
            return list(soup.select(selector))
        except soupsieve.SelectorSyntaxError as exc:
            raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from exc
    for candidate in MAIN_CANDIDATES:
        found = soup.select_one(candidate)
        if found is not None:
            return [found]
    return [soup.body] if soup.body is not None else [soup]


def _title(soup: BeautifulSoup) -> str:
    for tag in (soup.title, soup.find("h1")):
        if isinstance(tag, Tag):
            title = _collapse(tag.get_text(" "))
            if title:
                return title
    return ""


def _links(soup: BeautifulSoup, base: str) -> Iterator[str]:
    seen: set[str] = set()
    for tag in soup.find_all(("a", "area"), href=True):
        url = normalize_url(str(tag["href"]), base)
        if url and url.startswith(("http://", "https://")) and url not in seen:
            seen.add(url)
            yield url


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _dropped(tag: Tag) -> bool:
    if tag.name in DROPPED_TAGS or tag.has_attr("hidden"):
        return True
    return str(tag.get("aria-hidden", "")).strip().lower() == "true"


@dataclass
class _Link:
    href: str
    buf: list[str]
    start: int
    generation: int


class _TextWriter:
    """One pass over the content roots, emitting lines; state instead of recursion."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.lines: list[str] = []
        self.buf: list[str] = []
        self.generation = 0  # bumped whenever `buf` is emptied into a line
        self.prefix = ""  # put before the next emitted line
        self.continuation = [""]  # prefix of later lines inside the open list items
        self.list_depth = 0
        self.pre: list[str] | None = None
        self.pre_depth = 0
        self.rows: list[list[str]] = []
        self.cells: list[list[str]] = []  # the outer buffers, saved while a cell is open
        self.links: list[_Link] = []

    def run(self, roots: Iterable[Tag]) -> list[str]:
        root_ids = {id(root) for root in roots}
        done: set[int] = set()
        for root in roots:
            if id(root) not in done:
                self._walk(root, root_ids, done)
        self._flush()
        return self.lines

    def _walk(self, root: Tag, root_ids: set[int], done: set[int]) -> None:
        stack: list[tuple[object, bool]] = [(root, False)]
        while stack:
            node, leaving = stack.pop()
            if leaving:
                self._leave(node)  # type: ignore[arg-type]
            elif isinstance(node, Tag):
                if id(node) in root_ids:
                    done.add(id(node))
                elif _dropped(node):
                    continue
                self._enter(node)
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(node.contents))
            elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
                self._text(str(node))

    # -- inline content --------------------------------------------------------------------

    def _text(self, text: str) -> None:
        if self.pre is not None:
            self.pre.append(text)
        elif self.cells or not self.rows:  # text loose in a table row is markup noise
            self.buf.append(text)

    def _flush(self) -> None:
        if self.cells:  # inside a table cell, blocks only separate words
            self.buf.append(" ")
            return
        text = _collapse("".join(self.buf))
        self.buf.clear()
        self.generation += 1
        if text:
            self.lines.append(self.prefix + text)
            self.prefix = self.continuation[-1]

    def _url(self, href: str) -> str | None:
        if href.strip().startswith("#"):
            return None  # a place on this same page
        return normalize_url(href, self.base_url)

    # -- structure ---------------------------------------------------------------------------

    def _enter(self, tag: Tag) -> None:
        name = tag.name
        if self.pre is not None:
            if name == "br":
                self.pre.append("\n")
            elif name == "pre":
                self.pre_depth += 1
            return
        if name == "pre":
            self._flush()
            self.pre = []
            self.pre_depth = 1
        elif name == "a":
            self.links.append(
                _Link(str(tag.get("href") or ""), self.buf, len(self.buf), self.generation)
            )
        elif name == "img":
            alt = _collapse(str(tag.get("alt") or ""))
            if alt:
                self.buf.append(f" [image: {alt}] ")
        elif name == "br":
            self._flush()
        elif name == "tr":
            self._flush()
            self.rows.append([])
        elif name in _CELLS:
            self.cells.append(self.buf)
            self.buf = []
        elif name in BLOCK_TAGS:
            self._flush()
            if name in _LISTS:
                self.list_depth += 1
            elif name == "li":
                indent = "  " * max(self.list_depth - 1, 0)
                self.prefix = indent + "- "
                self.continuation.append(indent + "  ")
            elif name in _HEADINGS:
                self.prefix = self.continuation[-1] + _HEADINGS[name]

    def _leave(self, tag: Tag) -> None:
        name = tag.name
        if self.pre is not None:
            if name == "pre":
                self.pre_depth -= 1
                if self.pre_depth == 0:
                    self._leave_pre()
            return
        if name == "a":
            self._leave_link()
        elif name in _CELLS:
            if self.cells:
                cell = _collapse("".join(self.buf))
                self.buf = self.cells.pop()
                if self.rows:
                    self.rows[-1].append(cell)
                else:
                    self.buf.append(f" {cell} ")
        elif name == "tr":
            self._leave_row()
        elif name in BLOCK_TAGS:
            self._flush()
            if name in _LISTS:
                self.list_depth = max(self.list_depth - 1, 0)
            elif name == "li" and len(self.continuation) > 1:
                self.continuation.pop()
            if not self.cells:
                self.prefix = self.continuation[-1]

    def _leave_pre(self) -> None:
        assert self.pre is not None
        raw, self.pre = "".join(self.pre), None
        for line in raw.splitlines():
            if line.strip():
                if self.cells:
                    self.buf.append(f" {line.strip()} ")
                else:
                    self.lines.append(self.continuation[-1] + CODE_INDENT + line.rstrip())
        self.prefix = self.continuation[-1]

    def _leave_link(self) -> None:
        if not self.links:
            return
        link = self.links.pop()
        if link.buf is self.buf and link.generation == self.generation:
            text = _collapse("".join(self.buf[link.start :]))
        else:  # a block inside the link already emitted its start
            text = _collapse("".join(self.buf))
        url = self._url(link.href)
        if text and url and not _same_address(text, link.href, url):
            self.buf.append(f" ({url})")

    def _leave_row(self) -> None:
        if not self.rows:
            return
        cells = self.rows.pop()
        if not any(cells):
            return
        row = "| " + " | ".join(cells) + " |"
        if self.cells:  # a table inside a cell: keep its rows inside that cell
            self.buf.append(f" {row} ")
        else:
            self.lines.append(self.continuation[-1] + row)
            self.generation += 1


def _same_address(text: str, href: str, url: str) -> bool:
    candidates = {href.strip(), url, url.split("://", 1)[-1]}
    return text in candidates or text.rstrip("/") in {c.rstrip("/") for c in candidates}
