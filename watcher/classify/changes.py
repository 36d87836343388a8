"""Give every Change its categories and hardware direction.

A page edit is judged on the whole section it sits in, before and after, so a list label
("Tested:") a few lines above the edited line still counts.
"""

from __future__ import annotations

from collections.abc import Mapping

from watcher.classify.judge import Verdict, judge_change, judge_text
from watcher.classify.rules import Rules
from watcher.diff import section_text
from watcher.models import Change, Item


def classify(changes: list[Change], previous: Mapping[str, Item], current: Mapping[str, Item],
             rules: Rules) -> None:
    """Fill in `categories` and `hardware_direction` of each change, in place."""
    for change in changes:
        verdict = _verdict(change, previous.get(change.item_key), current.get(change.item_key),
                           rules)
        change.categories = verdict.categories
        change.hardware_direction = verdict.hardware_direction


def _verdict(change: Change, old: Item | None, new: Item | None, rules: Rules) -> Verdict:
    kind = change.item_kind
    if change.section is not None and old is not None and new is not None:
        return judge_change(section_text(old.text, change.section),
                            section_text(new.text, change.section), rules, item_kind=kind)
    if change.kind == "added":
        return judge_text(change.after or "", rules, item_kind=kind)
    return judge_change(change.before or "", change.after or "", rules, item_kind=kind)
