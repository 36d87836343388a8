"""The one store: SQLite (stdlib sqlite3, WAL) holding snapshots with history, runs, the digest
archive, the fact sheet, subscribers and the delivery outbox. The schema is versioned;
`MIGRATIONS[n]` takes version n to n+1.

A source's snapshot is advanced in the same transaction that stores the digest built from it
(`commit_run`), so a crash in between re-reports those changes on the next run instead of
losing them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from watcher.models import Alert, Change, Digest, Fact, FactMove, Item, SourceOutcome
from watcher.suspect import Suspicion

MIGRATIONS: list[str] = [
    # 0 -> 1: the core tables.
    """
    CREATE TABLE sources (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        baseline_at TEXT NOT NULL,
        last_ok_at TEXT
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL DEFAULT 'running'
    );
    CREATE TABLE run_sources (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        items INTEGER NOT NULL,
        error TEXT,
        url TEXT,
        PRIMARY KEY (run_id, source)
    );
    CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        item_key TEXT NOT NULL,
        version INTEGER NOT NULL,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        seen_at TEXT NOT NULL,
        removed INTEGER NOT NULL DEFAULT 0,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        url TEXT NOT NULL,
        text TEXT NOT NULL,
        meta TEXT NOT NULL,
        UNIQUE (source, item_key, version)
    );
    CREATE TABLE digests (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        created_at TEXT NOT NULL,
        kind TEXT NOT NULL,
        headline TEXT NOT NULL,
        text TEXT NOT NULL,
        html TEXT NOT NULL,
        changes TEXT NOT NULL,
        outcomes TEXT NOT NULL
    );
    CREATE TABLE subscribers (
        chat_id INTEGER PRIMARY KEY,
        categories TEXT NOT NULL DEFAULT '[]',
        added_at TEXT NOT NULL
    );
    """,
    # the fact sheet, stored per run, and the digest's headlines (facts that moved)
    """
    CREATE TABLE facts (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        display TEXT NOT NULL,
        source TEXT NOT NULL,
        url TEXT NOT NULL,
        since TEXT NOT NULL,
        PRIMARY KEY (run_id, name)
    );
    ALTER TABLE digests ADD COLUMN moves TEXT NOT NULL DEFAULT '[]';
    """,
    # 2 -> 3: the delivery outbox, one row per digest and chat. A row stays 'pending' until
    # every part is sent ('sent') or the chat cannot be written to ('dropped'), and counts the
    # parts already sent, so a restart resumes where it stopped instead of repeating them.
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        digest_id INTEGER NOT NULL REFERENCES digests(id),
        chat_id INTEGER NOT NULL,
        html TEXT NOT NULL,
        parts_sent INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending',
        error TEXT,
        queued_at TEXT NOT NULL,
        finished_at TEXT,
        UNIQUE (digest_id, chat_id)
    );
    CREATE INDEX outbox_pending ON outbox (status) WHERE status = 'pending';
    """,
    # 3 -> 4: content held back as suspect (accepted when seen again), and each source's run of
    # consecutive failures, so the team is warned once and told once when it recovers
    """
    CREATE TABLE suspects (
        source TEXT NOT NULL,
        item_key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        reason TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (source, item_key)
    );
    CREATE TABLE source_health (
        source TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        failing_since TEXT
    );
    ALTER TABLE digests ADD COLUMN alerts TEXT NOT NULL DEFAULT '[]';
    """,
    # 4 -> 5: the ROI desk's line of a digest in which a pricing fact moved
    """
    ALTER TABLE digests ADD COLUMN roi TEXT;
    """,
    # 5 -> 6: the facts read out of each current text, by a digest of the text and of what read
    # it (classify.cache); only the latest run's texts are kept
    """
    CREATE TABLE fact_cache (
        key TEXT PRIMARY KEY,
        facts TEXT NOT NULL
    );
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """The store cannot be opened or is from a newer version of the watcher."""


@dataclass(frozen=True)
class SourceUpdate:
    """What one source's snapshot becomes: new or changed items, and keys that went away."""

    source: str
    kind: str
    items: list[Item]
    removed: list[str]
    suspects: list[Suspicion] = field(default_factory=list)
    """Items held back this run; any other suspect of the source is cleared."""
    refreshed: list[Item] = field(default_factory=list)
    """Items whose text is as stored but whose meta is new (a page's ETag): their latest
    stored version takes the new meta, with no new version."""


