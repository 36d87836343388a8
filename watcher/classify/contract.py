"""The evaluation interface behind `watcher classify`: a stable contract, kept as it is.

Input records are `{"id", "source", "text"}` or `{"id", "source", "before", "after"}` (an
optional "section" gives a page excerpt its heading). Every answer has "categories",
"hardware_direction" and "facts" ("moved" too for a change, "id" in batch mode).
"""

from __future__ import annotations

from typing import Any

from watcher.classify.changes import judge_versions
from watcher.classify.judge import Verdict, judge_change, judge_text
from watcher.classify.rules import Rules
from watcher.sources.page_text import page_text

ITEM_KINDS = {"telegram": "post", "github": "commit", "docs": "page"}


class BadInput(ValueError):
    """A record or a file that cannot be classified; the message says which and why."""


def as_text(raw: str) -> str:
    """Pages may come as HTML: judge what a reader sees, as the pipeline does."""
    return page_text(raw) if raw.lstrip().startswith("<") else raw


def judge_one(text: str, rules: Rules, source: str = "docs", section: str = "") -> Verdict:
    return judge_text(as_text(text), rules, section=section, item_kind=ITEM_KINDS[source])


def judge_pair(before: str, after: str, rules: Rules, source: str = "docs",
               section: str = "") -> Verdict:
    old, new = as_text(before), as_text(after)
    if section:
        return judge_change(old, new, rules, section=section, item_kind=ITEM_KINDS[source])
    return judge_versions(old, new, rules, item_kind=ITEM_KINDS[source])


def judge_record(record: Any, rules: Rules) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise BadInput("each line must be a JSON object")
    source = record.get("source", "docs")
    if source not in ITEM_KINDS:
        raise BadInput(f"source {source!r} is not one of {', '.join(ITEM_KINDS)}")
    section = _string(record, "section", required=False)
    if "text" in record:
        verdict = judge_one(_string(record, "text"), rules, source, section)
    elif "before" in record or "after" in record:
        verdict = judge_pair(_string(record, "before"), _string(record, "after"), rules, source,
                             section)
    else:
        raise BadInput('a record needs "text", or "before" and "after"')
    return {"id": record.get("id"), **verdict.to_dict()}


def _string(record: dict[str, Any], key: str, required: bool = True) -> str:
    value = record.get(key, None if required else "")
    if not isinstance(value, str):
        raise BadInput(f'"{key}" must be a string')
    return value
