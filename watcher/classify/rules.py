"""The classification rules: shipped defaults plus the team's own file, validated at load.

The team's file (config/rules.toml by default) has the same shape as default_rules.toml beside
this module; what it lists is added to the defaults, so adding a GPU family or a model pattern is
one entry there and no code.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from watcher.classify.screen import Screen, any_of
from watcher.config import ConfigError

CATEGORIES = ("hardware", "pricing", "contract", "models", "tooling", "governance", "adoption",
              "other")
DEFAULTS = Path(__file__).with_name("default_rules.toml")


@dataclass(frozen=True)
class Family:
    """A named thing with a pattern: a GPU family (with its generation rank) or a CPU TEE."""

    name: str
    pattern: re.Pattern[str]
    rank: int = 0
    consumer: bool = False


@dataclass(frozen=True)
class Rules:
    categories: dict[str, list[re.Pattern[str]]]
    relaxed: list[re.Pattern[str]]
    tightened: list[re.Pattern[str]]
    requirement: list[re.Pattern[str]]
    future: list[re.Pattern[str]]
    gpus: list[Family]
    tees: list[Family]
    models: list[re.Pattern[str]]
    item_kinds: dict[str, list[str]]

    @cached_property
    def fingerprint(self) -> bytes:
        """A digest of every pattern and name: two Rules that match alike share it."""
        parts = (sorted(self.categories.items()), self.relaxed, self.tightened, self.requirement,
                 self.future, self.gpus, self.tees, self.models, sorted(self.item_kinds.items()))
        return hashlib.sha256(repr(parts).encode("utf-8")).digest()

    # One alternation per list: a line is searched once per list, not once per pattern.
    @cached_property
    def any_category(self) -> dict[str, re.Pattern[str]]:
        return {name: any_of(patterns) for name, patterns in self.categories.items()}

    @cached_property
    def any_future(self) -> re.Pattern[str]:
        return any_of(self.future)

    @cached_property
    def any_requirement(self) -> re.Pattern[str]:
        return any_of(self.requirement)

    @cached_property
    def any_gpu(self) -> re.Pattern[str]:
        return any_of([family.pattern for family in self.gpus])

    @cached_property
    def any_tee(self) -> re.Pattern[str]:
        return any_of([family.pattern for family in self.tees])

    @cached_property
    def any_model(self) -> re.Pattern[str]:
        return any_of(self.models)

    # The same questions, answered faster on long texts (see screen.py): only whether a list
    # matches anywhere, never where.
    @cached_property
    def category_screens(self) -> dict[str, Screen]:
        return {name: Screen(self.categories[name], joined)
                for name, joined in self.any_category.items()}

    @cached_property
    def gpu_screen(self) -> Screen:
        return Screen([family.pattern for family in self.gpus], self.any_gpu)

    @cached_property
    def tee_screen(self) -> Screen:
        return Screen([family.pattern for family in self.tees], self.any_tee)

    @cached_property
    def model_screen(self) -> Screen:
        return Screen(self.models, self.any_model)

    @cached_property
    def future_screen(self) -> Screen:
        return Screen(self.future, self.any_future)

    @cached_property
    def requirement_screen(self) -> Screen:
        return Screen(self.requirement, self.any_requirement)

    @cached_property
    def tightened_screen(self) -> Screen:
        return Screen(self.tightened)

    @cached_property
    def relaxed_screen(self) -> Screen:
        return Screen(self.relaxed)


def load(path: Path | None = None) -> Rules:
    """The shipped defaults, extended by the rules file at `path` when given.

    Each file is validated on its own, so an error names the entry in the file that has it.
    """
    rules = _parse(_read(DEFAULTS), DEFAULTS)
    return rules if path is None else _extend(rules, _parse(_read(path), path))


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "(file)", "rules file not found",
                          "create it or point classify.rules in watcher.toml at it") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "(syntax)", str(exc), "correct the TOML syntax") from None


def _extend(base: Rules, extra: Rules) -> Rules:
    def joined(a: dict[str, list], b: dict[str, list]) -> dict[str, list]:
        return {key: a.get(key, []) + b.get(key, []) for key in {*a, *b}}

    return Rules(
        categories=joined(base.categories, extra.categories),
        relaxed=base.relaxed + extra.relaxed,
        tightened=base.tightened + extra.tightened,
        requirement=base.requirement + extra.requirement,
        future=base.future + extra.future,
        gpus=base.gpus + extra.gpus,
        tees=base.tees + extra.tees,
        models=base.models + extra.models,
        item_kinds=joined(base.item_kinds, extra.item_kinds),
    )


def _parse(raw: dict[str, Any], path: Path) -> Rules:
    check = _Check(path)
    check.keys(raw, "", {"categories", "hardware", "gpus", "tees", "models", "item_kinds"})
    categories = check.table(raw, "categories")
    check.keys(categories, "categories", set(CATEGORIES))
    hardware = check.table(raw, "hardware")
    check.keys(hardware, "hardware", {"relaxed", "tightened", "requirement", "future"})
    models = check.table(raw, "models")
    check.keys(models, "models", {"patterns"})
    item_kinds = check.table(raw, "item_kinds")
    for kind, names in item_kinds.items():
        for name in check.strings(names, f"item_kinds.{kind}"):
            if name not in CATEGORIES:
                raise ConfigError(path, f"item_kinds.{kind}", f"unknown category {name!r}",
                                  f"use one of {', '.join(CATEGORIES)}")
    return Rules(
        categories={
            name: check.patterns(check.table(categories, name, f"categories.{name}")
                                 .get("patterns", []), f"categories.{name}.patterns")
            for name in categories
        },
        relaxed=check.patterns(hardware.get("relaxed", []), "hardware.relaxed"),
        tightened=check.patterns(hardware.get("tightened", []), "hardware.tightened"),
        requirement=check.patterns(hardware.get("requirement", []), "hardware.requirement"),
        future=check.patterns(hardware.get("future", []), "hardware.future"),
        gpus=[check.family(entry, f"gpus[{i}]") for i, entry in enumerate(raw.get("gpus", []))],
        tees=[check.family(entry, f"tees[{i}]") for i, entry in enumerate(raw.get("tees", []))],
        models=check.patterns(models.get("patterns", []), "models.patterns"),
        item_kinds={kind: list(names) for kind, names in item_kinds.items()},
    )


@dataclass
class _Check:
    path: Path

    def keys(self, table: dict[str, Any], where: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                raise ConfigError(self.path, f"{where}.{key}" if where else key, "unknown key",
                                  f"use one of {', '.join(sorted(allowed))}")

    def table(self, raw: dict[str, Any], key: str, where: str | None = None) -> dict[str, Any]:
        value = raw.get(key, {})
        if not isinstance(value, dict):
            raise ConfigError(self.path, where or key, "must be a table",
                              f"write it as [{where or key}]")
        return value

    def strings(self, value: Any, where: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(self.path, where, "must be a list of strings",
                              "write e.g. ['\\bH100\\b']")
        return value

    def patterns(self, value: Any, where: str) -> list[re.Pattern[str]]:
        return [self.pattern(p, f"{where}[{i}]")
                for i, p in enumerate(self.strings(value, where))]

    def pattern(self, text: str, where: str) -> re.Pattern[str]:
        try:
            return re.compile(text, re.IGNORECASE)
        except re.error as exc:
            raise ConfigError(self.path, where, f"bad regular expression: {exc}",
                              "fix the pattern; single-quoted TOML strings keep backslashes"
                              ) from None

    def family(self, entry: Any, where: str) -> Family:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ConfigError(self.path, where, "needs a name and a pattern",
                              'write [[gpus]] name = "B200" pattern = \'\\bb200\\b\' rank = 6')
        self.keys(entry, where, {"name", "pattern", "rank", "consumer"})
        rank, consumer = entry.get("rank", 0), entry.get("consumer", False)
        if not isinstance(rank, int) or not isinstance(consumer, bool):
            raise ConfigError(self.path, where, "rank must be a whole number, consumer true/false",
                              "e.g. rank = 6, consumer = false")
        pattern = self.pattern(str(entry.get("pattern") or re.escape(entry["name"])),
                               f"{where}.pattern")
        return Family(entry["name"], pattern, rank, consumer)