@dataclass(frozen=True)
class Subscriber:
    chat_id: int
    categories: list[str]
    """Only changes in these categories are sent to this chat; empty means all."""


@dataclass(frozen=True)
class Delivery:
    """One digest for one chat, as queued in the outbox: the whole message, not yet split."""

    id: int
    digest_id: int
    chat_id: int
    html: str
    parts_sent: int


DeliveryStatus = Literal["sent", "dropped"]
Recipients = Callable[[Digest], Iterable[tuple[int, str]]]
"""Who gets a digest: (chat id, Telegram HTML) pairs."""


@dataclass(frozen=True)
class ArchivedDigest:
    id: int
    created_at: datetime
    kind: str
    headline: str
    text: str
    html: str
    digest: Digest


class Store:
    def __init__(self, connection: sqlite3.Connection):
        self._db = connection

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Open (creating and migrating if needed) the store at `path`; ':memory:' for none."""
        if str(path) != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{path}: cannot create its folder: {exc.strerror}") from None
        try:
            db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=NORMAL")
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the store: {exc}") from None
        if verdict != "ok":
            db.close()
            raise StoreError(f"{path}: the store failed its integrity check ({verdict}); restore "
                             "a copy made with `watcher backup`, or move the file away")
        store = cls(db)
        store._migrate(str(path))
        return store

    def close(self) -> None:
        self._db.close()

    def backup(self, target: Path) -> None:
        """A consistent copy of the whole store, taken while it is in use (SQLite's online
        backup), written to a new file."""
        if target.exists():
            raise StoreError(f"{target}: already exists; choose a new file for the backup")
        try:
            copy = sqlite3.connect(str(target))
            with copy:
                self._db.backup(copy)
            copy.close()
        except sqlite3.Error as exc:
            raise StoreError(f"{target}: cannot write the backup: {exc}") from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _migrate(self, where: str) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{where}: schema version {version} is newer than this watcher "
                             f"knows ({SCHEMA_VERSION}); upgrade the watcher")
        for target in range(version, SCHEMA_VERSION):
            with self._transaction() as db:
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {target + 1}")

    @property
    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    # --- snapshots -------------------------------------------------------------------------

    def is_baselined(self, source: str) -> bool:
        row = self._db.execute("SELECT 1 FROM sources WHERE name = ?", (source,)).fetchone()
        return row is not None

    def last_ok(self, source: str) -> datetime | None:
        """When the source was last read successfully (its snapshot is from then)."""
        row = self._db.execute("SELECT last_ok_at FROM sources WHERE name = ?",
                               (source,)).fetchone()
        return _time(row[0]) if row and row[0] else None

    def current_items(self, source: str) -> dict[str, Item]:
        """The latest version of every item of `source` that is not removed, by key."""
        rows = self._db.execute(
            """
            SELECT s.* FROM snapshots s
            JOIN (SELECT item_key, MAX(version) AS version FROM snapshots
                  WHERE source = ? GROUP BY item_key) latest
              ON s.item_key = latest.item_key AND s.version = latest.version
            WHERE s.source = ? AND s.removed = 0
            ORDER BY s.id
            """,
            (source, source),
        ).fetchall()
        return {row["item_key"]: _item(row) for row in rows}

    def history(self, source: str, item_key: str) -> list[tuple[datetime, Item | None]]:
        """Every stored version of one item, oldest first; None marks a removal."""
        rows = self._db.execute(
            "SELECT * FROM snapshots WHERE source = ? AND item_key = ? ORDER BY version",
            (source, item_key),
        ).fetchall()
        return [(_time(r["seen_at"]), None if r["removed"] else _item(r)) for r in rows]

    # --- runs ------------------------------------------------------------------------------

    def start_run(self, now: datetime) -> int:
        with self._transaction() as db:
            cursor = db.execute("INSERT INTO runs (started_at) VALUES (?)", (_iso(now),))
        return int(cursor.lastrowid)

    def commit_run(self, run_id: int, now: datetime, digest: Digest, headline: str,
                   updates: list[SourceUpdate], facts: Iterable[Fact],
                   render: Callable[[Digest], tuple[str, str]],
                   recipients: Recipients | None = None,
                   fact_cache: Mapping[str, dict[str, Any]] | None = None) -> tuple[str, str]:
        """Advance the snapshots, archive the digest and queue its deliveries in one
        transaction, so a crash can neither lose a digest's news nor send it twice.

        The digest gets its archive id here; `render` turns it into (text, html) once the id
        is known, and `recipients` says who gets which (chat id, html), inside the same
        transaction. The rendering is returned. `fact_cache`, when given, replaces the
        stored one (see classify.cache).
        """
        with self._transaction() as db:
            for update in updates:
                self._advance(db, run_id, now, update)
            if fact_cache is not None:
                db.execute("DELETE FROM fact_cache")
                db.executemany("INSERT INTO fact_cache VALUES (?, ?)",
                               [(key, json.dumps(facts, ensure_ascii=False))
                                for key, facts in fact_cache.items()])
            db.executemany(
                "INSERT INTO facts VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(run_id, f.name, json.dumps(f.value, ensure_ascii=False), f.display, f.source,
                  f.url, f.since) for f in facts],
            )
            for outcome in digest.outcomes:
                self._record_health(db, outcome, now)
                db.execute(
                    "INSERT INTO run_sources VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (run_id, outcome.source, outcome.kind, outcome.status, outcome.items,
                     outcome.error, outcome.url),
                )
            cursor = db.execute(
                "INSERT INTO digests (run_id, created_at, kind, headline, text, html, changes,"
                " outcomes, moves, alerts, roi) VALUES (?, ?, ?, ?, '', '', ?, ?, ?, ?, ?)",
                (run_id, _iso(digest.created_at), digest.kind, headline,
                 _json_list(digest.changes), _json_list(digest.outcomes),
                 _json_list(digest.moves), _json_list(digest.alerts), digest.roi),
            )
            digest.id = int(cursor.lastrowid)
            text, html = render(digest)
            db.execute("UPDATE digests SET text = ?, html = ? WHERE id = ?",
                       (text, html, digest.id))
            if recipients is not None:
                self._queue(db, digest.id, recipients(digest), now)
            status = "failed" if digest.outcomes and len(digest.failed) == len(
                digest.outcomes) else "ok"
            db.execute("UPDATE runs SET finished_at = ?, status = ? WHERE id = ?",
                       (_iso(now), status, run_id))
        return text, html

    def _advance(self, db: sqlite3.Connection, run_id: int, now: datetime,
                 update: SourceUpdate) -> None:
        db.execute(
            "INSERT INTO sources (name, kind, baseline_at, last_ok_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET last_ok_at = excluded.last_ok_at",
            (update.source, update.kind, _iso(now), _iso(now)),
        )
        db.execute("DELETE FROM suspects WHERE source = ?", (update.source,))
        db.executemany(
            "INSERT INTO suspects VALUES (?, ?, ?, ?, ?)",
            [(update.source, s.key, s.fingerprint, s.reason, _iso(now)) for s in update.suspects],
        )
        versions = dict(db.execute(
            "SELECT item_key, MAX(version) FROM snapshots WHERE source = ? GROUP BY item_key",
            (update.source,),
        ).fetchall())
        rows = [(item, 0) for item in update.items]
        rows += [(Item(key, "", "", "", ""), 1) for key in update.removed]
        for item, is_removed in rows:
            db.execute(
                "INSERT INTO snapshots (source, item_key, version, run_id, seen_at, removed,"
                " kind, title, url, text, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (update.source, item.key, versions.get(item.key, 0) + 1, run_id, _iso(now),
                 is_removed, item.kind, item.title, item.url, item.text,
                 json.dumps(item.meta, ensure_ascii=False, default=str)),
            )
        db.executemany(
            "UPDATE snapshots SET meta = ? WHERE source = ? AND item_key = ? AND version = ?",
            [(json.dumps(item.meta, ensure_ascii=False, default=str), update.source, item.key,
              versions[item.key]) for item in update.refreshed if item.key in versions],
        )

    @staticmethod
    def _record_health(db: sqlite3.Connection, outcome: SourceOutcome, now: datetime) -> None:
        if outcome.status == "failed":
            db.execute(
                "INSERT INTO source_health VALUES (?, 1, ?) ON CONFLICT(source) DO UPDATE SET"
                " failures = failures + 1, failing_since = COALESCE(failing_since, ?)",
                (outcome.source, _iso(now), _iso(now)),
            )
        else:
            db.execute("INSERT INTO source_health VALUES (?, 0, NULL) ON CONFLICT(source)"
                       " DO UPDATE SET failures = 0, failing_since = NULL", (outcome.source,))

    def health(self, source: str) -> tuple[int, datetime | None]:
        """How many runs in a row `source` has failed, and since when."""
        row = self._db.execute("SELECT failures, failing_since FROM source_health"
                               " WHERE source = ?", (source,)).fetchone()
        if row is None:
            return 0, None
        return row[0], _time(row[1]) if row[1] else None

    def suspects(self, source: str) -> dict[str, str]:
        """Fingerprints of the items of `source` held back as suspect, by key."""
        rows = self._db.execute("SELECT item_key, fingerprint FROM suspects WHERE source = ?",
                                (source,)).fetchall()
        return dict(rows)

    def last_run(self) -> tuple[int, datetime, datetime | None, str] | None:
        row = self._db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        finished = _time(row["finished_at"]) if row["finished_at"] else None
        return row["id"], _time(row["started_at"]), finished, row["status"]

    # --- the fact sheet ----------------------------------------------------------------------

    def fact_cache(self) -> dict[str, dict[str, Any]]:
        """What the latest run read out of its texts, by key (see classify.cache)."""
        return {key: json.loads(facts)
                for key, facts in self._db.execute("SELECT key, facts FROM fact_cache")}

    def current_facts(self) -> dict[str, Fact]:
        """The sheet of the latest run that stored one, by fact name."""
        rows = self._db.execute(
            "SELECT * FROM facts WHERE run_id = (SELECT MAX(run_id) FROM facts)"
        ).fetchall()
        return {row["name"]: Fact(row["name"], json.loads(row["value"]), row["display"],
                                  row["source"], row["url"], row["since"]) for row in rows}

    # --- subscribers and the delivery outbox ------------------------------------------------

    def subscribe(self, chat_id: int, categories: list[str], now: datetime) -> None:
        """Add a chat, or set the categories of one already subscribed."""
        self._db.execute(
            "INSERT INTO subscribers (chat_id, categories, added_at) VALUES (?, ?, ?)"
            " ON CONFLICT(chat_id) DO UPDATE SET categories = excluded.categories",
            (chat_id, json.dumps(categories), _iso(now)),
        )

    def unsubscribe(self, chat_id: int) -> bool:
        """Remove a chat; False if it was not subscribed."""
        cursor = self._db.execute("DELETE FROM subscribers WHERE chat_id = ?", (chat_id,))
        return cursor.rowcount > 0

    def subscribers(self) -> list[Subscriber]:
        rows = self._db.execute("SELECT * FROM subscribers ORDER BY added_at, chat_id").fetchall()
        return [Subscriber(row["chat_id"], json.loads(row["categories"])) for row in rows]

    def queue(self, digest_id: int, messages: Iterable[tuple[int, str]], now: datetime) -> None:
        """Record each (chat id, html) as pending; a chat that has this digest queued keeps it."""
        with self._transaction() as db:
            self._queue(db, digest_id, messages, now)

    @staticmethod
    def _queue(db: sqlite3.Connection, digest_id: int, messages: Iterable[tuple[int, str]],
               now: datetime) -> None:
        db.executemany(
            "INSERT OR IGNORE INTO outbox (digest_id, chat_id, html, queued_at)"
            " VALUES (?, ?, ?, ?)",
            [(digest_id, chat_id, html, _iso(now)) for chat_id, html in messages],
        )

    def pending(self) -> list[Delivery]:
        """Deliveries not yet finished, oldest first."""
        rows = self._db.execute(
            "SELECT id, digest_id, chat_id, html, parts_sent FROM outbox"
            " WHERE status = 'pending' ORDER BY id"
        ).fetchall()
        return [Delivery(**dict(row)) for row in rows]

    def record_parts_sent(self, delivery_id: int, parts_sent: int) -> None:
        self._db.execute("UPDATE outbox SET parts_sent = ? WHERE id = ?",
                         (parts_sent, delivery_id))

    def finish_delivery(self, delivery_id: int, status: DeliveryStatus, now: datetime,
                        error: str | None = None) -> None:
        self._db.execute(
            "UPDATE outbox SET status = ?, error = ?, finished_at = ? WHERE id = ?",
            (status, error, _iso(now), delivery_id),
        )

    def fact_history(self) -> list[Fact]:
        """Every value each fact has had, oldest first: one Fact per (name, since)."""
        rows = self._db.execute(
            "SELECT name, value, display, source, url, since FROM facts"
            " WHERE rowid IN (SELECT MIN(rowid) FROM facts GROUP BY name, since)"
            " ORDER BY since, name"
        ).fetchall()
        return [Fact(row["name"], json.loads(row["value"]), row["display"], row["source"],
                     row["url"], row["since"]) for row in rows]

    # --- the digest archive ----------------------------------------------------------------

    def digests(self, limit: int = 10) -> list[ArchivedDigest]:
        rows = self._db.execute(
            "SELECT * FROM digests ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [_archived(row) for row in rows]

    def digest(self, digest_id: int) -> ArchivedDigest | None:
        row = self._db.execute("SELECT * FROM digests WHERE id = ?", (digest_id,)).fetchone()
        return _archived(row) if row else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _json_list(records: Iterable[Change | SourceOutcome | FactMove | Alert]) -> str:
    return json.dumps([r.to_dict() for r in records], ensure_ascii=False)


def _item(row: sqlite3.Row) -> Item:
    return Item(key=row["item_key"], kind=row["kind"], title=row["title"], url=row["url"],
                text=row["text"], meta=json.loads(row["meta"]))


def _archived(row: sqlite3.Row) -> ArchivedDigest:
    digest = Digest(
        kind=row["kind"],
        created_at=_time(row["created_at"]),
        changes=[Change.from_dict(c) for c in json.loads(row["changes"])],
        outcomes=[SourceOutcome.from_dict(o) for o in json.loads(row["outcomes"])],
        id=row["id"],
        moves=[FactMove.from_dict(m) for m in json.loads(row["moves"])],
        alerts=[Alert.from_dict(a) for a in json.loads(row["alerts"])],
        roi=row["roi"],
    )
    return ArchivedDigest(id=row["id"], created_at=digest.created_at, kind=row["kind"],
                          headline=row["headline"], text=row["text"], html=row["html"],
                          digest=digest)
