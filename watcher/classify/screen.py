"""Whether any of a list of patterns matches a text: the same answer as the regular expressions
give, found faster.

Python's `re` tries every alternative of a pattern at every position of the text, so a category
of seventy patterns costs seventy tries per character, whether or not it matches in the end.
Most patterns cannot match without a word of their own (`\\bsnapshot\\b` needs "snapshot"): a
Screen reads those words off each parsed pattern once, and runs a pattern only on texts that hold
one of its words, found by a plain substring test. A pattern it finds no such word in (or one it
cannot read) is always run, so the answer never differs from asking every pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from re import _constants as _sre  # the parser behind `re` (Python 3.11+)
from re import _parser

_REPEATS = tuple(getattr(_sre, name) for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
                 if hasattr(_sre, name))
_ATOMIC = getattr(_sre, "ATOMIC_GROUP", None)
_BACKREFS = (_sre.GROUPREF, _sre.GROUPREF_EXISTS)

# The non-ASCII letters that re's IGNORECASE matches to ASCII letters (checked over all of
# Unicode in tests/test_classify_screen.py); everything else is matched through its lower case.
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u212a": "k", "\u017f": "s"})


def fold(text: str) -> str:
    """`text` as the screens compare it: lower case, with İ, ı, K (kelvin) and ſ as i, i, k, s.
    Each character stays one character, so a word matched in `text` is in `fold(text)`."""
    return text.translate(_FOLD).lower()


def any_of(patterns: Sequence[re.Pattern[str]]) -> re.Pattern[str]:
    """A pattern that matches where any of `patterns` does ("(?!)" never matches)."""
    return re.compile("|".join(f"(?:{p.pattern})" for p in patterns) or "(?!)", re.IGNORECASE)


class Screen:
    """Answers "does any of `patterns` match somewhere in this text?".

    `joined`, when given, is the patterns as one alternation (see `any_of`) whose answer this
    Screen must give: it is what gets run if a pattern refers back to a group, where the
    patterns alone and the alternation could differ.
    """

    def __init__(self, patterns: Iterable[re.Pattern[str]],
                 joined: re.Pattern[str] | None = None):
        parts = [(pattern, *_read(pattern)) for pattern in patterns]
        if joined is not None and any(backref for _, backref, _ in parts):
            parts = [(joined, True, None)]
        self._always = [pattern for pattern, _, words in parts if words is None]
        self._screened = [(pattern, words) for pattern, _, words in parts if words is not None]
        words = sorted({word for _, found in self._screened for word in found})
        # one scan for "any word at all?" (literals, case-sensitive: re skips ahead quickly)
        self._any_word = re.compile("|".join(map(re.escape, words)) or "(?!)")

    def search(self, text: str, folded: str | None = None) -> bool:
        """Whether a pattern matches in `text`; pass `fold(text)` when several screens read it."""
        if any(pattern.search(text) for pattern in self._always):
            return True
        if not self._screened:
            return False
        if folded is None:
            folded = fold(text)
        if not self._any_word.search(folded):
            return False
        return any(pattern.search(text) for pattern, words in self._screened
                   if any(word in folded for word in words))


def _read(pattern: re.Pattern[str]) -> tuple[bool, frozenset[str] | None]:
    """Whether `pattern` refers back to a group, and words (folded) one of which every match of
    it contains (None when no such word is known)."""
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # a parser that changed its ways: run the pattern every time
        return False, None
    return _has_backref(tree), _needed(tree)


def _has_backref(seq) -> bool:
    for op, av in seq:
        if op in _BACKREFS:
            return True
        if any(_has_backref(sub) for sub in _children(op, av)):
            return True
    return False


def _children(op, av) -> list:
    if op is _sre.SUBPATTERN:
        return [av[3]]
    if op is _sre.BRANCH:
        return list(av[1])
    if op in _REPEATS:
        return [av[2]]
    if op in (_sre.ASSERT, _sre.ASSERT_NOT):
        return [av[1]]
    if op is _ATOMIC:
        return [av]
    return []


def _needed(seq) -> frozenset[str] | None:
    """The best set of words one of which a match of this sequence must contain.

    A run of ASCII literals in a row is one word; a group, or a repeat that happens at least
    once, needs what its body needs; a branch needs one of its alternatives' words (when each
    has some). Anything else (classes, optional parts, lookarounds) needs nothing known.
    """
    found: list[frozenset[str]] = []
    run: list[str] = []
    for op, av in seq:
        if op is _sre.LITERAL and av < 128:
            run.append(chr(av))
            continue
        if run:
            found.append(frozenset({"".join(run).lower()}))
            run = []
        inner: frozenset[str] | None = None
        if op is _sre.SUBPATTERN:
            inner = _needed(av[3])
        elif op is _ATOMIC:
            inner = _needed(av)
        elif op in _REPEATS and av[0] >= 1:
            inner = _needed(av[2])
        elif op is _sre.BRANCH:
            options = [_needed(branch) for branch in av[1]]
            if all(option is not None for option in options):
                inner = frozenset().union(*options)  # type: ignore[arg-type]
        if inner:
            found.append(inner)
    if run:
        found.append(frozenset({"".join(run).lower()}))
    # the longest shortest word screens out the most texts
    return max(found, key=lambda words: (min(map(len, words)), -len(words)), default=None)
