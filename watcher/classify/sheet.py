"""The fact sheet: every fact the watched sources state, and which ones moved since last run.

The root contract's state, read off the chain, is the authority; then docs pages, then release
notes, then channel posts: a fact stated by a page wins over the same fact in a post. Within
one kind, lists are joined and the last statement of a single value wins (posts come oldest
first, so the newest post wins).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from watcher.classify.cache import FactCache
from watcher.classify.facts import (
    CHAIN_FACTS,
    DELAY_FACTS,
    FACT_CATEGORY,
    HASH_FACTS,
    LABELS,
    MEMBER_FACTS,
    MULTIPLIER_FACTS,
    SUPERSEDED,
)
from watcher.classify.judge import fact_direction
from watcher.classify.rules import Rules
from watcher.models import Fact, FactMove, Item

CHAIN_KINDS = ("chain_price", "chain_param", "chain_code", "chain_owner", "chain_model",
               "chain_worker_image", "chain_proxy_image", "chain_proxy")
"""Item kinds of the root contract source: facts read off the chain, not off text."""
AUTHORITY = {"post": 1, "artifact": 2, "release": 2, "page": 3, **dict.fromkeys(CHAIN_KINDS, 4)}
MEMBERS_SHOWN = 5  # a set of hashes or proxies shows this many members, then a count
NO_PERCENT = DELAY_FACTS | {"params_version", "params_struct_version", "contract_unique_id"}
"""Numbers whose move a percentage would not help read ("1 day → 3 days" says it)."""


@dataclass
class _Statement:
    rank: int
    value: Any
    source: str
    url: str


def build(items: Iterable[tuple[str, Item]], rules: Rules, now: str,
          previous: Mapping[str, Fact], cache: FactCache | None = None) -> dict[str, Fact]:
    """The sheet stated by `items` (source name, item); `since` carries over unmoved facts.
    Texts are read through `cache` (by default one that starts empty)."""
    cache = FactCache(rules) if cache is None else cache
    stated: dict[str, _Statement] = {}
    ranked = sorted(((AUTHORITY[i.kind], s, i) for s, i in items if i.kind in AUTHORITY),
                    key=lambda entry: entry[0])
    for rank, source, item in ranked:
        for name, value in _item_facts(item, cache).items():
            _state(stated, name, _Statement(rank, value, source, item.url))
    for loose, exact in SUPERSEDED.items():
        if any(name in stated for name in exact):
            stated.pop(loose, None)
    sheet = {}
    for name in LABELS:
        if name not in stated:
            continue
        statement = stated[name]
        old = previous.get(name)
        since = old.since if old is not None and old.value == statement.value else now
        sheet[name] = Fact(name, statement.value, display(name, statement.value),
                           statement.source, statement.url, since)
    return sheet


def read_ahead(items: Iterable[Item], cache: FactCache) -> None:
    """Read the facts of `items` into `cache` now, while other sources are still being
    fetched, so that `build` finds them read."""
    for item in items:
        if item.kind in AUTHORITY:
            _item_facts(item, cache)


def _item_facts(item: Item, cache: FactCache) -> dict[str, Any]:
    if item.kind == "artifact":
        built = item.meta.get("last_modified") or item.meta.get("etag")
        return {"worker_build": built} if built else {}
    if item.kind in CHAIN_KINDS:
        return _chain_facts(item.meta)
    facts = cache.facts(item.text)
    if item.kind == "release" and item.meta.get("tag"):
        date = str(item.meta.get("published_at") or "")[:10]
        facts["worker_release"] = f"{item.meta['tag']} ({date})" if date else item.meta["tag"]
    return facts


def _chain_facts(meta: dict[str, Any]) -> dict[str, Any]:
    """The fact one root contract item states: amounts in TON, delays in seconds, a set member
    as a one-member list (the members of one rank are joined)."""
    name, value, unit = CHAIN_FACTS.get(meta.get("field", "")), meta.get("value"), meta.get("unit")
    if name is None or value is None:
        return {}
    if unit == "nanoton":
        return {name: {"amount": round(value / 1e9, 12), "unit": "TON"}}
    if unit == "member":
        return {name: [value]}
    return {name: value}


def _state(stated: dict[str, _Statement], name: str, new: _Statement) -> None:
    current = stated.get(name)
    if current is not None and current.rank == new.rank and isinstance(new.value, list):
        new.value = sorted(set(current.value) | set(new.value))
    if current is None or new.rank >= current.rank:
        stated[name] = new


def moves(previous: Mapping[str, Fact], current: Mapping[str, Fact],
          rules: Rules) -> list[FactMove]:
    """Facts whose value moved, in sheet order. A first sheet is a baseline: nothing moved."""
    if not previous:
        return []
    result = []
    for name, label in LABELS.items():
        old, new = previous.get(name), current.get(name)
        before = old.value if old else None
        after = new.value if new else None
        if before == after:
            continue
        result.append(FactMove(
            name=name, label=label, category=FACT_CATEGORY[name],
            before=old.display if old else None, after=new.display if new else None,
            direction=fact_direction(name, before, after, rules),
            note=_note(name, before, after), url=(new or old).url,
        ))
    return result


def display(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name in MEMBER_FACTS:
        return members(value)
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, dict):
        return money(value)
    if name in DELAY_FACTS:
        return duration(value)
    if name in MULTIPLIER_FACTS:
        return f"{value / 10000:g}x"
    if name in HASH_FACTS:
        return short_hash(value)
    return str(value)


def members(values: list[str]) -> str:
    """"3: 1a2b3c4d5e6f…, 9f8e7d6c5b4a…, 10.0.0.1:8888"; a long set ends with "+N more"."""
    shown = [short_hash(v) for v in values[:MEMBERS_SHOWN]]
    more = len(values) - len(shown)
    return f"{len(values)}: " + ", ".join(shown) + (f", +{more} more" if more else "")


def short_hash(value: str) -> str:
    """A 256-bit hex hash cut to its first 12 digits; anything else as it is."""
    is_hash = len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    return f"{value[:12]}…" if is_hash else value


def money(amount: dict[str, Any]) -> str:
    number, unit = amount["amount"], amount["unit"]
    text = f"{number:.9f}".rstrip("0").rstrip(".")
    if unit == "%":
        return f"{text}%"
    return f"${text}" if unit == "USD" else f"{text} {unit}"


def duration(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}" + ("s" if count != 1 else "")
    return f"{seconds} s"


def _note(name: str, before: Any, after: Any) -> str | None:
    if name in MEMBER_FACTS:
        return _members_moved(before, after)
    return None if name in NO_PERCENT else _percent(before, after)


def _members_moved(before: Any, after: Any) -> str | None:
    """How a set moved, e.g. "2 added, 1 removed" (a set no longer stated is empty)."""
    old, new = set(before or ()), set(after or ())
    parts = [f"{len(found)} {verb}" for found, verb in ((new - old, "added"),
                                                       (old - new, "removed")) if found]
    return ", ".join(parts) or None


def _percent(before: Any, after: Any) -> str | None:
    """How much an amount or a number moved, e.g. "+25%"."""
    if isinstance(before, dict) and isinstance(after, dict) and before["unit"] == after["unit"]:
        before, after = before["amount"], after["amount"]
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (before, after))
    if not numbers or not before:
        return None
    return f"{(after - before) / before * 100:+.0f}%"


def facts_table(facts: Iterable[Fact]) -> str:
    """The sheet for people: label, value, since when, where it was read."""
    facts = list(facts)
    if not facts:
        return "No facts yet: run `watcher check` first."
    width = max(len(LABELS[f.name]) for f in facts)
    return "\n".join(f"{LABELS[f.name]:<{width}}  {f.display}  (since {f.since[:10]}, {f.url})"
                     for f in facts)
