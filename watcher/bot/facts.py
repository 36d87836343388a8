"""/facts: the fact sheet watcher.classify keeps in the store, as Telegram HTML.

The one seam between the bot and the fact sheet: the command shows whatever this returns, and
says the sheet is not available yet when it returns None.
"""

from __future__ import annotations

from html import escape

from watcher.classify.facts import LABELS
from watcher.models import Fact
from watcher.store import Store


def fact_sheet(store: Store) -> str | None:
    facts = store.current_facts()
    if not facts:
        return None
    return "<b>Fact sheet</b>\n" + "\n".join(_line(fact) for fact in facts.values())


def _line(fact: Fact) -> str:
    where = f', <a href="{escape(fact.url)}">source</a>' if fact.url else ""
    return (f"<b>{escape(LABELS[fact.name])}</b>: {escape(fact.display)} "
            f"(since {fact.since[:10]}{where})")
