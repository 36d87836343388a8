"""Write the archive: an index (newest first, with a page per category as the filter), one page
per digest, the fact history and the Atom feed. Every value is escaped by the templates."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from watcher import classify, digest
from watcher.archive.feed import atom
from watcher.classify.facts import LABELS
from watcher.classify.rules import CATEGORIES
from watcher.i18n import ENGLISH, N_, Translator
from watcher.models import Digest, Fact
from watcher.store import ArchivedDigest, Store

SITE_TITLE = N_("COCOON watch")


@dataclass(frozen=True)
class Entry:
    """One digest as the index shows it."""

    id: int
    date: str
    headline: str
    categories: list[str]
    moves: list[dict[str, str | None]]


def export(store: Store, folder: Path, public_url: str = "", excerpt_chars: int = 300,
           t: Translator = ENGLISH) -> int:
    """Write the whole site into `folder` (replaced, so a digest gone is a page gone), in the
    language of `t` whatever the language of the runs; return the number of digests written."""
    archived = [replace(a, headline=digest.headline(a.digest, t),
                        text=digest.render_text(a.digest, excerpt_chars, t))
                for a in store.digests(limit=1_000_000)]
    entries = [_entry(a, t) for a in archived]
    staging = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "digest").mkdir(parents=True)
    (staging / "category").mkdir()
    pages = _Pages(_environment(), t)
    pages.write(staging / "index.html", "index.html", root="", entries=entries, category=None)
    for name in CATEGORIES:
        chosen = [e for e in entries if name in e.categories]
        pages.write(staging / "category" / f"{name}.html", "index.html", root="../",
                    entries=chosen, category=name)
    for index, item in enumerate(archived):
        newer = archived[index - 1].id if index > 0 else None
        older = archived[index + 1].id if index + 1 < len(archived) else None
        pages.write(staging / "digest" / f"{item.id}.html", "digest.html", root="../",
                    entry=entries[index], newer=newer, older=older,
                    title=item.text.split("\n", 1)[0],
                    sections=digest.sections(item.digest, excerpt_chars, t))
    pages.write(staging / "facts.html", "facts.html", root="",
                timelines=_timelines(store.fact_history(), t))
    (staging / "feed.xml").write_bytes(atom(archived, public_url, t(SITE_TITLE)))
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return len(archived)


class _Pages:
    def __init__(self, environment: Environment, t: Translator):
        self._environment, self._t = environment, t

    def write(self, path: Path, template: str, **values: object) -> None:
        t = self._t
        html = self._environment.get_template(template).render(
            site_title=t(SITE_TITLE), lang=t.language, t=t, categories=CATEGORIES,
            category_titles={name: digest.category_title(name, t) for name in CATEGORIES},
            **values)
        path.write_text(html, encoding="utf-8")


def _environment() -> Environment:
    return Environment(loader=PackageLoader("watcher.archive", "templates"),
                       autoescape=select_autoescape(["html", "xml"]), trim_blocks=True,
                       lstrip_blocks=True)


def _entry(archived: ArchivedDigest, t: Translator) -> Entry:
    found = archived.digest
    return Entry(
        id=archived.id,
        date=archived.created_at.strftime("%Y-%m-%d"),
        headline=archived.headline,
        categories=_categories(found),
        moves=[{"text": digest.move_text(m, t), "direction": m.direction} for m in found.moves],
    )


def _categories(found: Digest) -> list[str]:
    present = {name for c in found.changes for name in (c.categories or ["other"])}
    present |= {m.category for m in found.moves}
    return [name for name in CATEGORIES if name in present]


@dataclass(frozen=True)
class _Step:
    date: str
    before: str | None
    value: str
    direction: str | None
    url: str


def _timelines(history: list[Fact], t: Translator) -> list[dict[str, object]]:
    """Each fact's values in time order, with the hardware direction of every move."""
    rules = classify.load()
    by_name: dict[str, list[Fact]] = {}
    for fact in history:
        by_name.setdefault(fact.name, []).append(fact)
    timelines = []
    for name, label in LABELS.items():
        facts = by_name.get(name, [])
        steps = [_Step(f.since[:10], prev.display if prev else None, f.display,
                       classify.fact_direction(name, prev.value, f.value, rules) if prev else None,
                       f.url)
                 for prev, f in zip([None, *facts], facts, strict=False)]
        if steps:
            timelines.append({"name": name, "label": t(label), "steps": steps})
    return timelines
