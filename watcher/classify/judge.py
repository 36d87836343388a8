"""What a text or a change is about (categories) and which way the hardware bar moved.

For a change between two versions, the direction comes first from the hardware facts that moved
(a lower minimum kernel is relaxed, a GPU dropped from the list is tightened); only when none
moved do phrases in the new text decide ("now supported", "no longer supported").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from watcher.classify.facts import (
    FACT_CATEGORY,
    HARDWARE_FACTS,
    FactReader,
    extract,
    version_key,
)
from watcher.classify.rules import CATEGORIES, Rules
from watcher.classify.screen import fold

RELAXED, TIGHTENED = "relaxed", "tightened"


@dataclass
class Verdict:
    categories: list[str]
    hardware_direction: str | None
    facts: dict[str, Any]
    moved: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "categories": self.categories,
            "hardware_direction": self.hardware_direction,
            "facts": self.facts,
        }
        if self.moved:
            result["moved"] = {name: {"before": b, "after": a}
                               for name, (b, a) in self.moved.items()}
        return result


def judge_text(text: str, rules: Rules, section: str = "", item_kind: str = "") -> Verdict:
    """One item's text: a post, a commit message, release notes, a page."""
    facts = extract(_with_heading(text, section), rules)
    categories = categories_of(text, section, item_kind, rules)
    direction = _cue_direction(text, rules) if "hardware" in categories else None
    return Verdict(categories, direction, facts)


def judge_change(before: str, after: str, rules: Rules, section: str = "",
                 item_kind: str = "") -> Verdict:
    """The change between two versions of an item or of a page section."""
    reader = FactReader(rules)  # the two versions share most sentences: each is read once
    old = reader.extract(_with_heading(before, section))
    new = reader.extract(_with_heading(after, section))
    moved = {name: (old.get(name), new.get(name))
             for name in {*old, *new} if old.get(name) != new.get(name)}
    removed, added = _changed_lines(before, after)
    changed_text = "\n".join([*removed, *added])
    categories = categories_of(changed_text, section, item_kind, rules,
                               extra={FACT_CATEGORY[name] for name in moved})
    direction = None
    if "hardware" in categories:
        direction = combined(fact_direction(name, b, a, rules) for name, (b, a) in moved.items())
        if direction is None and not any(name in HARDWARE_FACTS for name in moved):
            direction = (_cue_direction("\n".join(added), rules)
                         or _requirement_direction(removed, added, rules))
    return Verdict(categories, direction, new, moved)


def categories_of(text: str, section: str, item_kind: str, rules: Rules,
                  extra: set[str] | None = None) -> list[str]:
    if rules.any_category.get("other") and rules.any_category["other"].fullmatch(text.strip()):
        return ["other"]
    found = set(extra or ()) | set(rules.item_kinds.get(item_kind, []))
    folded = fold(text)
    for name, screen in rules.category_screens.items():
        if name == "other":
            continue
        if screen.search(text, folded) or (section and screen.search(section)):
            found.add(name)
    # a GPU family, a TEE or a model name the team added is enough on its own
    if rules.gpu_screen.search(text, folded) or rules.tee_screen.search(text, folded):
        found.add("hardware")
    if rules.model_screen.search(text, folded):
        found.add("models")
    return [name for name in CATEGORIES if name in found] or ["other"]


def fact_direction(name: str, before: Any, after: Any, rules: Rules) -> str | None:
    """Which way a hardware fact moved; None for other facts or when it cannot be told."""
    if name not in HARDWARE_FACTS or before == after:
        return None
    if name in ("supported_gpus", "tested_gpus", "cpu_tees"):
        if before is None or after is None:
            return None  # a list newly stated, or no longer stated here, says nothing of a move
        old, new = set(before), set(after)
        return RELAXED if new > old else TIGHTENED if new < old else None
    if name in ("vbios_required",):
        return TIGHTENED if after else RELAXED
    if name == "consumer_gpus":
        return RELAXED if after else TIGHTENED
    if before is None or after is None:
        # a minimum or a limit newly stated raises the bar; one no longer stated lowers it
        return TIGHTENED if before is None else RELAXED
    if name == "gpus_per_guest":
        return _order(_guest_count(before), _guest_count(after), higher_is_relaxed=True)
    if name == "min_gpu":
        ranks = {family.name: family.rank for family in rules.gpus}
        return _order(ranks.get(before, 0), ranks.get(after, 0), higher_is_relaxed=False)
    return _order(version_key(before), version_key(after), higher_is_relaxed=False)


def combined(directions) -> str | None:
    found = {d for d in directions if d is not None}
    return found.pop() if len(found) == 1 else None


def _order(old: Any, new: Any, higher_is_relaxed: bool) -> str | None:
    if old == new:
        return None
    return RELAXED if (new > old) == higher_is_relaxed else TIGHTENED


def _guest_count(value: Any) -> int:
    return 2 if value == "multiple" else int(value)


def _cue_direction(text: str, rules: Rules) -> str | None:
    """Phrases that announce a move, in sentences that are not mere promises."""
    found = set()
    for sentence in re.split(r"(?<=[.;!?])\s+|\n", text):
        folded = fold(sentence)
        if rules.tightened_screen.search(sentence, folded):
            found.add(TIGHTENED)  # an announced new requirement is news even before it applies
        elif rules.relaxed_screen.search(sentence, folded) and not rules.future_screen.search(
                sentence, folded):
            found.add(RELAXED)  # a promise to relax ("will be lifted") is not a change
    return combined(found)


def _requirement_direction(removed: list[str], added: list[str], rules: Rules) -> str | None:
    """A requirement phrase only the new lines have is a new requirement; only the old, one gone."""
    def requires(lines: list[str]) -> bool:
        return any(rules.requirement_screen.search(line) and not rules.future_screen.search(line)
                   for line in lines)

    before, after = requires(removed), requires(added)
    return None if before == after else TIGHTENED if after else RELAXED


def _with_heading(text: str, section: str) -> str:
    return f"# {section}\n{text}" if section else text


def _changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    old, new = before.split("\n"), after.split("\n")
    old_set, new_set = set(old), set(new)
    removed = [line for line in old if line not in new_set]
    return removed, [line for line in new if line not in old_set]
