"""A public Telegram channel, read through its web preview at t.me/s/<channel>.

The preview shows about twenty posts per page, oldest first, with a "load more" link to the
page before. Markup facts (and which of them are verified against real pages) are written up in
shared/notes/tme-markup.md; the parser follows its "Parsing checklist".
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

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

# Media blocks by the class that marks them, in the order their labels are listed.
MEDIA_KINDS: tuple[tuple[str, str], ...] = (
    (".tgme_widget_message_photo_wrap", "photo"),
    (".tgme_widget_message_video_player", "video"),
    (".tgme_widget_message_roundvideo_player", "round video"),
    (".tgme_widget_message_voice_player", "voice"),
    (".tgme_widget_message_document_wrap", "document"),
    (".tgme_widget_message_poll", "poll"),
    (".tgme_widget_message_sticker_wrap, .tgme_widget_message_tgsticker_wrap", "sticker"),
    (".tgme_widget_message_link_preview", "link preview"),
)

# Blocks inside a bubble that reuse the text classes but quote someone else's words.
QUOTED_BLOCKS = ("tgme_widget_message_reply", "tgme_widget_message_link_preview")

# Characters that render as nothing: a link labelled only with them is a hidden preview link.
INVISIBLE = "\u200b\u2060\ufeff"


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
    soup = BeautifulSoup(html, "lxml")
    posts: list[Post] = []
    seen: set[int] = set()
    for message in soup.select("div.tgme_widget_message"):
        post = _parse_message(message)
        if post is not None and post.id not in seen:
            seen.add(post.id)
            posts.append(post)
    return ChannelPage(
        posts=posts,
        older_before=_older_before(soup),
        is_channel=soup.select_one("section.tgme_channel_history") is not None,
    )


def _parse_message(message: Tag) -> Post | None:
    """One `div.tgme_widget_message`, or None when no id can be found for it."""
    post_id = _message_id(message)
    if post_id is None:
        return None
    text_node = _own_text_node(message)
    meta = message.select_one(".tgme_widget_message_meta")
    return Post(
        id=post_id,
        url=_permalink(message, post_id),
        date=_message_date(message),
        text=_render_text(text_node) if text_node is not None else "",
        media=[kind for selector, kind in MEDIA_KINDS if message.select_one(selector)],
        edited=meta is not None and "edited" in _own_strings(meta).lower(),
        forwarded_from=_text_of(message.select_one(".tgme_widget_message_forwarded_from_name")),
        author=_text_of(message.select_one(".tgme_widget_message_from_author")),
        service="service_message" in message.get("class", []),
    )


def _message_id(message: Tag) -> int | None:
    # data-post is "<channel>/<id>", but it can be missing or end in "/" (seen on real pages);
    # the permalink and data-view's "p" then still carry the id.
    return (
        _last_segment_id(str(message.get("data-post", "")))
        or _last_segment_id(urlsplit(_date_href(message)).path)
        or _data_view_id(str(message.get("data-view", "")))
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


def _date_href(message: Tag) -> str:
    link = message.select_one("a.tgme_widget_message_date[href]")
    return str(link["href"]) if link else ""


def _permalink(message: Tag, post_id: int) -> str:
    href = _date_href(message)
    if _last_segment_id(urlsplit(href).path) == post_id:
        return href
    channel = str(message.get("data-post", "")).rpartition("/")[0]
    return f"https://t.me/{channel}/{post_id}"


def _message_date(message: Tag) -> datetime | None:
    # The visible time is in the viewer's zone; only the datetime attribute is reliable.
    node = message.select_one(".tgme_widget_message_date time[datetime]")
    try:
        date = datetime.fromisoformat(str(node["datetime"])) if node else None
    except ValueError:
        return None
    if date is not None and date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    return date


def _own_text_node(message: Tag) -> Tag | None:
    for node in message.select(".js-message_text"):
        if node.find_parent(class_=QUOTED_BLOCKS) is None:
            return node
    return None


def _own_strings(node: Tag) -> str:
    return "".join(node.find_all(string=True, recursive=False))


def _text_of(node: Tag | None) -> str | None:
    if node is None:
        return None
    return " ".join(node.get_text().split()) or None


def _older_before(soup: BeautifulSoup) -> int | None:
    more = soup.select_one("a.tme_messages_more[data-before]")
    if more is not None:
        value = str(more["data-before"])
    else:
        prev = soup.select_one("link[rel~=prev][href]")
        values = parse_qs(urlsplit(str(prev["href"])).query).get("before") if prev else None
        value = values[0] if values else ""
    return int(value) if value.isdigit() else None


def _render_text(node: Tag) -> str:
    """The visible text of a message text block: `<br>` as newlines, links with their URL."""
    lines = "".join(_pieces(node)).split("\n")
    return "\n".join(" ".join(line.split()) for line in lines).strip("\n")


def _pieces(node: Tag) -> Iterable[str]:
    for child in node.children:
        if isinstance(child, PreformattedString):
            continue  # comments and the like are not shown
        if isinstance(child, NavigableString):
            # Telegram writes line breaks as <br/>; raw newlines only come from re-indented HTML.
            yield child.replace("\n", " ")
        elif child.name == "br":
            yield "\n"
        elif child.name == "a":
            yield _link_text(child)
        elif not _is_spacer(child):
            yield from _pieces(child)


def _link_text(link: Tag) -> str:
    label = "".join(_pieces(link))
    shown = label.strip()
    href = str(link.get("href", ""))
    if not shown.strip(INVISIBLE):
        return ""  # a hidden link that only drives the link preview
    if _is_internal_link(link, href, shown) or _same_url(shown, href):
        return label
    # Line breaks can sit inside the link; they stay around the "text (url)" pair.
    lead = label[: len(label) - len(label.lstrip())]
    trail = label[len(label.rstrip()) :]
    return f"{lead}{shown} ({href}){trail}"


def _is_internal_link(link: Tag, href: str, shown: str) -> bool:
    # Hashtags, cashtags, mentions and the channel name in service messages read as plain text.
    return (
        not href
        or href.startswith("?q=")
        or shown.startswith(("@", "#", "$"))
        or "tgme_widget_message_author_name" in link.get("class", [])
    )


def _same_url(shown: str, href: str) -> bool:
    def bare(url: str) -> str:
        return re.sub(r"^[a-z]+://", "", url.strip().lower()).rstrip("/")

    return bare(shown) == bare(href)


def _is_spacer(node: Tag) -> bool:
    # An empty inline-block span keeps room for the footer when it sits beside the text.
    return (
        node.name == "span"
        and "inline-block" in str(node.get("style", ""))
        and not node.get_text(strip=True)
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
