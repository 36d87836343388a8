"""Give every Change its categories and hardware direction.

A page edit is judged on the whole section it sits in, before and after, so a list label
("Tested:") a few lines above the edited line still counts.
"""

from __future__ import annotations

from collections.abc import Mapping

from watcher import diff
from watcher.classify.facts import FactReader
from watcher.classify.judge import Verdict, combined, judge_change, judge_text
from watcher.classify.rules import CATEGORIES, Rules
from watcher.diff import sections
from watcher.models import Change, Fetched, Item


def classify(changes: list[Change], previous: Mapping[str, Item], current: Mapping[str, Item],
             rules: Rules) -> None:
    """Fill in `categories` and `hardware_direction` of each change, in place."""
    pages: dict[tuple[str, str], dict[str | None, str]] = {}  # a page split once, not per edit

    def section(which: str, item: Item, heading: str) -> str:
        if (which, item.key) not in pages:
            pages[which, item.key] = sections(item.text)
        return pages[which, item.key].get(heading, "")

    for change in changes:
        old, new = previous.get(change.item_key), current.get(change.item_key)
        if change.section is not None and old is not None and new is not None:
            verdict = judge_change(section("old", old, change.section),
                                   section("new", new, change.section), rules,
                                   item_kind=change.item_kind)
        else:
            verdict = _whole(change, rules)
        change.categories = verdict.categories
        change.hardware_direction = verdict.hardware_direction


def _whole(change: Change, rules: Rules) -> Verdict:
    kind = change.item_kind
    if change.kind == "added":
        return judge_text(change.after or "", rules, item_kind=kind)
    return judge_change(change.before or "", change.after or "", rules, item_kind=kind)


def judge_versions(before: str, after: str, rules: Rules, item_kind: str = "page") -> Verdict:
    """Two whole versions of an item, judged the way the pipeline judges them: section by
    section, then joined (all categories; the direction when the sections agree)."""
    old, new = (Item("item", item_kind, "", "", text) for text in (before, after))
    changes = diff.changes("", diff.compare({"item": old}, Fetched([new])))
    classify(changes, {"item": old}, {"item": new}, rules)
    found = {name for change in changes for name in change.categories}
    if len(found) > 1:
        found.discard("other")
    reader = FactReader(rules)
    old_facts, new_facts = reader.extract(before), reader.extract(after)
    moved = {name: (old_facts.get(name), new_facts.get(name))
             for name in {*old_facts, *new_facts} if old_facts.get(name) != new_facts.get(name)}
    return Verdict(
        categories=[name for name in CATEGORIES if name in found] or ["other"],
        hardware_direction=combined(c.hardware_direction for c in changes),
        facts=new_facts,
        moved=moved,
    )
