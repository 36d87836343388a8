"""HTML -> normalised text: structure as lines, noise gone, never a crash."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from watcher.sources.page_text import normalize_url, page_text, parse_page

DEMO_SITE = Path(__file__).resolve().parents[1] / "watcher" / "demo_data"


def doc(main: str, *, head: str = "", around: str = "") -> str:
    return (
        f"<!doctype html><html><head><title>T</title>{head}</head><body>"
        f"<header><nav><a href='/home'>Home</a></nav></header>{around}"
        f"<main>{main}</main><footer>Last updated 5 minutes ago</footer></body></html>"
    )


def test_blocks_become_lines():
    text = page_text(
        doc(
            "<h1>Title</h1><h3>Sub <em>part</em></h3>"
            "<p>One   paragraph\n spread over\tlines.</p>"
            "<ul><li>first</li><li>second <b>bold</b></li></ul>"
            "<ol><li>numbered</li></ol>"
            "<table><thead><tr><th>GPU</th><th>Status</th></tr></thead>"
            "<tbody><tr><td>H200</td><td><p>tested</p><p>ok</p></td></tr></tbody></table>"
            "<blockquote>quoted</blockquote><dl><dt>term</dt><dd>definition</dd></dl>"
            "<p>a<br>b</p><div>plain div</div>"
        )
    )
    assert text.splitlines() == [
        "# Title",
        "### Sub part",
        "One paragraph spread over lines.",
        "- first",
        "- second bold",
        "- numbered",
        "| GPU | Status |",
        "| H200 | tested ok |",
        "quoted",
        "term",
        "definition",
        "a",
        "b",
        "plain div",
    ]


def test_nested_lists_indent_two_spaces_per_level():
    text = page_text(
        doc(
            "<ul><li>top<ul><li>child<ol><li>grandchild</li></ol></li>"
            "<li><p>child in p</p></li></ul>after</li><li>next</li></ul>"
        )
    )
    assert text.splitlines() == [
        "- top",
        "  - child",
        "    - grandchild",
        "  - child in p",
        "  after",
        "- next",
    ]


def test_links_are_absolute_and_images_show_alt():
    text = page_text(
        doc(
            '<p>See <a href="/docs/gpu">the GPU page</a>, <a href="#local">here</a>, '
            '<a href="https://t.me/cocoon">https://t.me/cocoon</a> and '
            '<a href="mailto:a@b.c">mail</a>.</p>'
            '<p><img src="x.png" alt="Diagram"> <img src="deco.png" alt=""></p>'
            '<p><a href="x"><img src="y.png" alt="logo"></a></p>'
        ),
        base_url="https://cocoon.org/docs/index",
    )
    assert text.splitlines() == [
        "See the GPU page (https://cocoon.org/docs/gpu), here, https://t.me/cocoon and "
        "mail (mailto:a@b.c).",
        "[image: Diagram]",
        "[image: logo] (https://cocoon.org/docs/x)",
    ]


def test_pre_blocks_keep_their_lines_indented_as_code():
    code = "# list GPUs\n./setup\n\n  --flag  x\n"
    text = page_text(doc(f"<p>Run:</p><pre><code>{code}</code></pre>"))
    assert text.splitlines() == ["Run:", "    # list GPUs", "    ./setup", "      --flag  x"]


def test_noise_is_dropped():
    text = page_text(
        doc(
            "<!-- build 7f3a9c1 --><p>kept</p><script>var t = 1;</script><style>p{}</style>"
            "<noscript>enable js</noscript><template><p>tpl</p></template>"
            "<svg><text>svg text</text></svg><iframe src='/x'>frame</iframe>"
            "<div hidden>hidden div</div><span aria-hidden='true'>icon</span>"
            "<form><input type='hidden' name='csrf' value='abc123'><select><option>o</option>"
            "</select><textarea>typed</textarea><button>Send</button></form>"
            "<nav>in-page nav</nav>",
            head="<meta name='csrf-token' content='xyz'><link rel='stylesheet' href='a.css?v=1'>",
        )
    )
    assert text == "kept"


def test_body_is_used_without_main_and_without_head():
    html_doc = (
        "<html><head><title>Only title</title><style>x{}</style></head>"
        "<body><header>Site</header><p>body text</p><footer>foot</footer></body></html>"
    )
    assert page_text(html_doc) == "body text"


def test_article_and_role_main_are_found_in_order():
    assert page_text("<body><p>x</p><article><p>art</p></article></body>") == "art"
    assert page_text("<body><p>x</p><div role='main'><p>rm</p></div></body>") == "rm"


def test_selector_is_honoured():
    html_doc = doc(
        "<div class='intro'>intro</div><section id='notes'><p>note 1</p>"
        "<p class='intro'>note 2</p></section>"
    )
    assert page_text(html_doc, selector="#notes").splitlines() == ["note 1", "note 2"]
    # nested matches are read once, in document order
    assert page_text(html_doc, selector=".intro, #notes").splitlines() == [
        "intro",
        "note 1",
        "note 2",
    ]
    assert page_text(html_doc, selector="nav") == "Home (/home)"  # an explicit selector wins
    assert page_text(html_doc, selector=".absent") == ""
    with pytest.raises(ValueError, match="selector"):
        page_text(html_doc, selector="div[[")


def test_cache_busting_parameters_never_differ():
    def page(suffix: str) -> str:
        return doc(
            f'<p><a href="/style.css?{suffix}">css</a> <a href="/d?page=2&{suffix}">next</a></p>',
            head=f'<link rel="stylesheet" href="/style.css?{suffix}">',
        )

    texts = {
        page_text(page(s), base_url="https://cocoon.org/")
        for s in ("v=123", "v=456", "ver=9&_=1700000000", "utm_source=tg&utm_medium=post",
                  "t=1&ts=2&cb=3&cachebuster=4&hash=ab12&rev=7&version=2")
    }  # fmt: skip
    assert texts == {"css (https://cocoon.org/style.css) next (https://cocoon.org/d?page=2)"}


def test_normalize_url():
    assert normalize_url("/a/b?v=1&x=2&UTM_Campaign=z#frag", "https://Cocoon.ORG/docs/") == (
        "https://cocoon.org/a/b?x=2"
    )
    assert normalize_url("gpu", "https://cocoon.org/docs/") == "https://cocoon.org/docs/gpu"
    assert normalize_url("https://cocoon.org") == "https://cocoon.org/"
    assert normalize_url("https://x.org/?q=a%20b&_=5") == "https://x.org/?q=a%20b"
    assert normalize_url("javascript:void(0)") is None
    assert normalize_url("http://[broken") is None
    assert normalize_url("  ") is None


def test_title_and_links():
    page = parse_page(
        "<html><body><nav><a href='/docs/a?v=1#top'>A</a></nav>"
        "<main><h1>Heading title</h1><a href='/docs/a'>again</a>"
        "<a href='ftp://x/y'>ftp</a><a href='/docs/b'>B</a></main></body></html>",
        base_url="https://cocoon.org/",
    )
    assert page.title == "Heading title"
    assert page.links == ("https://cocoon.org/docs/a", "https://cocoon.org/docs/b")
    based = parse_page(
        "<html><head><title> The  <b>title</b> </title><base href='https://other.org/x/'></head>"
        "<body><a href='y'>y</a></body></html>",
        base_url="https://cocoon.org/",
    )
    assert based.title == "The <b>title</b>"  # <title> holds text only
    assert based.links == ("https://other.org/x/y",)


@pytest.mark.parametrize(
    "markup",
    [
        "",
        "plain text, no tags",
        "<p>unclosed <b>bold <i>italic</p><li>stray<td>cell</table></div></span>",
        "<table><tr>loose<td>a<table><tr><td>inner</td></tr></table></td></tr></table>",
        "<pre><pre>nested</pre>after</pre><a href='http://[bad'>bad link</a>",
        "<html><body><a><div>block in link</div></a><<<>>>&&&</body>",
        "\x00\ufffd<p>\udcff</p>",
    ],
)
def test_malformed_html_does_not_crash(markup):
    assert isinstance(page_text(markup, base_url="https://cocoon.org/"), str)


def test_nested_table_stays_in_its_cell():
    text = page_text("<table><tr><td>a<table><tr><td>inner</td></tr></table></td></tr></table>")
    assert text == "| a | inner | |"


def test_deep_nesting_does_not_hit_the_recursion_limit():
    depth = 5000
    markup = "<main>" + "<div><ul><li>" * depth + "deep" + "</li></ul></div>" * depth + "</main>"
    text = page_text(markup)
    assert text.endswith("- deep")
    assert page_text("<body>" + "<span>" * depth + "inline" + "</span>" * depth) == "inline"


def test_a_megabyte_page_completes():
    sentence = "COCOON workers use GPUs for AI inference inside TDX VMs, paid in TON. " * 3
    block = (
        "<section><h2>Part {i}</h2><p>{i}: " + sentence + "See <a href='/x/{i}?v={i}'>a link</a>"
        " and <code>code</code>.</p><ul><li>one</li><li>two <b>bold</b></li></ul>"
        "<table><tr><td>{i}</td><td>cell</td></tr></table><script>var x={i};</script></section>"
    )
    markup = "<html><body><main>" + "".join(block.format(i=i) for i in range(2500)) + "</main>"
    assert len(markup) > 1_000_000
    text = page_text(markup, base_url="https://cocoon.org/")
    assert text.count("\n") + 1 == 2500 * 5


# -- real content: the cocoon docs ----------------------------------------------------------


def markdown_to_html(markdown: str) -> str:
    """Just enough Markdown for the docs: headings, list items, fences, tables, paragraphs."""
    out, in_code = ["<html><body><main>"], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            out.append("</code></pre>" if in_code else "<pre><code>")
            in_code = not in_code
        elif in_code:
            out.append(html.escape(line) + "\n")
        elif heading := re.match(r"(#{1,6})\s+(.*)", line):
            level = len(heading.group(1))
            out.append(f"<h{level}>{html.escape(heading.group(2))}</h{level}>")
        elif item := re.match(r"\s*(?:-|\d+\.)\s+(.*)", line):
            out.append(f"<ul><li>{html.escape(item.group(1))}</li></ul>")
        elif line.startswith("|") and not re.fullmatch(r"[|\s:-]+", line):
            cells = [f"<td>{html.escape(c.strip())}</td>" for c in line.strip("|").split("|")]
            out.append(f"<table><tr>{''.join(cells)}</tr></table>")
        elif line.strip() and not line.startswith("|"):
            out.append(f"<p>{html.escape(line)}</p>")
    return "".join(out) + "</main></body></html>"


def markdown_headings(markdown: str) -> list[str]:
    """The heading lines of a Markdown file, leaving out "# comments" in fenced code."""
    headings, in_code = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code and re.match(r"#{1,6} ", line):
            headings.append(line)
    return headings


def test_real_gpu_doc_round_trips_its_structure(real_fixtures):
    markdown = (real_fixtures / "cocoon-repo-docs" / "docs" / "gpu.md").read_text("utf-8")
    lines = page_text(markdown_to_html(markdown)).splitlines()
    assert lines[0] == "# GPU Confidential Computing"
    assert [line for line in lines if line.startswith("#")] == markdown_headings(markdown)
    assert "- NVIDIA H200 NVL" in lines
    assert "    sudo ./scripts/setup-gpu-vfio --setup 0000:01:00.0" in lines


def test_real_deployment_doc_tables_become_rows(real_fixtures):
    markdown = (real_fixtures / "cocoon-repo-docs" / "docs" / "deployment.md").read_text("utf-8")
    lines = page_text(markdown_to_html(markdown)).splitlines()
    assert "| Command | Description | Example |" in lines
    assert (
        "| `gpu` | GPU metrics (utilization, memory, temp, power) | "
        "`./health-client -i worker gpu` |"
    ) in lines


def test_demo_docs_page_reads_like_the_markdown(real_fixtures):
    """The recorded cocoon.org /docs/gpu page (rendered from docs/gpu.md) and its noise."""
    page = parse_page(
        (DEMO_SITE / "week1" / "site" / "docs-gpu.html").read_text("utf-8"),
        base_url="http://127.0.0.1:8000/site/docs/gpu",
    )
    lines = page.text.splitlines()
    assert page.title == "GPU Confidential Computing · COCOON"
    assert lines[:3] == [
        "# GPU Confidential Computing",
        "## Overview",
        "COCOON workers use GPUs for AI inference inside TDX VMs. This requires:",
    ]
    supported = lines.index("### Supported GPUs")
    assert lines[supported + 1 : supported + 7] == [
        "Minimum:",
        "- NVIDIA H100 or newer",
        "- Confidential Computing (CC) support",
        "- Updated VBIOS for attestation (requires NVIDIA support)",
        "Tested:",
        "- NVIDIA H200 NVL",
    ]
    assert "  - GPU model and VBIOS version" in lines  # nested list under an ordered item
    assert "- For deployment: Deployment (http://127.0.0.1:8000/site/docs/deployment)" in lines
    markdown = (real_fixtures / "cocoon-repo-docs" / "docs" / "gpu.md").read_text("utf-8")
    assert [line for line in lines if line.startswith("#")] == markdown_headings(markdown)
    noise_words = ("csrf", "Last updated", "Tip:", "b7e41d2", "GPU Owners", "Search the docs")
    for noise in (*noise_words, "?v="):
        assert noise not in page.text
    assert "http://127.0.0.1:8000/site/docs/seal-keys" not in page.links  # week 2 adds it
    assert "http://127.0.0.1:8000/site/docs/ra-tls" in page.links
