"""A public Telegram channel, read through its web preview at t.me/s/<channel>.

The preview shows about twenty posts per page, oldest first, with a "load more" link to the
page before. Markup facts (and which of them are verified against real pages) are written up in
shared/notes/tme-markup.md; the parser follows its "Parsing checklist".

Pages are parsed by lxml (libxml2's HTML parser) and queried with XPath compiled once at import:
no CSS library to import, and no tree of Python objects to build for every page.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from watcher.models import Fetched, Item
from watcher.sources.base import (
    HTML_TYPES,
    FetchContext,
    FetchError,
    Source,
    SourceGone,
    get_text,
    parse,
    register,
)

TITLE_LENGTH = 80

# Media blocks by the classes that mark them, in the order their labels are listed.
MEDIA_CLASSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("photo", ("tgme_widget_message_photo_wrap",)),
    ("video", ("tgme_widget_message_video_player",)),
    ("round video", ("tgme_widget_message_roundvideo_player",)),
    ("voice", ("tgme_widget_message_voice_player",)),
    ("document", ("tgme_widget_message_document_wrap",)),
    ("poll", ("tgme_widget_message_poll",)),
    ("sticker", ("tgme_widget_message_sticker_wrap", "tgme_widget_message_tgsticker_wrap")),
    ("link preview", ("tgme_widget_message_link_preview",)),
)

# Blocks inside a bubble that reuse the text classes but quote someone else's words.
QUOTED_BLOCKS = ("tgme_widget_message_reply", "tgme_widget_message_link_preview")

# Characters that render as nothing: a link labelled only with them is a hidden preview link.
INVISIBLE = "\u200b\u2060\ufeff"

# Words inside these are code, styles, unrendered templates or ruby annotations: not a name's.
NOT_TEXT = frozenset({"script", "style", "template", "rt", "rp"})

# Explicit UTF-8: lxml refuses a str that declares an encoding (<?xml ... encoding=...?>), and a
# <meta charset> must not re-decode text that is already decoded. huge_tree: past 256 nested
# elements libxml2 would otherwise stop and drop the rest of the page (now past 2048). The
# parser is locked per use, so sharing it between the parsing threads is safe.
_PARSER = etree.HTMLParser(encoding="utf-8", huge_tree=True)


def _has_class(*names: str) -> str:
    """XPath test: the element's class list holds one of `names` (CSS's `.name`)."""
    # The plain substring test first: it is cheap and rules out nearly every element.
    return " or ".join(
        f"(contains(@class, '{name}')"
        f" and contains(concat(' ', normalize-space(@class), ' '), ' {name} '))"
        for name in names
    )


def _query(xpath: str) -> etree.XPath:
    # Plain strings: "smart" ones would keep the whole page alive through their parent link.
    return etree.XPath(xpath, smart_strings=False)


def _inside(test: str, then: str = "[1]") -> etree.XPath:
    """A query on one message: its descendants only, by default the first match."""
    return _query(f"descendant::{test}{_LIVE}{then}")


# A <template>'s content is not part of the document (CSS selectors do not see it either).
_LIVE = "[not(ancestor::template)]"
# rel is case-insensitive in HTML; folding the letters of "prev" is enough to find that token.
_REL_PREV = "contains(concat(' ', normalize-space(translate(@rel, 'PREV', 'prev')), ' '), ' prev ')"

# "//" also reaches what libxml2 keeps after a premature </html>.
_MESSAGES = _query(f"//div[{_has_class('tgme_widget_message')}]{_LIVE}")
_IS_CHANNEL = _query(f"boolean(//section[{_has_class('tgme_channel_history')}]{_LIVE})")
_MORE_BEFORE = _query(
    f"(//a[{_has_class('tme_messages_more')}][@data-before]{_LIVE})[1]/@data-before"
)
_PREV_HREF = _query(f"(//link[{_REL_PREV}][@href]{_LIVE})[1]/@href")

_META = _inside(f"*[{_has_class('tgme_widget_message_meta')}]")
_DATE_HREF = _inside(f"a[{_has_class('tgme_widget_message_date')}][@href]", "[1]/@href")
# The date link may sit anywhere above the <time>, as with the CSS `.date time` it stands for.
_DATETIME = _inside(
    f"time[@datetime][ancestor::*[{_has_class('tgme_widget_message_date')}]]", "[1]/@datetime"
)
_OWN_TEXT = _inside(
    f"*[{_has_class('js-message_text')}][not(ancestor::*[{_has_class(*QUOTED_BLOCKS)}])]"
)
_FORWARDED_FROM = _inside(f"*[{_has_class('tgme_widget_message_forwarded_from_name')}]")
_AUTHOR = _inside(f"*[{_has_class('tgme_widget_message_from_author')}]")
# Every class name under a message in one query: one query per media kind took longer than
# the rest of the message together.
_CLASS_LISTS = _inside("*", "/@class")


@dataclass
class Post:
    """One channel message as the web preview shows it."""

    id: int
    url: str
    date: datetime | None
    text: str
    media: list[str] = field(default_factory=list)
    edited: bool = False
    forwarded_from: str | None = None
    author: str | None = None
    service: bool = False


@dataclass
class ChannelPage:
    """One t.me/s page: its posts (oldest first) and the `before` id of the next older page."""

    posts: list[Post]
    older_before: int | None
    is_channel: bool


def parse_page(html: str) -> ChannelPage:
    """Read a t.me/s page (or a fragment of one); messages without a readable id are skipped."""
    # "surrogatepass": lone surrogates never come from a decoded response, but must not crash;
    # libxml2 reads the bytes they become as invalid UTF-8, shown as U+FFFD.
    root = etree.fromstring(html.encode("utf-8", "surrogatepass"), _PARSER)
    if root is None:  # nothing but whitespace or comments
        return ChannelPage(posts=[], older_before=None, is_channel=False)
    posts: list[Post] = []
    seen: set[int] = set()
    for message in _MESSAGES(root):
        post = _parse_message(message)
        if post is not None and post.id not in seen:
            seen.add(post.id)
            posts.append(post)
    return ChannelPage(posts=posts, older_before=_older_before(root), is_channel=_IS_CHANNEL(root))


def _parse_message(message: etree._Element) -> Post | None:
    """One `div.tgme_widget_message`, or None when no id can be found for it."""
    post_id = _message_id(message)
    if post_id is None:
        return None
    text_node = _first(_OWN_TEXT(message))
    meta = _first(_META(message))
    return Post(
        id=post_id,
        url=_permalink(message, post_id),
        date=_message_date(message),
        text=_render_text(text_node) if text_node is not None else "",
        media=_media(message),
        edited=meta is not None and "edited" in _own_strings(meta).lower(),
        forwarded_from=_text_of(_first(_FORWARDED_FROM(message))),
        author=_text_of(_first(_AUTHOR(message))),
        service="service_message" in _classes(message),
    )


def _media(message: etree._Element) -> list[str]:
    classes = {name for value in _CLASS_LISTS(message) for name in value.split()}
    return [kind for kind, markers in MEDIA_CLASSES if classes.intersection(markers)]


def _first(found: list) -> etree._Element | str | None:
    return found[0] if found else None


def _classes(node: etree._Element) -> list[str]:
    return node.get("class", "").split()


def _message_id(message: etree._Element) -> int | None:
    # data-post is "<channel>/<id>", but it can be missing or end in "/" (seen on real pages);
    # the permalink and data-view's "p" then still carry the id.
    return (
        _last_segment_id(message.get("data-post", ""))
        or _last_segment_id(urlsplit(_date_href(message)).path)
        or _data_view_id(message.get("data-view", ""))
    )


def _last_segment_id(path: str) -> int | None:
    last = path.rpartition("/")[2]
    return int(last) if last.isdigit() else None


def _data_view_id(data_view: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(data_view + "=" * (-len(data_view) % 4))
        view = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    # Album messages carry "p" as a string with a suffix ("70992g").
    match = re.match(r"\d+", str(view.get("p", ""))) if isinstance(view, dict) else None
    return int(match.group()) if match else None


def _date_href(message: etree._Element) -> str:
    return _first(_DATE_HREF(message)) or ""


def _permalink(message: etree._Element, post_id: int) -> str:
    href = _date_href(message)
    if _last_segment_id(urlsplit(href).path) == post_id:
        return href
    channel = message.get("data-post", "").rpartition("/")[0]
    return f"https://t.me/{channel}/{post_id}"


def _message_date(message: etree._Element) -> datetime | None:
    # The visible time is in the viewer's zone; only the datetime attribute is reliable.
    value = _first(_DATETIME(message))
    try:
        date = datetime.fromisoformat(value) if value is not None else None
    except ValueError:
        return None
    if date is not None and date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    return date


def _own_strings(node: etree._Element) -> str:
    # Text between the children. A comment's words count too, as they did before lxml: the same
    # page gives the same "edited" flag.
    parts = [node.text or ""]
    for child in node:
        if not isinstance(child.tag, str):
            parts.append(child.text or "")
        parts.append(child.tail or "")
    return "".join(parts)


def _text_of(node: etree._Element | None) -> str | None:
    if node is None:
        return None
    return " ".join(_text(node).split()) or None


def _text(node: etree._Element) -> str:
    """The text inside `node`, without comments and without the words of NOT_TEXT elements.

    Those words only count for the element that holds them: a <script>'s code is the text of
    that <script>, not of anything around it, and nothing inside a <template> has any text.
    """
    wanted = node.tag if node.tag in NOT_TEXT else None
    outer = next(node.iterancestors(*NOT_TEXT), None)
    return "".join(_strings(node, outer.tag if outer is not None else None, wanted))


def _strings(node: etree._Element, inside: str | None, wanted: str | None) -> Iterator[str]:
    inside = node.tag if node.tag in NOT_TEXT else inside
    keep = inside == wanted
    if keep and node.text:
        yield node.text
    for child in node:
        if isinstance(child.tag, str):
            yield from _strings(child, inside, wanted)
        if keep and child.tail:
            yield child.tail


def _older_before(root: etree._Element) -> int | None:
    more = _MORE_BEFORE(root)
    if more:
        value = more[0]
    else:
        prev = _PREV_HREF(root)
        values = parse_qs(urlsplit(prev[0]).query).get("before") if prev else None
        value = values[0] if values else ""
    return int(value) if value.isdigit() else None


def _render_text(node: etree._Element) -> str:
    """The visible text of a message text block: `<br>` as newlines, links with their URL."""
    lines = "".join(_pieces(node)).split("\n")
    return "\n".join(" ".join(line.split()) for line in lines).strip("\n")


def _pieces(node: etree._Element) -> Iterator[str]:
    # Telegram writes line breaks as <br/>; raw newlines only come from re-indented HTML.
    if node.text:
        yield node.text.replace("\n", " ")
    for child in node:
        if child.tag == "br":
            yield "\n"
        elif child.tag == "a":
            yield _link_text(child)
        elif isinstance(child.tag, str) and not _is_spacer(child):
            yield from _pieces(child)
        # A comment is not shown, but the text after it (its "tail") is.
        if child.tail:
            yield child.tail.replace("\n", " ")


def _link_text(link: etree._Element) -> str:
    label = "".join(_pieces(link))
    shown = label.strip()
    href = link.get("href", "")
    if not shown.strip(INVISIBLE):
        return ""  # a hidden link that only drives the link preview
    if _is_internal_link(link, href, shown) or _same_url(shown, href):
        return label
    # Line breaks can sit inside the link; they stay around the "text (url)" pair.
    lead = label[: len(label) - len(label.lstrip())]
    trail = label[len(label.rstrip()) :]
    return f"{lead}{shown} ({href}){trail}"


def _is_internal_link(link: etree._Element, href: str, shown: str) -> bool:
    # Hashtags, cashtags, mentions and the channel name in service messages read as plain text.
    return (
        not href
        or href.startswith("?q=")
        or shown.startswith(("@", "#", "$"))
        or "tgme_widget_message_author_name" in _classes(link)
    )


def _same_url(shown: str, href: str) -> bool:
    def bare(url: str) -> str:
        return re.sub(r"^[a-z]+://", "", url.strip().lower()).rstrip("/")

    return bare(shown) == bare(href)


def _is_spacer(node: etree._Element) -> bool:
    # An empty inline-block span keeps room for the footer when it sits beside the text.
    return (
        node.tag == "span" and "inline-block" in node.get("style", "") and not _text(node).strip()
    )


def to_item(post: Post, channel: str) -> Item:
    """The tracked form of a post: its text plus one line per media kind and the forward source."""
    lines = [f"Forwarded from {post.forwarded_from}"] if post.forwarded_from else []
    lines += [post.text] if post.text else []
    lines += [f"[{kind}]" for kind in post.media]
    return Item(
        key=f"post:{post.id}",
        kind="post",
        title=_title(post, channel),
        url=post.url,
        text="\n".join(lines),
        meta={
            "id": post.id,
            "date": post.date.isoformat() if post.date else None,
            "edited": post.edited,
            "media": list(post.media),
            "forwarded_from": post.forwarded_from,
            "author": post.author,
        },
    )


def _title(post: Post, channel: str) -> str:
    first_line = next((line for line in post.text.split("\n") if line), "")
    if len(first_line) > TITLE_LENGTH:
        return first_line[: TITLE_LENGTH - 1].rstrip() + "…"
    if first_line:
        return first_line
    if post.media:
        return f"[{post.media[0]}]"
    return f"{channel} post {post.id}"


@register
class TelegramChannelSource(Source):
    """Posts of one public channel, newest pages first, back to what the last run already saw."""

    kind = "telegram_channel"
    required = ("channel",)
    defaults = {"base_url": "https://t.me", "max_posts": 100, "max_pages": 20, "page_delay": 1.0}

    @property
    def channel(self) -> str:
        return str(self.options["channel"])

    @property
    def link(self) -> str:
        return f"{str(self.options['base_url']).rstrip('/')}/s/{self.channel}"

    async def fetch(self, ctx: FetchContext) -> Fetched:
        known = _newest_stored_id(ctx.previous)
        posts = await self._read_pages(ctx, known)
        if not posts and known is not None:
            # a channel with posts does not lose them all in a week: a broken page, not news
            raise FetchError(f"t.me/s/{self.channel}: the preview shows no posts at all "
                             f"({len(ctx.previous)} stored); keeping the last good copy")
        if known is None:
            posts = posts[-int(self.options["max_posts"]) :]
        return Fetched([to_item(post, self.channel) for post in posts], covers=_window(posts))

    async def _read_pages(self, ctx: FetchContext, known: int | None) -> list[Post]:
        """Walk back from the newest page; return the distinct posts found, oldest first."""
        found: dict[int, Post] = {}
        before: int | None = None
        for _ in range(int(self.options["max_pages"])):
            if before is not None:
                await asyncio.sleep(float(self.options["page_delay"]))
            page = await self._read_page(ctx, before)
            for post in page.posts:
                found.setdefault(post.id, post)
            if self._is_last_page(page, before, len(found), known):
                break
            before = page.older_before
        return [found[post_id] for post_id in sorted(found)]

    async def _read_page(self, ctx: FetchContext, before: int | None) -> ChannelPage:
        params = {"before": str(before)} if before is not None else None
        _, html = await get_text(ctx, self.link, expect=HTML_TYPES, params=params)
        page = await parse(ctx, parse_page, html)
        if not page.is_channel:
            # t.me answers 200 with a generic contact page rather than a 404.
            raise SourceGone(
                f"t.me/s/{self.channel}: no such public channel, or its web preview is disabled"
            )
        return page

    def _is_last_page(
        self, page: ChannelPage, before: int | None, collected: int, known: int | None
    ) -> bool:
        if not page.posts or page.older_before is None:
            return True
        if before is not None and page.older_before >= before:
            return True  # a link that does not lead further back would only repeat pages
        if known is not None:
            return min(post.id for post in page.posts) <= known
        return collected >= int(self.options["max_posts"])


def _stored_post_id(key: str) -> int | None:
    prefix, _, rest = key.partition(":")
    return int(rest) if prefix == "post" and rest.isdigit() else None


def _newest_stored_id(previous: Mapping[str, Item]) -> int | None:
    ids = [post_id for key in previous if (post_id := _stored_post_id(key)) is not None]
    return max(ids, default=None)


def _window(posts: list[Post]) -> Callable[[Item], bool]:
    """Speak only for stored posts between the oldest and newest post fetched this run."""
    low = posts[0].id if posts else 0
    high = posts[-1].id if posts else -1

    def covers(item: Item) -> bool:
        post_id = _stored_post_id(item.key)
        return post_id is not None and low <= post_id <= high

    return covers
