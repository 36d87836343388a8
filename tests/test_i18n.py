"""Language: every user-facing string goes through watcher/i18n.py, and `language = "vi"` gives
the digest, the bot's replies and the archive in Vietnamese (English output is what the other
tests pin, unchanged)."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import feedparser
import pytest
from test_bot_end_to_end import ALICE, ALICE_CHAT, GROUP, Rig

import watcher
from watcher import archive, config
from watcher.bot.facts import fact_sheet
from watcher.classify.facts import LABELS
from watcher.cli import main
from watcher.demo import DATA, write_config
from watcher.digest import split_message
from watcher.i18n import ENGLISH, VI, translator
from watcher.replay import ReplayServer
from watcher.store import Store

PACKAGE = Path(watcher.__file__).parent
TEMPLATE_CALL = re.compile(r"""\bt\(\s*(["'])(.+?)\1\s*\)""")


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _keys_in_source() -> dict[str, str]:
    """Every literal handed to t(...), N_(...), t.plural(n, ...) or _t(context)(...) in the
    package, with where it is."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func, args = node.func, node.args
            if isinstance(func, ast.Name) and func.id in ("t", "N_"):
                keys = args[:1]
            elif isinstance(func, ast.Attribute) and func.attr == "plural":
                keys = args[1:3]
            elif isinstance(func, ast.Call) and getattr(func.func, "id", None) == "_t":
                keys = args[:1]
            else:
                continue
            for key in filter(None, map(_literal, keys)):
                found.setdefault(key, f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def _keys_in_templates() -> dict[str, str]:
    found = {}
    for path in sorted((PACKAGE / "archive" / "templates").glob("*.html")):
        for match in TEMPLATE_CALL.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(match.group(2), f"templates/{path.name}")
    return found


def _all_keys() -> dict[str, str]:
    """What the catalog must hold: the literals, and the fact labels (watcher.classify keeps
    them as data; the digest, the bot and the archive show them through t)."""
    return {**{label: "classify/facts.py LABELS" for label in LABELS.values()},
            **_keys_in_templates(), **_keys_in_source()}


def test_the_scan_finds_strings_in_each_layer():
    keys = _all_keys()
    assert keys["What moved"].startswith("digest.py")
    assert keys["I answer commands only: /help lists them."].startswith("bot/handlers.py")
    assert keys["Fact sheet"].startswith("bot/facts.py")
    assert keys["Break-even"].startswith("roi.py")
    assert keys["Fact history"].startswith("templates/")
    assert len(keys) > 200


def test_every_string_has_a_vietnamese_translation():
    missing = {key: where for key, where in _all_keys().items() if key not in VI}
    assert missing == {}


def test_the_catalog_has_no_stale_entries():
    assert sorted(set(VI) - set(_all_keys())) == []


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_translations_keep_the_placeholders_and_are_vietnamese():
    for key, text in VI.items():
        assert _fields(text) == _fields(key), key
        assert text.strip(), key


def test_english_is_the_key_itself_and_plurals_pick_the_form():
    assert ENGLISH("No changes") == "No changes"
    assert ENGLISH.plural(1, "{count} source", "{count} sources") == "1 source"
    assert ENGLISH.plural(3, "{count} source", "{count} sources") == "3 sources"
    vi = translator("vi")
    assert vi.plural(3, "{count} source", "{count} sources") == "3 nguồn"
    assert vi("Checking {count} sources…", count=5) == "Đang kiểm tra 5 nguồn…"
    with pytest.raises(ValueError):
        translator("fr")


# --- end to end in Vietnamese ----------------------------------------------------------------

def _vietnamese(config_path: Path) -> Path:
    text = config_path.read_text(encoding="utf-8")
    assert 'language = "en"' in text
    config_path.write_text(text.replace('language = "en"', 'language = "vi"', 1),
                           encoding="utf-8")
    return config_path


def test_week_two_digest_in_vietnamese(tmp_path, capsys):
    with ReplayServer(DATA) as server:
        config_path = _vietnamese(write_config(tmp_path, server.base_url))
        assert main(["check", "--config", str(config_path)]) == 0
        first = capsys.readouterr().out
        server.use_week(2)
        assert main(["check", "--config", str(config_path)]) == 0
        text = capsys.readouterr().out
        assert main(["check", "--config", str(config_path), "--json"]) == 0
        quiet = capsys.readouterr().out
    assert first.splitlines()[1].startswith("Đã ghi mốc ban đầu: 5 nguồn, ")
    lines = text.splitlines()
    assert re.fullmatch(r"Bản tin COCOON #2 — \d{4}-\d\d-\d\d", lines[0])
    assert lines[1].startswith("GPU đã kiểm thử H200 NVL → B200, H200 NVL (nới lỏng) "
                               "(+6 mục khác); 10 thay đổi: bài mới, bài đã sửa, commit mới")
    assert lines[3] == "== Thông số đã thay đổi =="
    assert "\nHash mô hình: thêm 1 — " in text
    assert "Docker client: preview (mới được nêu) — " in text
    assert ("ROI: suy ra 0.58 USD/GPU-giờ khi sử dụng 100% với 2 USD/TON (theo cấu hình), "
            "gần nhất bear; hoàn vốn kịch bản base 2,679 ngày ≈ 7.3 năm "
            "(không bao giờ với giá suy ra)") in lines
    for heading in ("Phần cứng", "Giá cả", "Hợp đồng thông minh", "Mô hình", "Công cụ",
                    "Mức độ áp dụng"):
        assert f"\n== {heading} ==\n" in text
    assert "› Supported GPUs [nới lỏng] · cocoon.org" in text
    assert "    sau: - NVIDIA B200" in text
    assert "+ Mô hình được cho phép: Qwen/Qwen3-8B (hash a82fd547628e…) · TON root contract" in text
    assert '"headline": "Không có thay đổi"' in quiet
    assert '"kind": "no_changes"' in quiet  # machine fields stay English


def test_archive_pages_and_feed_in_vietnamese(tmp_path):
    with ReplayServer(DATA) as server:
        config_path = _vietnamese(write_config(tmp_path, server.base_url))
        for week in (1, 2):
            server.use_week(week)
            assert main(["check", "--config", str(config_path)]) == 0
    store = Store.open(tmp_path / "watcher.db")
    try:
        assert archive.export(store, tmp_path / "site", "", t=translator("vi")) == 2
    finally:
        store.close()
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in index
    assert "<title>Bản tin COCOON</title>" in index
    assert ">Lịch sử thông số</a>" in index and ">Nguồn cấp Atom</a>" in index
    assert "Hiển thị:" in index and ">tất cả</a>" in index
    assert '<a class="badge hardware" href="category/hardware.html">Phần cứng</a>' in index
    assert "GPU đã kiểm thử H200 NVL → B200, H200 NVL (nới lỏng)" in index
    page = (tmp_path / "site" / "digest" / "2.html").read_text(encoding="utf-8")
    assert "<h2>Thông số đã thay đổi</h2>" in page and "<h2>Giá cả</h2>" in page
    facts = (tmp_path / "site" / "facts.html").read_text(encoding="utf-8")
    assert "<h1>Lịch sử thông số</h1>" in facts and ">GPU đã kiểm thử</h2>" in facts
    assert '<span class="relaxed">(nới lỏng)</span>' in facts
    feed = feedparser.parse((tmp_path / "site" / "feed.xml").read_bytes())
    assert feed.feed.title == "Bản tin COCOON"
    assert feed.entries[0].title.startswith("#2 · GPU đã kiểm thử")


def test_english_archive_is_unchanged_by_the_catalog(tmp_path):
    with ReplayServer(DATA) as server:
        config_path = write_config(tmp_path, server.base_url)
        assert main(["check", "--config", str(config_path)]) == 0
    store = Store.open(tmp_path / "watcher.db")
    try:
        archive.export(store, tmp_path / "site")
    finally:
        store.close()
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in index and ">Fact history</a>" in index


@pytest.fixture
def rig(tmp_path, replay, telegram):
    rig = Rig(tmp_path, replay, telegram)
    rig.configure()
    rig.config = config.load(_vietnamese(rig.folder / "watcher.toml"))
    yield rig
    rig.store.close()


async def test_bot_replies_in_vietnamese(rig, telegram, replay):
    await rig.check()  # week 1: the baseline
    async with rig.running():
        await telegram.command("/help", ALICE_CHAT, ALICE)
        help_text = (await telegram.reply(ALICE_CHAT))["text"]
        assert "cho biết những gì đã thay đổi trên mạng COCOON" in help_text
        assert "/check — kiểm tra mọi nguồn ngay bây giờ" in help_text
        assert "Bản tin hằng tuần tiếp theo: T2 2026-11-30 09:00 (Asia/Ho_Chi_Minh)." in help_text

        await telegram.command("/subscribe", ALICE_CHAT, ALICE)
        assert (await telegram.reply(ALICE_CHAT))["text"] == (
            "Đã đăng ký: nhóm chat này sẽ nhận bản tin hằng tuần. Lần tới: T2 2026-11-30 09:00 "
            "(Asia/Ho_Chi_Minh). /unsubscribe để ngừng.")

        replay.use_week(2)
        await telegram.command("/check", ALICE_CHAT, ALICE)
        # the Vietnamese week 2 runs a little over 4096 characters: two parts
        checking, *digest_parts = await telegram.replies(ALICE_CHAT, 3)
        assert len(digest_parts) == len(split_message(rig.store.digest(2).html)) == 2
        digest = {"text": "\n".join(m["text"] for m in digest_parts)}
        assert checking["text"] == f"Đang kiểm tra {len(rig.config.sources)} nguồn…"
        assert digest["text"].startswith("<b>Bản tin COCOON #2 — 2026-11-24</b>\nGPU đã kiểm thử")
        assert "<b>Thông số đã thay đổi</b>" in digest["text"]
        assert ">+ Commit mới: update ton" in digest["text"]

        await telegram.command("/status", ALICE_CHAT, ALICE)
        status = (await telegram.reply(ALICE_CHAT))["text"]
        assert "Lần chạy gần nhất: T3 2026-11-24 10:00 (Asia/Ho_Chi_Minh), ok" in status
        assert "• Worker release: ổn (1 mục)" in status
        assert "Người đăng ký: 1, nhóm chat của đội: 0" in status

        await telegram.command("/facts", ALICE_CHAT, ALICE)
        parts = len(split_message(fact_sheet(rig.store, translator("vi"))))
        sheet = "\n".join(m["text"] for m in await telegram.replies(ALICE_CHAT, parts))
        assert sheet.startswith("<b>Bảng thông số</b>\n<b>")
        assert "<b>GPU đã kiểm thử</b>: B200, H200 NVL (từ 2026-11-24, <a href=" in sheet

        await telegram.command("/roi util=120", GROUP, ALICE)
        assert (await telegram.reply(GROUP))["text"] == (
            "util=120 vượt quá 100%: hãy viết util=120% hoặc một tỉ lệ như util=0.55.\n"
            "Ví dụ: /roi rate=3.2 util=55% capex=40000 cost=12")
        await telegram.command("/weather", GROUP, ALICE)
        await telegram.command("/weather@TestNameBot", GROUP, ALICE)
        assert (await telegram.reply(GROUP))["text"] == (
            "Tôi chỉ trả lời lệnh: /help liệt kê các lệnh.")
