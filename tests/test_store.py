import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest

from watcher import digest
from watcher.models import Item, SourceOutcome
from watcher.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Delivery,
    SourceUpdate,
    Store,
    StoreError,
    Subscriber,
)

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def item(key: str, text: str) -> Item:
    return Item(key, "post", text[:10], f"https://t.me/cocoon/{key}", text, {"id": key})


def commit(store: Store, when: datetime, updates: list[SourceUpdate]):
    run = store.start_run(when)
    result = digest.build([], [SourceOutcome("tg", "telegram_channel", "ok", 1)], when)
    store.commit_run(run, when, result, digest.headline(result), updates, [],
                     lambda d: (f"text #{d.id}", f"<b>#{d.id}</b>"))
    return result


def test_new_store_is_migrated_and_uses_wal(tmp_path):
    path = tmp_path / "sub" / "watcher.db"
    store = Store.open(path)
    assert store.schema_version == SCHEMA_VERSION
    store.close()
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_snapshots_keep_every_version(tmp_path):
    store = Store.open(tmp_path / "w.db")
    commit(store, T0, [SourceUpdate("tg", "telegram_channel", [item("1", "a"), item("2", "b")],
                                    [])])
    assert store.is_baselined("tg")
    commit(store, T0 + timedelta(days=7),
           [SourceUpdate("tg", "telegram_channel", [item("1", "a edited")], ["2"])])
    current = store.current_items("tg")
    assert list(current) == ["1"]
    assert current["1"].text == "a edited"
    assert current["1"].meta == {"id": "1"}
    history = store.history("tg", "1")
    assert [h[1].text for h in history] == ["a", "a edited"]
    assert store.history("tg", "2")[-1][1] is None


def test_digest_is_archived_with_its_rendering(tmp_path):
    store = Store.open(tmp_path / "w.db")
    result = commit(store, T0, [])
    archived = store.digest(result.id)
    assert archived.text == f"text #{result.id}"
    assert archived.html == f"<b>#{result.id}</b>"
    assert archived.digest.outcomes[0].source == "tg"
    assert [d.id for d in store.digests()] == [result.id]
    assert store.last_run()[3] == "ok"


def test_failed_render_rolls_back_snapshots_and_digest(tmp_path):
    store = Store.open(tmp_path / "w.db")
    run = store.start_run(T0)
    result = digest.build([], [], T0)

    def broken(_):
        raise RuntimeError("render failed")

    with pytest.raises(RuntimeError):
        store.commit_run(run, T0, result, "h", [SourceUpdate("tg", "k", [item("1", "a")], [])],
                         [], broken)
    assert store.current_items("tg") == {}
    assert not store.is_baselined("tg")
    assert store.digests() == []


def test_store_from_a_newer_watcher_is_refused(tmp_path):
    path = tmp_path / "w.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer than this watcher"):
        Store.open(path)


def test_unwritable_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create its folder"):
        Store.open(blocker / "w.db")


def test_subscribers_with_their_categories(tmp_path):
    store = Store.open(tmp_path / "w.db")
    store.subscribe(-100, ["hardware"], T0)
    store.subscribe(7, [], T0)
    store.subscribe(-100, ["pricing", "hardware"], T0 + timedelta(days=1))
    assert store.subscribers() == [Subscriber(-100, ["pricing", "hardware"]), Subscriber(7, [])]
    assert store.unsubscribe(-100)
    assert not store.unsubscribe(-100)
    assert store.subscribers() == [Subscriber(7, [])]


def test_outbox_keeps_one_delivery_per_digest_and_chat_until_finished(tmp_path):
    store = Store.open(tmp_path / "w.db")
    result = commit(store, T0, [])
    store.queue(result.id, [(7, "<b>a</b>"), (8, "<b>a</b>")], T0)
    store.queue(result.id, [(7, "<b>other</b>")], T0)
    first, second = store.pending()
    assert (first.chat_id, first.html, first.parts_sent) == (7, "<b>a</b>", 0)
    store.record_parts_sent(first.id, 2)
    store.finish_delivery(second.id, "dropped", T0, "Forbidden: bot was blocked by the user")
    assert store.pending() == [Delivery(first.id, result.id, 7, "<b>a</b>", 2)]
    store.finish_delivery(first.id, "sent", T0)
    assert store.pending() == []
    store.close()
    assert Store.open(tmp_path / "w.db").pending() == []


def test_a_store_from_every_older_schema_is_migrated_with_its_data(tmp_path):
    for version in range(1, SCHEMA_VERSION):
        path = tmp_path / f"v{version}.db"
        db = sqlite3.connect(path)
        for migration in MIGRATIONS[:version]:
            for statement in migration.split(";"):
                if statement.strip():
                    db.execute(statement)
        db.execute(f"PRAGMA user_version = {version}")
        db.execute("INSERT INTO runs (id, started_at) VALUES (1, '2026-11-23T02:00:00+00:00')")
        db.execute("INSERT INTO snapshots (source, item_key, version, run_id, seen_at, kind,"
                   " title, url, text, meta) VALUES ('tg', 'post:1', 1, 1, '2026-11-23', 'post',"
                   " 't', 'u', 'hello', '{}')")
        db.execute("INSERT INTO digests (run_id, created_at, kind, headline, text, html, changes,"
                   " outcomes) VALUES (1, '2026-11-23T02:00:00+00:00', 'baseline', 'h', 'x', 'y',"
                   " '[]', '[]')")
        db.commit()
        db.close()

        store = Store.open(path)
        assert store.schema_version == SCHEMA_VERSION, version
        assert store.current_items("tg")["post:1"].text == "hello"
        [archived] = store.digests()
        assert (archived.text, archived.digest.moves, archived.digest.alerts) == ("x", [], [])
        store.close()


def test_a_damaged_store_is_refused_with_a_way_out(tmp_path):
    path = tmp_path / "w.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open the store"):
        Store.open(path)


def test_backup_is_a_working_copy_and_never_overwrites(tmp_path):
    store = Store.open(tmp_path / "w.db")
    commit(store, T0, [SourceUpdate("tg", "telegram_channel", [item("1", "a")], [])])
    target = tmp_path / "copy.db"
    store.backup(target)
    with pytest.raises(StoreError, match="already exists"):
        store.backup(target)
    store.close()
    copy = Store.open(target)
    assert copy.current_items("tg")["1"].text == "a"


def test_two_writers_at_once_both_land(tmp_path):
    """The bot and a CLI `watcher check` share the file: WAL and a busy timeout serialise them."""
    path = tmp_path / "w.db"
    Store.open(path).close()
    errors = []

    def write(name: str) -> None:
        try:
            store = Store.open(path)
            for n in range(20):
                commit(store, T0 + timedelta(minutes=n),
                       [SourceUpdate(name, "k", [item(str(n), f"{name} {n}")], [])])
            store.close()
        except Exception as exc:  # the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(name,)) for name in ("bot", "cli")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    store = Store.open(path)
    assert len(store.current_items("bot")) == len(store.current_items("cli")) == 20
    assert len(store.digests(limit=100)) == 40
