import random
import re
from datetime import UTC, datetime

from watcher import digest
from watcher.digest import split_message, telegram_length
from watcher.models import Change, FactMove, SourceOutcome

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
OK = [SourceOutcome("Telegram @cocoon", "telegram_channel", "ok", 13, url="https://t.me/s/cocoon")]


def post_change(n: int, text: str = "GPU owners can apply now") -> Change:
    return Change("Telegram @cocoon", f"post:{n}", "post", "added", text, f"https://t.me/cocoon/{n}",
                  after=text)


def test_kind_follows_what_happened():
    assert digest.build([post_change(1)], OK, NOW).kind == "changes"
    assert digest.build([], OK, NOW).kind == "no_changes"
    baseline = [SourceOutcome("a", "github", "baseline", 71)]
    assert digest.build([], baseline, NOW).kind == "baseline"


def test_text_names_each_change_with_its_link_and_section():
    page = Change("cocoon.org", "u", "page", "added", "GPU Confidential Computing",
                  "https://cocoon.org/docs/gpu", section="Supported GPUs", after="- NVIDIA B200",
                  categories=["hardware"], hardware_direction="relaxed")
    news = post_change(13)
    news.categories = ["adoption"]
    out = digest.render_text(digest.build([news, page], OK, NOW))
    assert ("+ New post: GPU owners can apply now · Telegram @cocoon — https://t.me/cocoon/13"
            in out)
    assert ("+ Added: GPU Confidential Computing › Supported GPUs [relaxed] · cocoon.org"
            " — https://cocoon.org/docs/gpu" in out)
    assert "after: - NVIDIA B200" in out
    assert out.splitlines()[1] == "2 changes: new post, page edit"
    assert out.index("== Hardware ==") < out.index("== Adoption ==")


def test_headlines_lead_then_categories_with_other_last_and_folded():
    moves = [FactMove("min_kernel", "Minimum host kernel", "hardware", "6.16", "6.12",
                      "relaxed", url="https://cocoon.org/docs/deployment")]
    commits = [Change("GitHub", f"commit:{n}", "commit", "added", f"fix typo {n}",
                      f"https://github.com/c/{n}", categories=["other"]) for n in range(7)]
    fee = Change("cocoon.org", "p", "page", "modified", "Smart contracts", "https://c/sc",
                 section="Fees", before="0.01 TON", after="0.02 TON",
                 categories=["pricing", "contract"])
    result = digest.build([*commits, fee], OK, NOW)
    result.moves = moves
    out = digest.render_text(result)
    lines = out.splitlines()
    assert lines[1].startswith("Minimum host kernel 6.16 → 6.12 (relaxed); 8 changes")
    assert lines[3] == "== What moved =="
    assert lines[4] == ("Minimum host kernel 6.16 → 6.12 (relaxed)"
                        " — https://cocoon.org/docs/deployment")
    assert out.index("== Pricing ==") < out.index("== Other ==")
    assert "[+contract]" in out
    assert "7 changes: 7 × new commit" in out
    assert "fix typo 3" not in out
    data = digest.render_json(result)
    assert data["headlines"][0]["text"] == "Minimum host kernel 6.16 → 6.12 (relaxed)"


def test_move_wording():
    new = FactMove("stake", "Stake", "contract", None, "100 TON")
    gone = FactMove("vbios_required", "Updated VBIOS required", "hardware", "yes", None, "relaxed")
    fee = FactMove("fee", "Fee / commission", "pricing", "0.01 TON", "0.02 TON", note="+100%")
    assert digest.move_text(new) == "Stake: 100 TON (newly stated)"
    assert digest.move_text(gone) == "Updated VBIOS required: no longer stated (was yes) (relaxed)"
    assert digest.move_text(fee) == "Fee / commission 0.01 TON → 0.02 TON (+100%)"


def test_failed_source_is_listed_not_hidden():
    outcomes = OK + [SourceOutcome("cocoon.org", "web_page", "failed", error="HTTP 503")]
    result = digest.build([], outcomes, NOW)
    out = digest.render_text(result)
    assert "cocoon.org: HTTP 503" in out
    assert digest.headline(result) == "No changes (1 source failed)"


def test_baseline_digest_lists_what_is_tracked():
    outcomes = [SourceOutcome("GitHub", "github", "baseline", 71, url="https://github.com/x")]
    out = digest.render_text(digest.build([], outcomes, NOW))
    assert "Baseline recorded: 1 source, 71 items" in out
    assert "GitHub: 71 items — https://github.com/x" in out


def test_html_escapes_source_text():
    evil = post_change(5, "<b>not bold</b> & <script>")
    html = digest.render_html(digest.build([evil], OK, NOW))
    assert "&lt;b&gt;not bold&lt;/b&gt; &amp; &lt;script&gt;" in html
    assert "<script>" not in html


def test_json_carries_categories_fields():
    data = digest.render_json(digest.build([post_change(1)], OK, NOW))
    assert data["kind"] == "changes"
    assert data["changes"][0]["categories"] == []
    assert data["changes"][0]["hardware_direction"] is None


def _balanced(part: str) -> bool:
    stack = []
    for match in re.finditer(r"<(/?)([a-z]+)[^>]*>", part):
        if match.group(1):
            if not stack or stack.pop() != match.group(2):
                return False
        else:
            stack.append(match.group(2))
    return not stack


def _cuts_nothing(part: str) -> bool:
    no_tags = re.sub(r"<[^>]*>", "", part)
    return "<" not in no_tags and ">" not in no_tags and not re.search(r"&[#A-Za-z0-9]*$", part)


def test_long_digest_splits_on_sections_under_the_limit():
    changes = [post_change(n, f"Post number {n} " + "lorem ipsum " * 20) for n in range(200)]
    for n, change in enumerate(changes):
        change.categories = [("hardware", "pricing", "models", "adoption")[n % 4]]
    parts = split_message(digest.render_html(digest.build(changes, OK, NOW)))
    assert len(parts) > 1
    assert all(telegram_length(p) <= 4096 for p in parts)
    assert all(_balanced(p) and _cuts_nothing(p) for p in parts)


def test_one_huge_line_is_cut_between_tokens_and_tags_reopened():
    line = "<b><a href=\"https://x/?a=1&amp;b=2\">" + "&amp;é🙂x" * 3000 + "</a></b>"
    parts = split_message(line, 4096)
    assert len(parts) > 1
    for part in parts:
        assert telegram_length(part) <= 4096
        assert part.startswith("<b><a href=") and part.endswith("</a></b>")
        assert _cuts_nothing(part)


def test_random_html_never_exceeds_the_limit_nor_cuts_an_entity():
    rng = random.Random(7)
    pieces = ["<b>", "</b>", "&amp;", "&lt;", "🙂", "word ", "\n", "\n\n", "<i>x</i>"]
    for _ in range(50):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 3000)))
        for part in split_message(text, 300):
            assert telegram_length(part) <= 300
            assert not re.search(r"&[#A-Za-z0-9]*$", part)
