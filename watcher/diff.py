"""Previous vs current items of one source -> what changed.

Posts, commits, releases and artifacts are compared whole. Pages are compared line by line,
each change carrying the heading it sits under, so a digest can say which section moved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from watcher.models import Change, Fetched, Item

LINE_DIFFED_KINDS = frozenset({"page"})


@dataclass
class SourceDiff:
    added: list[Item] = field(default_factory=list)
    modified: list[tuple[Item, Item]] = field(default_factory=list)
    removed: list[Item] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.modified or self.removed)


def compare(previous: Mapping[str, Item], fetched: Fetched) -> SourceDiff:
    """Items added, modified (old, new) and removed, in the order the source gave them."""
    result = SourceDiff()
    seen: set[str] = set()
    for item in fetched.items:
        if item.key in seen:
            continue  # a source that repeats a key must not report it twice
        seen.add(item.key)
        old = previous.get(item.key)
        if old is None:
            result.added.append(item)
        elif old.text != item.text:
            result.modified.append((old, item))
    result.removed = [
        old for key, old in previous.items() if key not in seen and fetched.speaks_for(old)
    ]
    return result


def changes(source: str, diff: SourceDiff) -> list[Change]:
    """Turn a SourceDiff into Change records, page edits split by section."""
    result = [_whole(source, item, "added", None, item.text) for item in diff.added]
    for old, new in diff.modified:
        if new.kind in LINE_DIFFED_KINDS:
            result.extend(_page_changes(source, old, new))
        else:
            result.append(_whole(source, new, "modified", old.text, new.text))
    result += [_whole(source, item, "removed", item.text, None) for item in diff.removed]
    return result


def _whole(source: str, item: Item, kind: str, before: str | None,
           after: str | None) -> Change:
    return Change(source=source, item_key=item.key, item_kind=item.kind, kind=kind,
                  title=item.title, url=item.url, before=before, after=after)


def _page_changes(source: str, old: Item, new: Item) -> list[Change]:
    """One Change per section with edits; the section is the nearest heading above the edit."""
    a, b = old.text.split("\n"), new.text.split("\n")
    headings_a, headings_b = _headings(a), _headings(b)
    by_section: dict[str | None, tuple[list[str], list[str]]] = {}
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        section = headings_b[j1] if j2 > j1 else headings_a[i1]
        if section is None and i2 > i1:
            section = headings_a[i1]
        removed, added = by_section.setdefault(section, ([], []))
        removed.extend(a[i1:i2])
        added.extend(b[j1:j2])
    result = []
    for section, (removed, added) in by_section.items():
        kind = "modified" if removed and added else ("added" if added else "removed")
        result.append(Change(
            source=source, item_key=new.key, item_kind=new.kind, kind=kind, title=new.title,
            url=new.url, section=section,
            before="\n".join(removed) or None, after="\n".join(added) or None,
        ))
    return result


def sections(text: str) -> dict[str | None, str]:
    """A page's lines grouped by the heading that governs them (each heading with its lines)."""
    lines = text.split("\n")
    grouped: dict[str | None, list[str]] = {}
    for line, heading in zip(lines, _headings(lines), strict=False):
        grouped.setdefault(heading, []).append(line)
    return {heading: "\n".join(group) for heading, group in grouped.items()}


def _headings(lines: list[str]) -> list[str | None]:
    """For each line, the heading that governs it (a heading governs itself)."""
    current: str | None = None
    result: list[str | None] = []
    for line in lines:
        if line.startswith("#"):
            current = line.lstrip("#").strip() or current
        result.append(current)
    result.append(current)  # so an insertion at the end has a section too
    return result
