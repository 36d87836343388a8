import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from watcher import digest
from watcher.models import Item, SourceOutcome
from watcher.store import SCHEMA_VERSION, SourceUpdate, Store, StoreError

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
