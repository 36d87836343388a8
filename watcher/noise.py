"""Remove dynamic noise from item text before it is compared.

A pattern's matches are deleted from each line; a line left with nothing but punctuation goes.
The shipped config lists the patterns (relative times, counters); each source may add its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from watcher.models import Item

_EMPTY = re.compile(r"^[\s\W_]*$")


class NoiseFilter:
    def __init__(self, patterns: Iterable[str]):
        self._patterns = [re.compile(p) for p in patterns]

    def clean_text(self, text: str) -> str:
        if not self._patterns:
            return text
        lines = []
        for line in text.split("\n"):
            cleaned = line
            for pattern in self._patterns:
                cleaned = pattern.sub("", cleaned)
            if cleaned == line:
                lines.append(line)
            elif not _EMPTY.match(cleaned):
                lines.append(" ".join(cleaned.split()))
        return "\n".join(lines)

    def clean(self, item: Item) -> Item:
        text = self.clean_text(item.text)
        return item if text == item.text else replace(item, text=text)
