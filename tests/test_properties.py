"""Property-based tests: hostile or random input never crashes the parsers, the diff, the
classifier or the splitter, and what they promise holds for every input hypothesis finds."""

import html
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watcher import classify
from watcher.classify.rules import CATEGORIES
from watcher.diff import changes, compare
from watcher.digest import split_message, telegram_length
from watcher.models import Fetched, Item
from watcher.sources import page_text, telegram_channel

RULES = classify.load()
# derandomize: the same examples every run, so CI is deterministic; a new failure shows up
# when the strategies or the code change, not by luck.
FAST = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

# Text the way the sources meet it: emoji, RTL scripts, HTML-looking text, odd whitespace.
words = st.sampled_from([
    "GPU", "H100", "TDX", "kernel 6.16+", "price per token", "20 nanoTON", "no longer",
    "supported", "not", "🔥", "مرحبا", "שלום", "Xin chào", "<b>", "&amp;", "</div>", "\u200b",
    "\t", "  ", "#", "- ", "|", "https://cocoon.org/docs", "**Tested:**", "DAO", "Qwen3-8B",
])
# Control characters are left out: HTML parsers drop them, as browsers do.
printable = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12)
texts = st.lists(words | printable, max_size=40).map(" ".join)
# A normalised page has no blank lines and no surrounding spaces.
page_lines = st.lists(texts.map(str.strip).filter(bool), max_size=30)
markup = st.lists(st.sampled_from([
    "<div>", "</div>", "<p>", "</p>", "<ul><li>", "</li></ul>", "<table><tr><td>", "</td></tr>",
    "<h2>", "</h2>", "<br/>", "<a href='/x?v=1'>", "</a>", "<script>x()</script>", "<!-- c -->",
    "<nav>menu</nav>", "<", ">", "&", "&#x1F525;", "<pre>", "</pre>", "<b>",
]) | texts, max_size=60).map("".join)


def message(post_id: int, body: str) -> str:
    return (
        '<section class="tgme_channel_history js-message_history">'
        '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
        f'<div class="tgme_widget_message js-widget_message" data-post="cocoon/{post_id}">'
        '<div class="tgme_widget_message_bubble">'
        f'<div class="tgme_widget_message_text js-message_text" dir="auto">{body}</div>'
        '<div class="tgme_widget_message_footer"><span class="tgme_widget_message_views">9.9K'
        '</span><span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" '
        f'href="https://t.me/cocoon/{post_id}"><time datetime="2026-11-23T09:00:00+00:00">'
        "09:00</time></a></span></div></div></div></div></section>"
    )


@FAST
@given(st.integers(min_value=1, max_value=10**9), texts)
def test_channel_parser_keeps_any_post_text(post_id, text):
    page = telegram_channel.parse_page(message(post_id, html.escape(text)))
    [post] = page.posts
    assert post.id == post_id
    assert post.text == " ".join(text.split())
    assert "9.9K" not in post.text


@FAST
@given(markup)
def test_channel_parser_never_crashes_on_garbage(body):
    page = telegram_channel.parse_page(message(7, body) + body)
    assert all(isinstance(p.id, int) for p in page.posts)


@FAST
@given(markup)
def test_page_normaliser_gives_clean_lines(raw):
    text = page_text.page_text(f"<html><body><main>{raw}</main></body></html>")
    for line in text.split("\n") if text else []:
        assert line == line.strip() or line.startswith("  ")  # nested lists keep their indent
        assert line.strip()


def page(text: str) -> Item:
    return Item("u", "page", "T", "https://x/u", text)


@FAST
@given(page_lines, page_lines)
def test_page_diff_accounts_for_every_changed_line(old, new):
    old_text, new_text = "\n".join(old), "\n".join(new)
    found = changes("s", compare({"u": page(old_text)}, Fetched([page(new_text)])))
    if old_text == new_text:
        assert found == []
        return
    added = {line for c in found for line in (c.after or "").split("\n")}
    removed = {line for c in found for line in (c.before or "").split("\n")}
    assert set(new) - set(old) <= added
    assert set(old) - set(new) <= removed
    headings = {line.lstrip("#").strip() for line in old + new if line.startswith("#")}
    assert all(c.section is None or c.section in headings for c in found)


@FAST
@given(texts, texts, st.sampled_from(["", "Supported GPUs", "Prerequisites", "Fees"]))
def test_classifier_answers_within_its_contract(before, after, section):
    for verdict in (classify.judge_text(after, RULES, section=section),
                    classify.judge_change(before, after, RULES, section=section)):
        assert verdict.categories and set(verdict.categories) <= set(CATEGORIES)
        assert verdict.categories == ["other"] or "other" not in verdict.categories
        assert verdict.hardware_direction in (None, "relaxed", "tightened")
        if "hardware" not in verdict.categories:
            assert verdict.hardware_direction is None


@FAST
@given(st.lists(st.sampled_from(["<b>", "</b>", "<i>x</i>", '<a href="https://t.me/c/1">',
                                 "</a>", "&amp;", "&lt;", "🔥", "word ", "\n", "\n\n"])
                | texts.map(html.escape), max_size=400).map("".join),
       st.integers(min_value=60, max_value=4096))
def test_splitter_never_exceeds_the_limit_nor_cuts_a_tag_or_entity(text, limit):
    for part in split_message(text, limit):
        assert telegram_length(part) <= limit
        assert not re.search(r"&[#A-Za-z0-9]*$", part)
        assert not re.search(r"<[^>]*$", part)
