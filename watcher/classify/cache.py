"""Facts already read, by text: a page that has not changed since the last run is not read again.

Reading the facts out of every current page was most of a quiet run's work (about 2 ms a page,
every page, every run). What `extract` found is kept in the store under a digest of the text and
of everything that reads it (the rules, and the code of this package), so new rules or a new
watcher read every text afresh.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from watcher.classify.facts import FactReader
from watcher.classify.rules import Rules

_CODE = b"".join(path.read_bytes() for path in sorted(Path(__file__).parent.glob("*.py")))


class FactCache:
    """`extract` with a memory: `stored` is what earlier runs found; `used` is what this run
    read or reused, which is what the store keeps for the next run."""

    def __init__(self, rules: Rules, stored: Mapping[str, dict[str, Any]] | None = None):
        self._salt = hashlib.sha256(_CODE + rules.fingerprint).digest()
        self._stored = stored or {}
        self._reader = FactReader(rules)  # one per run: sentences shared by pages are read once
        self.used: dict[str, dict[str, Any]] = {}

    def facts(self, text: str) -> dict[str, Any]:
        """The facts `text` states (a copy: the caller may add to it)."""
        key = self.key(text)
        found = self.used.get(key)
        if found is None:
            found = self._stored.get(key)
        if found is None:
            found = self._reader.extract(text)
        self.used[key] = found
        return dict(found)

    def key(self, text: str) -> str:
        return hashlib.sha256(self._salt + text.encode("utf-8", "surrogatepass")).hexdigest()
