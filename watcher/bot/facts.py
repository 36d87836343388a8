"""/facts: the fact sheet watcher.classify keeps in the store, as Telegram HTML.

The one seam between the bot and the fact sheet: the command shows whatever this returns, and
says the sheet is not available yet when it returns None.
"""

from __future__ import annotations

from html import escape

from watcher.classify.facts import LABELS
from watcher.i18n import ENGLISH, Translator
from watcher.models import Fact
from watcher.store import Store


def fact_sheet(store: Store, t: Translator = ENGLISH) -> str | None:
    facts = store.current_facts()
    if not facts:
        return None
    return (f"<b>{t('Fact sheet')}</b>\n"
            + "\n".join(_line(fact, t) for fact in facts.values()))


def _line(fact: Fact, t: Translator) -> str:
    where = f', <a href="{escape(fact.url)}">{t("source")}</a>' if fact.url else ""
    since = t("(since {date}{where})", date=fact.since[:10], where=where)
    return f"<b>{escape(t(LABELS[fact.name]))}</b>: {escape(fact.display)} {since}"
