"""The archive as a static site and an Atom feed, from a store holding several recorded weeks."""

import threading
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from watcher import archive, digest
from watcher.cli import main
from watcher.demo import DATA, write_config
from watcher.models import Change, SourceOutcome
from watcher.replay import ReplayServer
from watcher.store import Store


@pytest.fixture(scope="module")
def weeks(tmp_path_factory) -> Path:
    """A config whose store holds three digests: the baseline, week 2's changes, a quiet week."""
    folder = tmp_path_factory.mktemp("weeks")
    with ReplayServer(DATA) as server:
        config_path = write_config(folder, server.base_url)
        for week in (1, 2, 2):
            server.use_week(week)
            assert main(["check", "--config", str(config_path)]) == 0
    return config_path


@pytest.fixture(scope="module")
def site(weeks, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site") / "archive"
    store = Store.open(weeks.parent / "watcher.db")
    assert archive.export(store, folder, "https://watch.example.org/cocoon/") == 3
    store.close()
    return folder


def read(site: Path, name: str) -> str:
    return (site / name).read_text(encoding="utf-8")


def test_index_lists_digests_newest_first_with_badges_and_headlines(site):
    index = read(site, "index.html")
    assert index.index('id="digest-3"') < index.index('id="digest-2"') < index.index(
        'id="digest-1"')
    assert '<meta name="viewport"' in index
    second = index[index.index('id="digest-2"'):index.index('id="digest-1"')]
    for badge in ("hardware", "pricing", "contract", "models", "tooling"):
        assert f'class="badge {badge}"' in second
    assert "Tested GPUs H200 NVL → B200, H200 NVL (relaxed)" in second
    assert '<li class="relaxed">' in second


def test_category_pages_filter(site):
    hardware = read(site, "category/hardware.html")
    assert 'id="digest-2"' in hardware and 'id="digest-1"' not in hardware
    assert 'class="badge hardware current"' in hardware
    assert "No digest here yet." in read(site, "category/governance.html")


def test_digest_page_has_the_telegram_content_with_links(site):
    page = read(site, "digest/2.html")
    assert "<h2>What moved</h2>" in page
    assert "Client close delay 1 day → 3 days" in page
    assert 'href="https://github.com/TelegramMessenger/cocoon/commit/' in page
    assert "after: - NVIDIA B200" in page
    assert 'href="../digest/3.html"' in page and 'href="../digest/1.html"' in page


def test_fact_history_shows_each_move_with_its_date_and_direction(site):
    facts = read(site, "facts.html")
    tested = facts[facts.index('id="tested_gpus"'):]
    tested = tested[:tested.index("</ul>")]
    assert "H200 NVL → <strong>B200, H200 NVL</strong>" in tested
    assert '<span class="relaxed">(relaxed)</span>' in tested
    assert 'href="http://127.0.0.1:' in tested


def test_feed_is_valid_atom(site):
    feed = feedparser.parse(read(site, "feed.xml"))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert [e.title.split(" ·")[0] for e in feed.entries] == ["#3", "#2", "#1"]
    assert len({e.id for e in feed.entries}) == 3
    assert all(e.updated_parsed and e.published_parsed for e in feed.entries)
    assert feed.entries[1].link == "https://watch.example.org/cocoon/digest/2.html"
    assert "Client close delay 1 day → 3 days" in feed.entries[1].summary
    assert feed.feed.links[0].href == "https://watch.example.org/cocoon/feed.xml"


def test_everything_is_escaped(tmp_path):
    store = Store.open(tmp_path / "w.db")
    evil = "<script>alert(1)</script> & <b>bold</b>"
    change = Change("tg", "post:1", "post", "added", evil, "https://t.me/cocoon/1", after=evil,
                    categories=["other"])
    outcome = SourceOutcome("tg", "telegram_channel", "ok", 1, url="https://t.me/s/cocoon")
    found = digest.build([change], [outcome], datetime(2026, 11, 30, tzinfo=UTC))
    store.commit_run(store.start_run(found.created_at), found.created_at, found,
                     digest.headline(found), [], [],
                     lambda d: (digest.render_text(d), digest.render_html(d)))
    archive.export(store, tmp_path / "site")
    for name in ("index.html", "digest/1.html", "category/other.html"):
        page = read(tmp_path / "site", name)
        assert "<script>alert" not in page and "<b>bold" not in page, name
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold" in read(
        tmp_path / "site", "digest/1.html")
    feed = feedparser.parse(read(tmp_path / "site", "feed.xml"))
    assert not feed.bozo and evil in feed.entries[0].summary


def test_export_command_and_refresh_after_each_run(weeks, tmp_path, capsys):
    target = tmp_path / "out"
    assert main(["archive", "export", str(target), "--config", str(weeks)]) == 0
    assert "3 digests written to" in capsys.readouterr().out
    assert (target / "digest" / "3.html").exists()

    with ReplayServer(DATA) as server:
        config_path = write_config(tmp_path / "live", server.base_url)
        text = config_path.read_text().replace('export_dir = ""',
                                               f'export_dir = "{tmp_path / "live-site"}"')
        config_path.write_text(text)
        assert main(["check", "--config", str(config_path)]) == 0
    assert (tmp_path / "live-site" / "digest" / "1.html").exists()


CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture
def browser(tmp_path):
    """Headless Debian Chromium driven by Selenium (installed by `make test`)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("chromium and chromium-driver are missing: `make test` installs them "
                    "(apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-sync",
                 "--disable-component-update", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def served(site):
    handler = partial(SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{server.server_address[1]}"
        server.shutdown()


def test_a_reader_browses_the_archive(browser, served):
    browser.set_window_size(390, 844)  # a phone
    browser.get(f"{served}/index.html")
    assert browser.title == "COCOON watch"
    items = browser.find_elements(By.CSS_SELECTOR, "ul.digests > li")
    assert [i.get_attribute("id") for i in items] == ["digest-3", "digest-2", "digest-1"]
    second = browser.find_element(By.ID, "digest-2")
    assert "Tested GPUs H200 NVL → B200, H200 NVL (relaxed)" in second.text
    badges = [b.text for b in second.find_elements(By.CSS_SELECTOR, ".badge")]
    assert {"Hardware", "Pricing", "Smart contracts", "Models", "Tooling"} <= set(badges)
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth")
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "archive-index-phone.png"))

    browser.find_element(By.CSS_SELECTOR, "p.filter a.badge.hardware").click()
    assert browser.current_url.endswith("/category/hardware.html")
    shown = [i.get_attribute("id") for i in browser.find_elements(By.CSS_SELECTOR,
                                                                  "ul.digests > li")]
    assert shown == ["digest-2"]

    browser.find_element(By.CSS_SELECTOR, "#digest-2 > a").click()
    assert browser.current_url.endswith("/digest/2.html")
    headings = [h.text for h in browser.find_elements(By.TAG_NAME, "h2")]
    assert headings[0] == "What moved"
    commit = browser.find_element(By.PARTIAL_LINK_TEXT, "New commit: update ton")
    assert commit.get_attribute("href").startswith(
        "https://github.com/TelegramMessenger/cocoon/commit/")
    browser.set_window_size(1200, 900)
    assert browser.save_screenshot(str(ARTIFACTS / "archive-digest-2.png"))
