"""Score classifier answers against a labelled corpus: per-category precision, recall and F1,
micro-F1 over the categories, and the share of relaxed/tightened items whose direction is right.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from watcher.classify.rules import CATEGORIES


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    items: int = 0
    per_category: dict[str, Counts] = field(
        default_factory=lambda: {name: Counts() for name in CATEGORIES})
    directed: int = 0
    direction_right: int = 0
    undirected: int = 0
    spurious: int = 0
    """Hardware items labelled with no direction that were given one anyway."""
    misses: list[str] = field(default_factory=list)

    @property
    def micro(self) -> Counts:
        total = Counts()
        for counts in self.per_category.values():
            total.tp, total.fp, total.fn = (total.tp + counts.tp, total.fp + counts.fp,
                                            total.fn + counts.fn)
        return total

    @property
    def direction_accuracy(self) -> float:
        return self.direction_right / self.directed if self.directed else 0.0

    def table(self) -> str:
        rows = [f"{'category':<11} {'prec':>6} {'recall':>6} {'F1':>6} {'support':>7}"]
        for name, c in self.per_category.items():
            rows.append(f"{name:<11} {c.precision:>6.3f} {c.recall:>6.3f} {c.f1:>6.3f} "
                        f"{c.tp + c.fn:>7}")
        micro = self.micro
        rows.append(f"{'micro':<11} {micro.precision:>6.3f} {micro.recall:>6.3f} "
                    f"{micro.f1:>6.3f} {micro.tp + micro.fn:>7}")
        rows.append(f"direction right on {self.direction_right}/{self.directed} relaxed/tightened"
                    f" items ({self.direction_accuracy:.1%}); a direction given to "
                    f"{self.spurious}/{self.undirected} hardware items without one; "
                    f"{self.items} items in all")
        return "\n".join(rows)


def score(labelled: Iterable[Mapping[str, Any]], answers: Mapping[Any, Mapping[str, Any]]
          ) -> Report:
    """`answers` maps each labelled item's id to the classifier's answer for it."""
    report = Report()
    for item in labelled:
        answer = answers[item["id"]]
        report.items += 1
        want, got = set(item["categories"]), set(answer["categories"])
        for name in CATEGORIES:
            counts = report.per_category[name]
            counts.tp += name in want and name in got
            counts.fp += name in got and name not in want
            counts.fn += name in want and name not in got
        expected = item.get("hardware_direction")
        if expected in ("relaxed", "tightened"):
            report.directed += 1
            report.direction_right += answer.get("hardware_direction") == expected
        elif "hardware" in want:
            report.undirected += 1
            report.spurious += answer.get("hardware_direction") is not None
        if want != got or (expected and answer.get("hardware_direction") != expected):
            report.misses.append(
                f"{item['id']}: want {sorted(want)} {expected}, got {sorted(got)} "
                f"{answer.get('hardware_direction')}")
    return report
