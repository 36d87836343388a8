"""The t.me/s channel source: the parser against real saved pages, the page walk, the demo weeks."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import lxml.html
import pytest
import respx

from watcher.models import Item
from watcher.replay import ReplayServer
from watcher.sources import source_kind, telegram_channel
from watcher.sources.base import FetchContext, FetchError, SourceGone
from watcher.sources.telegram_channel import (
    ChannelPage,
    Post,
    TelegramChannelSource,
    parse_page,
    to_item,
)

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "tests" / "fixtures" / "telegram"
DEMO_DATA = ROOT / "watcher" / "demo_data"

# Posts per real sample, counted by hand (messages with a readable id, duplicates once).
REAL_PAGES = {
    "Apkawa__rust-any2feed__full.html": 12,
    "Apkawa__rust-any2feed__message_link_preview.html": 1,
    "Apkawa__rust-any2feed__message_media_forwarded_from.html": 1,
    "Apkawa__rust-any2feed__message_poll.html": 1,
    "Apkawa__rust-any2feed__message_sticker.html": 1,
    "Apkawa__rust-any2feed__message_text.html": 1,
    "Apkawa__rust-any2feed__message_voice.html": 1,
    "Apkawa__rust-any2feed__message_with_from_author.html": 1,
    "greg-frost__statosphere-parser__msgs_antichristone.html": 20,
    "greg-frost__statosphere-parser__msgs_codecamp.html": 20,
    "greg-frost__statosphere-parser__msgs_d_code.html": 20,
    "greg-frost__statosphere-parser__msgs_excelhackru.html": 18,
    "greg-frost__statosphere-parser__msgs_habr_com.html": 20,
    "greg-frost__statosphere-parser__msgs_not_existed_channel.html": 0,
    "greg-frost__statosphere-parser__msgs_vtosters.html": 16,
}


def real_page(real_fixtures: Path, name: str) -> ChannelPage:
    return parse_page((real_fixtures / "telegram" / name).read_text(encoding="utf-8"))


def by_id(page: ChannelPage) -> dict[int, Post]:
    return {post.id: post for post in page.posts}


# --- the parser, on every real sample ---------------------------------------------------------


def test_every_real_sample_is_listed(real_fixtures: Path) -> None:
    assert sorted(p.name for p in (real_fixtures / "telegram").glob("*.html")) == sorted(REAL_PAGES)


@pytest.mark.parametrize("name", sorted(REAL_PAGES))
def test_real_sample_parses(real_fixtures: Path, name: str) -> None:
    html = (real_fixtures / "telegram" / name).read_text(encoding="utf-8")
    page = parse_page(html)

    assert len(page.posts) == REAL_PAGES[name]
    ids = [post.id for post in page.posts]
    assert ids == sorted(set(ids))
    assert page.is_channel == ("__message_" not in name and "not_existed" not in name)
    for post in page.posts:
        assert post.date is None or post.date.utcoffset() is not None
        assert post.url.endswith(f"/{post.id}")
        assert post.text or post.media, f"post {post.id} has neither text nor media"
    assert_no_counters_in_text(html, page)


def assert_no_counters_in_text(html: str, page: ChannelPage) -> None:
    """Views, voters and data-view change on every fetch; none of them may reach the text."""
    document = lxml.html.fromstring(html)
    for message, post in zip(document.cssselect("div.tgme_widget_message"), page.posts,
                             strict=True):
        counters = message.cssselect(".tgme_widget_message_views, .tgme_widget_message_voters")
        for counter in counters:
            value = counter.text_content().strip()
            assert not value or value not in post.text.split(), (post.id, value)
        assert "data-view" not in post.text and "generated in" not in post.text


def test_statosphere_pages_link_to_older_page(real_fixtures: Path) -> None:
    expected = {
        "antichristone": 483,
        "codecamp": 2357,
        "d_code": 16399,
        "excelhackru": 1321,
        "habr_com": 56622,
        "vtosters": 1434,
    }
    for channel, before in expected.items():
        page = real_page(real_fixtures, f"greg-frost__statosphere-parser__msgs_{channel}.html")
        assert page.older_before == before == page.posts[0].id


def test_unknown_channel_page_is_not_a_channel(real_fixtures: Path) -> None:
    page = real_page(real_fixtures, "greg-frost__statosphere-parser__msgs_not_existed_channel.html")
    assert page == ChannelPage(posts=[], older_before=None, is_channel=False)


def test_d_code_edits_links_mentions_and_emoji(real_fixtures: Path) -> None:
    posts = by_id(real_page(real_fixtures, "greg-frost__statosphere-parser__msgs_d_code.html"))
    assert list(posts)[0] == 16399 and list(posts)[-1] == 16418
    first = posts[16399]
    assert first.edited and not posts[16401].edited
    assert first.url == "https://t.me/d_code/16399"
    assert first.date is not None and first.date.isoformat() == "2023-05-03T15:46:04+00:00"
    assert first.text.startswith("💪 Эстетика Дурова //\n\nИнтернет не удержался")
    assert "собрали самые забавные реакции (https://kod.ru/pavel-durov-memes-dune-persia)." in (
        first.text
    )
    assert first.text.endswith("\n\n@d_code")  # a mention keeps its text only
    assert "Собрали самые забавные реакции и мемы" not in first.text  # link preview description
    assert first.media == ["link preview"]
    # A bare URL stays a bare URL.
    assert "// В Google появилась авторизация учётной записи без пароля:\nhttps://kod.ru/6914" in (
        posts[16401].text
    )
    assert "36.1K" not in first.text


def test_vtosters_forwards(real_fixtures: Path) -> None:
    posts = by_id(real_page(real_fixtures, "greg-frost__statosphere-parser__msgs_vtosters.html"))
    forwarded = {post.id: post.forwarded_from for post in posts.values() if post.forwarded_from}
    assert forwarded[1451] == "VTMessenger"
    assert posts[1451].text.startswith("VTMessenger v1.0.5\n\nChangelog:\n[+] Кнопка прочитать")
    assert posts[1451].text.endswith(
        "Как починить работу на маках:\nhttps://telegra.ph/Kak-pochinit-rabotu-VTM-na-makah-02-23"
    )
    assert posts[1434].text.splitlines()[:4] == [
        "VTLite",
        "0.4.22",
        "",
        "Скачать обновление (https://github.com/vtosters/lite/releases/latest/download/VTLite.apk)",
    ]
    # A forwarded file without a caption is still a post with something to track.
    assert (posts[1452].forwarded_from, posts[1452].media, posts[1452].text) == (
        "VTMessenger",
        ["document"],
        "",
    )
    assert "ПОДПИСАТЬСЯ" not in posts[1443].text  # inline buttons are not the post text


def test_codecamp_uses_the_other_username(real_fixtures: Path) -> None:
    page = real_page(real_fixtures, "greg-frost__statosphere-parser__msgs_codecamp.html")
    first = page.posts[0]
    assert (first.id, first.url) == (2357, "https://t.me/campcode/2357")
    assert first.media == ["photo"]
    assert first.text.endswith(
        "Ссылка на GitHub (https://github.com/lyrebird-voice-changer/lyrebird)."
    )
    # A forward from a hidden source has its name in a span, not a link.
    assert by_id(page)[2370].forwarded_from == "Киллер-фича"


def test_antichristone_service_messages_polls_and_odd_ids(real_fixtures: Path) -> None:
    page = real_page(real_fixtures, "greg-frost__statosphere-parser__msgs_antichristone.html")
    posts = by_id(page)
    assert [post.id for post in page.posts if post.service] == [483, 485, 493, 504]
    assert posts[483].text == "Live stream finished (44 minutes)"
    assert posts[493].text.startswith("Antichrist Blog | 反キリスト∸ブログ pinned «Wassup,")
    assert posts[504].text == "Antichrist Blog | 反キリスト∸ブログ pinned a file"
    assert posts[500].media == ["poll"] and posts[500].text == ""
    assert posts[503].media == ["document"] and posts[503].edited
    assert posts[506].media == ["round video"]
    # <br/> inside a link stays a line break after the "text (url)" pair.
    assert "TELEGRAM (https://t.me/antichristone)\n\nДонаты будут отображаться" in posts[486].text
    # The newest message has no data-post at all; its id comes from the permalink.
    assert page.posts[-1].id == 521 and page.posts[-1].url == "https://t.me/antichristone/521"


def test_excelhackru_polls_and_gaps(real_fixtures: Path) -> None:
    page = real_page(real_fixtures, "greg-frost__statosphere-parser__msgs_excelhackru.html")
    assert (page.posts[0].id, page.posts[-1].id) == (1321, 1363)
    assert [post.id for post in page.posts if "poll" in post.media] == [1354, 1355]
    assert by_id(page)[1329].media == ["video"]


def test_habr_hidden_preview_link_and_empty_date(real_fixtures: Path) -> None:
    posts = by_id(real_page(real_fixtures, "greg-frost__statosphere-parser__msgs_habr_com.html"))
    newest = posts[56641]
    assert newest.date is None  # the page really has <time datetime="">
    # The zero-width link that only drives the preview image is not text.
    assert newest.text.startswith("Людские пробки в метро у эскалаторов. Как с ними бороться?\n\n")
    assert "telegra.ph" not in newest.text
    assert newest.media == ["link preview"]


def test_full_page_albums_and_forwards(real_fixtures: Path) -> None:
    page = real_page(real_fixtures, "Apkawa__rust-any2feed__full.html")
    posts = by_id(page)
    assert (page.posts[0].id, page.posts[-1].id, page.older_before) == (70989, 71008, 70989)
    album = posts[70992]  # one message for photos 70992, 70993 and video 70994
    assert album.media == ["photo", "video"]
    assert album.text.startswith("Сегодня ночью в Республике Адыгея упал неизвестный")
    assert posts[70996].forwarded_from == "Военкор Ярем"
    assert "(https://t.me/infantmilitario/93419)" in posts[70996].text


def test_fragments(real_fixtures: Path) -> None:
    def single(name: str) -> Post:
        (post,) = real_page(real_fixtures, f"Apkawa__rust-any2feed__message_{name}.html").posts
        return post

    signed = single("with_from_author")
    assert (signed.id, signed.author, signed.text) == (4, "🅰️rkadiy Ivanov", "test")
    assert single("sticker").media == ["sticker"]
    assert single("voice").media == ["voice"]
    assert single("voice").forwarded_from == "Спортивный Екб"
    assert single("poll").media == ["poll"]
    assert single("media_forwarded_from").media == ["photo"]
    assert single("link_preview").text == "https://vnnews.ru/georgiy-zotov-okkupaciya-volosatym-kr/"
    text = single("text")
    assert text.text.startswith(
        "Неопознанный летающий объект замечен в 160 – 200 км от Петербурга\n\n"
    )


# --- the parser, on odd markup ----------------------------------------------------------------


def message_html(attrs: str, inner: str = "", href: str = "https://t.me/x/1") -> str:
    return (
        f'<div class="tgme_widget_message_wrap"><div class="tgme_widget_message" {attrs}>'
        f'<div class="tgme_widget_message_bubble">{inner}'
        '<div class="tgme_widget_message_info"><span class="tgme_widget_message_meta">'
        f'<a class="tgme_widget_message_date" href="{href}">'
        '<time datetime="2025-01-02T03:04:05+00:00">03:04</time></a></span></div>'
        "</div></div></div>"
    )


def data_view(post: object) -> str:
    raw = json.dumps({"c": -1, "p": post, "t": 1700000000, "h": "ab"}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_id_falls_back_to_data_view_when_data_post_is_empty() -> None:
    html = message_html(
        f'data-post="prg_memes/" data-view="{data_view(8614)}"', href="https://t.me/prg_memes/"
    )
    (post,) = parse_page(html).posts
    assert (post.id, post.url) == (8614, "https://t.me/prg_memes/8614")


def test_album_data_view_id_has_a_suffix() -> None:
    html = message_html(f'data-view="{data_view("70992g")}"', href="")
    assert [post.id for post in parse_page(html).posts] == [70992]


def test_messages_without_id_are_skipped_and_duplicates_kept_once() -> None:
    first = message_html('data-post="x/7"', '<div class="js-message_text">first</div>')
    again = message_html('data-post="x/7"', '<div class="js-message_text">again</div>')
    nameless = message_html('data-view="not base64!"', href="https://t.me/x/")
    page = parse_page(first + nameless + again + "<div class='tgme_widget_message'></div>")
    assert [(post.id, post.text) for post in page.posts] == [(7, "first")]


@pytest.mark.parametrize("html", ["", "<html>", "not html at all", "<div data-post='x/1'>"])
def test_garbage_does_not_crash(html: str) -> None:
    assert parse_page(html) == ChannelPage(posts=[], older_before=None, is_channel=False)


def test_text_rendering() -> None:
    text = (
        '<div class="tgme_widget_message_text js-message_text before_footer" dir="auto">'
        '<i class="emoji" style="x"><b>🚀</b></i> <b>Launch</b>   day<br/><br/>'
        'Read <a href="https://cocoon.org/docs" onclick="x">the docs</a>, '
        '<a href="http://cocoon.org/">cocoon.org</a>, <a href="?q=%23gpu">#gpu</a> '
        '<a href="https://t.me/cocoon">@cocoon</a>&nbsp;&#33;'
        '<span style="display: inline-block; width: 104px;"></span></div>'
    )
    (post,) = parse_page(message_html('data-post="cocoon/3"', text)).posts
    assert post.text == (
        "🚀 Launch day\n\nRead the docs (https://cocoon.org/docs), cocoon.org, #gpu @cocoon !"
    )


def test_reply_quote_is_not_the_post_text() -> None:
    # Reply markup as other parsers describe it (no real sample has one).
    reply = (
        '<a class="tgme_widget_message_reply" href="https://t.me/cocoon/2">'
        '<div class="tgme_widget_message_author_name">Cocoon</div>'
        '<div class="tgme_widget_message_text js-message_reply_text">quoted words</div></a>'
        '<div class="tgme_widget_message_text js-message_text">own words</div>'
    )
    (post,) = parse_page(message_html('data-post="cocoon/3"', reply)).posts
    assert post.text == "own words"


def test_older_before_from_link_rel_prev_when_no_anchor() -> None:
    html = (
        '<html><head><link rel="prev" href="/s/cocoon?before=42"></head><body>'
        '<section class="tgme_channel_history">'
        '<a class="tme_messages_more" data-after="50"></a></section></body></html>'
    )
    page = parse_page(html)
    assert (page.older_before, page.is_channel) == (42, True)


# --- to_item ----------------------------------------------------------------------------------


def post(**fields: object) -> Post:
    base: dict[str, object] = {"id": 5, "url": "https://t.me/cocoon/5", "date": None, "text": ""}
    return Post(**{**base, **fields})  # type: ignore[arg-type]


def test_item_of_a_text_post() -> None:
    item = to_item(post(text="Worker 0.9.0\n\nsupports H200", media=["document"]), "cocoon")
    assert (item.key, item.kind, item.title, item.url) == (
        "post:5",
        "post",
        "Worker 0.9.0",
        "https://t.me/cocoon/5",
    )
    assert item.text == "Worker 0.9.0\n\nsupports H200\n[document]"
    assert item.meta == {
        "id": 5,
        "date": None,
        "edited": False,
        "media": ["document"],
        "forwarded_from": None,
        "author": None,
    }


def test_item_of_a_media_only_forward() -> None:
    item = to_item(post(media=["photo", "video"], forwarded_from="COCOON Dev"), "cocoon")
    assert item.title == "[photo]"
    assert item.text == "Forwarded from COCOON Dev\n[photo]\n[video]"


def test_item_title_is_cut() -> None:
    item = to_item(post(text="x" * 200 + "\nsecond line"), "cocoon")
    assert len(item.title) == 80 and item.title.endswith("…")


def test_swapping_text_for_a_photo_is_a_change() -> None:
    assert to_item(post(text="photo soon"), "c").text != to_item(post(media=["photo"]), "c").text


# --- fetch: pagination and the covered window --------------------------------------------------


def source(**options: object) -> TelegramChannelSource:
    merged = {**TelegramChannelSource.defaults, "channel": "cocoon", "page_delay": 0, **options}
    return TelegramChannelSource("cocoon", merged)


def serve(mock: respx.MockRouter, pages: dict[str | None, str]) -> respx.Route:
    """Answer GET t.me/s/cocoon from fixture files keyed by the `before` query value."""

    def answer(request: httpx.Request) -> httpx.Response:
        name = pages.get(request.url.params.get("before"))
        if name is None:
            return httpx.Response(404)
        body = (PAGES / name).read_bytes()
        return httpx.Response(
            200, content=body, headers={"Content-Type": "text/html; charset=utf-8"}
        )

    return mock.route(method="GET", host="t.me", path="/s/cocoon").mock(side_effect=answer)


ALL_PAGES = {
    None: "cocoon.html",
    "21": "cocoon_before_21.html",
    "16": "cocoon_before_16.html",
    "11": "cocoon_before_11.html",
    "6": "cocoon_before_6.html",
}


def requested(route: respx.Route) -> list[str]:
    return [str(call.request.url) for call in route.calls]


def stored(items: list[Item]) -> dict[str, Item]:
    return {item.key: item for item in items}


def test_registered_with_its_link() -> None:
    assert source_kind("telegram_channel") is TelegramChannelSource
    assert source().link == "https://t.me/s/cocoon"
    assert source(base_url="http://127.0.0.1:1/tme/").link == "http://127.0.0.1:1/tme/s/cocoon"


async def test_first_run_collects_max_posts_and_stops() -> None:
    async with respx.mock as mock, httpx.AsyncClient() as http:
        route = serve(mock, ALL_PAGES)
        fetched = await source(max_posts=12).fetch(FetchContext(http=http))

    assert requested(route) == [
        "https://t.me/s/cocoon",
        "https://t.me/s/cocoon?before=21",
        "https://t.me/s/cocoon?before=16",
    ]
    assert [item.key for item in fetched.items] == [f"post:{n}" for n in range(14, 26)]
    item = fetched.items[-1]
    assert item.text == (
        "Update 25: proxy notes.\nDetails: update 25 (https://cocoon.org/updates/25) #proxy"
    )
    assert item.meta["date"] == "2025-10-25T12:00:00+00:00"


async def test_first_run_walks_to_the_oldest_page() -> None:
    async with respx.mock as mock, httpx.AsyncClient() as http:
        route = serve(mock, ALL_PAGES)
        fetched = await source().fetch(FetchContext(http=http))

    assert len(route.calls) == 5
    assert [item.key for item in fetched.items] == [f"post:{n}" for n in range(1, 26)]


async def test_max_pages_bounds_a_run() -> None:
    async with respx.mock as mock, httpx.AsyncClient() as http:
        route = serve(mock, ALL_PAGES)
        fetched = await source(max_pages=2).fetch(FetchContext(http=http))

    assert len(route.calls) == 2
    assert [item.key for item in fetched.items] == [f"post:{n}" for n in range(16, 26)]


async def test_max_pages_bounds_a_later_run_too() -> None:
    previous = stored([to_item(post(id=3, url="https://t.me/cocoon/3", text="old"), "cocoon")])
    async with respx.mock as mock, httpx.AsyncClient() as http:
        route = serve(mock, ALL_PAGES)
        await source(max_pages=3).fetch(FetchContext(http=http, previous=previous))

    assert len(route.calls) == 3


async def test_a_load_more_link_that_does_not_go_back_ends_the_walk() -> None:
    async with respx.mock as mock, httpx.AsyncClient() as http:
        route = serve(mock, {None: "cocoon.html", "21": "cocoon.html"})
        fetched = await source().fetch(FetchContext(http=http))

    assert requested(route) == ["https://t.me/s/cocoon", "https://t.me/s/cocoon?before=21"]
    assert [item.key for item in fetched.items] == [f"post:{n}" for n in range(21, 26)]


async def test_later_run_stops_at_the_newest_stored_post() -> None:
    async with respx.mock as mock, httpx.AsyncClient() as http:
        serve(mock, ALL_PAGES)
        first = await source(max_posts=8).fetch(FetchContext(http=http))  # posts 18..25
    previous = stored(first.items)
    del previous["post:25"], previous["post:24"], previous["post:23"]  # as if posted since

    async with respx.mock as mock, httpx.AsyncClient() as http:
        route = serve(mock, ALL_PAGES)
        fetched = await source().fetch(FetchContext(http=http, previous=previous))

    # The newest page already reaches back past post 22, the newest stored one: no second page.
    assert requested(route) == ["https://t.me/s/cocoon"]
    assert [item.key for item in fetched.items] == [f"post:{n}" for n in range(21, 26)]


async def test_later_run_walks_back_until_it_overlaps() -> None:
    previous = stored([to_item(post(id=18, url="https://t.me/cocoon/18", text="x"), "cocoon")])
    async with respx.mock as mock, httpx.AsyncClient() as http:
        route = serve(mock, ALL_PAGES)
        fetched = await source(max_posts=3).fetch(FetchContext(http=http, previous=previous))

    # max_posts only trims a first run; a later run reads until it meets what it knows.
    assert requested(route) == ["https://t.me/s/cocoon", "https://t.me/s/cocoon?before=21"]
    assert [item.key for item in fetched.items] == [f"post:{n}" for n in range(16, 26)]


async def test_edit_deletion_and_window_a_week_later() -> None:
    async with respx.mock as mock, httpx.AsyncClient() as http:
        serve(mock, ALL_PAGES)
        first = await source(max_posts=10).fetch(FetchContext(http=http))  # posts 16..25

    async with respx.mock as mock, httpx.AsyncClient() as http:
        route = serve(mock, {None: "cocoon_next_week.html"})
        later = await source().fetch(FetchContext(http=http, previous=stored(first.items)))

    assert requested(route) == ["https://t.me/s/cocoon"]
    before, after = stored(first.items), stored(later.items)
    assert list(after) == ["post:22", "post:24", "post:25", "post:26", "post:27"]
    assert after["post:24"].text != before["post:24"].text
    assert after["post:24"].text.startswith("Update 24: attestation notes, corrected.")
    assert after["post:24"].meta["edited"] and not before["post:24"].meta["edited"]
    for key in ("post:22", "post:25"):
        assert after[key] == before[key]  # views and data-view moved; the items did not
    assert later.speaks_for(before["post:23"])  # deleted inside the window: reported
    assert later.speaks_for(before["post:22"]) and later.speaks_for(before["post:25"])
    assert not later.speaks_for(before["post:21"])  # older than what was read: carried
    assert not later.speaks_for(Item("commit:abc", "commit", "t", "u", "x"))


async def test_empty_channel_covers_nothing() -> None:
    html = '<section class="tgme_channel_history js-message_history"></section>'
    async with respx.mock as mock, httpx.AsyncClient() as http:
        mock.get("https://t.me/s/cocoon").mock(return_value=httpx.Response(200, html=html))
        fetched = await source().fetch(FetchContext(http=http))

    assert fetched.items == []
    assert not fetched.speaks_for(to_item(post(), "cocoon"))


async def test_unknown_channel_is_gone(real_fixtures: Path) -> None:
    name = "greg-frost__statosphere-parser__msgs_not_existed_channel.html"
    body = (real_fixtures / "telegram" / name).read_bytes()
    async with respx.mock as mock, httpx.AsyncClient() as http:
        mock.get("https://t.me/s/cocoon").mock(return_value=httpx.Response(200, content=body))
        with pytest.raises(SourceGone, match=r"t\.me/s/cocoon: no such public channel"):
            await source().fetch(FetchContext(http=http))


async def test_http_error_is_a_fetch_error_not_gone() -> None:
    async with respx.mock as mock, httpx.AsyncClient() as http:
        mock.get("https://t.me/s/cocoon").mock(return_value=httpx.Response(502))
        with pytest.raises(FetchError) as raised:
            await source().fetch(FetchContext(http=http))
    assert not isinstance(raised.value, SourceGone)


async def test_pages_are_spaced_by_page_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []

    async def no_wait(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(telegram_channel.asyncio, "sleep", no_wait)
    async with respx.mock as mock, httpx.AsyncClient() as http:
        serve(mock, ALL_PAGES)
        await source(max_pages=3, page_delay=1.5).fetch(FetchContext(http=http))

    assert delays == [1.5, 1.5]


# --- the recorded demo weeks, over real local HTTP ----------------------------------------------


async def test_demo_weeks_replay() -> None:
    with ReplayServer(DEMO_DATA) as server:
        demo = source(base_url=f"{server.base_url}/tme")
        async with httpx.AsyncClient() as http:
            week1 = await demo.fetch(FetchContext(http=http))
            week1_paths = [path for _, path, _ in server.requests]
            server.use_week(2)
            previous = stored(week1.items)
            week2 = await demo.fetch(FetchContext(http=http, previous=previous))
            week2_paths = [path for _, path, _ in server.requests][len(week1_paths) :]

    assert week1_paths == ["/tme/s/cocoon", "/tme/s/cocoon?before=5"]
    assert [item.key for item in week1.items] == [f"post:{n}" for n in range(1, 13)]
    assert week1.items[0].text == "Channel created"

    assert week2_paths == ["/tme/s/cocoon"]
    new, old = stored(week2.items), previous
    assert list(new) == [f"post:{n}" for n in range(5, 14)]
    assert new["post:13"].title == "COCOON worker v1.0.0 — the first tagged release."
    release = "https://github.com/TelegramMessenger/cocoon/releases/tag/v1.0.0"
    assert new["post:13"].text.endswith(f"Release notes: GitHub ({release})\n[document]")
    assert "120 GPU servers online" in new["post:11"].text
    assert "40 GPU servers online" in old["post:11"].text
    assert new["post:11"].meta["edited"]
    for n in range(5, 13):
        if n != 11:
            assert new[f"post:{n}"].text == old[f"post:{n}"].text, n
    assert not week2.speaks_for(old["post:4"]) and week2.speaks_for(old["post:5"])


async def test_a_preview_that_suddenly_shows_no_posts_is_a_fetch_problem() -> None:
    html = '<section class="tgme_channel_history js-message_history"></section>'
    stored = to_item(post(), "cocoon")
    async with respx.mock as mock, httpx.AsyncClient() as http:
        mock.get("https://t.me/s/cocoon").mock(return_value=httpx.Response(200, html=html))
        with pytest.raises(FetchError, match="shows no posts at all .1 stored.; keeping the last"):
            await source().fetch(FetchContext(http=http, previous={stored.key: stored}))
