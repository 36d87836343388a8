"""HTML -> stable, line-oriented text for diffing web pages.

One logical line per block (headings as "# ...", list items as "- ...", table rows as
"| a | b |", the lines of <pre> blocks kept and indented by four spaces), links inline as
"text (absolute-url)", and everything that changes without the page changing left out:
navigation, headers, footers, scripts, styles, hidden elements, comments, form inputs, and
cache-busting query parameters in URLs.

The page is parsed by lxml (libxml2's HTML parser) and its element tree walked directly. The walk
is iterative (an explicit stack), so a page nested thousands of levels deep cannot hit Python's
recursion limit, and text is gathered in lists joined once per line, so the work stays linear in
the size of the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from lxml import etree

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
# A <template>'s content is not part of the document: no content root is looked for inside one.
_OUTSIDE_TEMPLATES = "[not(ancestor::template)]"
# MAIN_CANDIDATES as XPath (the first match of each), so the default content needs no CSS library.
_MAIN_XPATHS = tuple(
    etree.XPath(f"descendant-or-self::{step}{_OUTSIDE_TEMPLATES}[1]")
    for step in ("main", "article", "*[@role='main']")
)
# Words inside these are code, styles, unrendered templates or ruby annotations: not a title's.
_NOT_TITLE_TEXT = frozenset({"script", "style", "template", "rt", "rp"})
# Comments and processing instructions have events of their own, which carry their tails: the
# text after them, which belongs to their parent.
_EVENTS = ("start", "end", "comment", "pi")
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
    root = _parse(html)
    base = _document_base(root, base_url)
    roots = _content_roots(root, selector)
    text = "\n".join(_TextWriter(base).run(roots))
    return Page(title=_title(root), text=text, links=tuple(_links(root, base)))


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


def _parse(html: str) -> etree._Element:
    # A page decoded as "utf-8" rather than "utf-8-sig" keeps its byte-order mark: no text. And
    # "replace": lone surrogates never come from a decoded response, but must not crash either.
    data = html.removeprefix("\ufeff").encode("utf-8", "replace")
    parser = _html_parser()
    root = etree.fromstring(data, parser)
    if any(error.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT for error in parser.error_log):
        # libxml2 builds no tree deeper than 2048 levels, but its parse events have no such
        # limit: a deeper page is built from those (several times slower, so only when needed).
        root = etree.fromstring(data, _html_parser(target=_EventTreeBuilder()))
    return root if root is not None else etree.Element("html")  # blank or comment-only input


def _html_parser(target: _EventTreeBuilder | None = None) -> etree.HTMLParser:
    # Explicit UTF-8: lxml refuses a str that declares an encoding (<?xml ... encoding=...?>), and
    # a <meta charset> must not re-decode text that is decoded already. huge_tree: the page is in
    # memory already, and libxml2's size limits would only cut its text short. A new parser per
    # page, because its error log is read afterwards (a shared one could hold another thread's).
    return etree.HTMLParser(encoding="utf-8", huge_tree=True, target=target)


class _EventTreeBuilder:
    """A parser target building the tree from parse events, at any depth (see `_parse`)."""

    def __init__(self) -> None:
        self.builder = etree.TreeBuilder()
        self.open: list[str] = []

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.open.append(tag)
        self.builder.start(tag, attrib)

    def end(self, tag: str) -> None:
        self.open.pop()
        self.builder.end(tag)

    def data(self, text: str) -> None:
        self.builder.data(text)

    def comment(self, text: str) -> None:
        self.builder.comment(text)

    def pi(self, target: str, data: str | None = None) -> None:
        self.builder.pi(target, data)

    def close(self) -> etree._Element:
        # The parser sends no end for what is still open at the end of the page (an unknown
        # tag, say); TreeBuilder would refuse to finish, while the tree is complete already.
        while self.open:
            self.builder.end(self.open.pop())
        return self.builder.close()


def _document_base(root: etree._Element, base_url: str) -> str:
    base_tag = next((tag for tag in root.iter("base") if "href" in tag.attrib), None)
    if base_tag is not None:
        resolved = normalize_url(base_tag.get("href", ""), base_url)
        if resolved:
            return resolved
    return base_url


def _content_roots(root: etree._Element, selector: str) -> list[etree._Element]:
    if selector:
        return _select(root, selector)
    for find in _MAIN_XPATHS:
        found = find(root)
        if found:
            return found
    body = next(root.iter("body"), None)
    return [body if body is not None else root]


def _select(root: etree._Element, selector: str) -> list[etree._Element]:
    # Imported here: most pages have no selector, and start-up time matters.
    from cssselect import HTMLTranslator, SelectorError

    try:  # SelectorError covers both SelectorSyntaxError and ExpressionError
        return root.xpath(f"({HTMLTranslator().css_to_xpath(selector)}){_OUTSIDE_TEMPLATES}")
    except (SelectorError, etree.XPathError) as exc:  # XPathError: e.g. an unknown "ns|" prefix
        raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from exc


def _title(root: etree._Element) -> str:
    for tag in (next(root.iter("title"), None), next(root.iter("h1"), None)):
        if tag is not None and next(tag.iterancestors(*_NOT_TITLE_TEXT), None) is None:
            title = _collapse(" ".join(_title_strings(tag)))
            if title:
                return title
    return ""


def _title_strings(tag: etree._Element) -> Iterator[str]:
    """The text pieces under `tag` in document order, leaving out those of _NOT_TITLE_TEXT."""
    walk = etree.iterwalk(tag, events=_EVENTS)
    for event, node in walk:
        if event == "start":
            if node.tag in _NOT_TITLE_TEXT:
                walk.skip_subtree()
            elif node.text:
                yield node.text
        elif node is not tag and node.tail:
            yield node.tail


def _links(root: etree._Element, base: str) -> Iterator[str]:
    seen: set[str] = set()
    for tag in root.iter("a", "area"):
        url = normalize_url(tag.get("href", ""), base)
        if url and url.startswith(("http://", "https://")) and url not in seen:
            seen.add(url)
            yield url


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _dropped(tag: etree._Element) -> bool:
    if tag.tag in DROPPED_TAGS or "hidden" in tag.attrib:
        return True
    return tag.get("aria-hidden", "").strip().lower() == "true"


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

    def run(self, roots: Iterable[etree._Element]) -> list[str]:
        root_set = set(roots)
        done: set[etree._Element] = set()
        for root in roots:
            if root not in done:
                self._walk(root, root_set, done)
        self._flush()
        return self.lines

    def _walk(
        self, root: etree._Element, roots: set[etree._Element], done: set[etree._Element]
    ) -> None:
        # iterwalk keeps a stack, not Python's, and holds on to the open elements: lxml frees an
        # element by climbing to the nearest one still held, which must stay one step away.
        walk = etree.iterwalk(root, events=_EVENTS)
        skipped = None  # after skip_subtree(), the dropped element's "end" is the next event
        for event, node in walk:
            if event == "start":
                if node in roots:
                    done.add(node)
                elif _dropped(node):
                    walk.skip_subtree()
                    skipped = node
                    continue
                self._enter(node)
                if node.text:
                    self._text(node.text)
                continue
            if event == "end":
                if node is skipped:
                    skipped = None
                else:
                    self._leave(node.tag)
            if node is not root and node.tail:  # the parent's text, kept when `node` is dropped
                self._text(node.tail)

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

    def _enter(self, tag: etree._Element) -> None:
        name = tag.tag
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
            self.links.append(_Link(tag.get("href", ""), self.buf, len(self.buf), self.generation))
        elif name == "img":
            alt = _collapse(tag.get("alt", ""))
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

    def _leave(self, name: str) -> None:
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
