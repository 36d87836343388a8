"""Content that looks like an outage, not like news: held back instead of stored.

A page that comes back empty, much shorter than before, or as a challenge, captcha, login or
maintenance page is "suspect": its last good copy stays the baseline and the digest reports a
fetch problem. If the very same content is seen on the next run, it is real and accepted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from watcher.models import Item

BLOCKED_PAGE = re.compile(
    r"\b(?:captcha|checking your browser|just a moment\.\.\.|attention required|"
    r"access denied|enable javascript and cookies|ddos protection|"
    r"(?:under|scheduled) maintenance|temporarily unavailable|service unavailable|"
    r"(?:log|sign) in to (?:continue|view)|please (?:log|sign) in|verify you are (?:a )?human|"
    r"too many requests|rate limit(?:ed)?|bad gateway|gateway time-?out)\b",
    re.IGNORECASE,
)
SHORT = 40  # characters: less than this where there used to be a real page is "empty"
GUARDED_KINDS = frozenset({"page"})  # a post or a release may well be edited down; a page not


@dataclass(frozen=True)
class Suspicion:
    key: str
    reason: str
    fingerprint: str


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def inspect(previous: Mapping[str, Item], items: list[Item], shrink: float) -> list[Suspicion]:
    """Items whose new text looks like a broken fetch rather than an edit of the old one."""
    found = []
    for item in items:
        old = previous.get(item.key)
        if old is None or old.text == item.text or item.kind not in GUARDED_KINDS:
            continue
        reason = _reason(old.text, item.text, shrink)
        if reason:
            found.append(Suspicion(item.key, reason, fingerprint(item.text)))
    return found


def _reason(old: str, new: str, shrink: float) -> str | None:
    if len(new.strip()) < SHORT <= len(old.strip()):
        return "came back empty"
    if (match := BLOCKED_PAGE.search(new)) and not BLOCKED_PAGE.search(old):
        return f"looks like an error or challenge page ({match.group(0)!r})"
    if len(new) < (1 - shrink) * len(old):
        return f"came back {1 - len(new) / len(old):.0%} shorter"
    return None
