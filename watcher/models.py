"""Records that cross module borders: source items, changes, outcomes and digests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

ChangeKind = Literal["added", "removed", "modified"]
DigestKind = Literal["baseline", "changes", "no_changes"]
OutcomeStatus = Literal["ok", "baseline", "failed"]


@dataclass(frozen=True)
class Item:
    """One tracked thing of a source: a post, a commit, a release, a tag, a page, an artifact.

    The diff compares `text` only; `meta` carries what a reader may want (dates, flags) but
    what must never by itself count as a change.
    """

    key: str
    kind: str
    title: str
    url: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class Fetched:
    """What one source returned in one run.

    `covers` says which stored items this fetch speaks for; None means all of them (the fetch is
    complete). A stored item that is not covered is carried forward unchanged, so a paginated
    source that stopped early never reports the posts it did not reach as removed.
    """

    items: list[Item]
    covers: Callable[[Item], bool] | None = None

    def speaks_for(self, item: Item) -> bool:
        return self.covers is None or self.covers(item)


@dataclass
class Change:
    """One thing that moved in one item, with the section of the page it sits under."""

    source: str
    item_key: str
    item_kind: str
    kind: ChangeKind
    title: str
    url: str
    section: str | None = None
    before: str | None = None
    after: str | None = None
    categories: list[str] = field(default_factory=list)
    hardware_direction: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        return cls(**data)


@dataclass
class SourceOutcome:
    """How one source fared in one run."""

    source: str
    kind: str
    status: OutcomeStatus
    items: int = 0
    error: str | None = None
    url: str | None = None
    last_ok: str | None = None
    """For a failed source: when its kept snapshot was read (ISO 8601), None if never."""
    held: list[str] = field(default_factory=list)
    """Items held back as suspect this run, each as "title: reason"."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SourceOutcome:
        return cls(**data)


@dataclass
class Fact:
    """One entry of the fact sheet: a value the team decides on, and where it was read."""

    name: str
    value: Any
    display: str
    source: str
    url: str
    since: str
    """ISO 8601 time of the run that first saw this value."""


@dataclass
class FactMove:
    """A fact whose value moved between two runs: one headline of the digest."""

    name: str
    label: str
    category: str
    before: str | None
    after: str | None
    direction: str | None = None
    note: str | None = None
    url: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FactMove:
        return cls(**data)


@dataclass
class Alert:
    """A source that has failed `failures` runs in a row (kind "failing"), or is back after
    such a streak ("recovered"). Each is said once, in the digest of the run it happens."""

    source: str
    kind: Literal["failing", "recovered"]
    failures: int
    since: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        return cls(**data)


@dataclass
class Digest:
    """The result of one check, as stored in the archive and rendered for people."""

    kind: DigestKind
    created_at: datetime
    changes: list[Change]
    outcomes: list[SourceOutcome]
    id: int | None = None
    moves: list[FactMove] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    roi: str | None = None
    """The ROI desk's line for a week in which a pricing fact moved: the rate the worker fee
    implies and the base scenario's payback (watcher.roi.digest_line)."""

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def baselined(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.status == "baseline"]
