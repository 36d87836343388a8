"""The classifier against the labelled corpus (tests/corpus/README.md says where it comes from).

The bars are the ones the team set: micro-F1 over the categories at least 0.85, and the
direction right on at least 90% of the relaxed/tightened items. `python bench/classifier_eval.py`
prints the full table.
"""

import json
from pathlib import Path

import pytest

from watcher import classify
from watcher.classify.contract import judge_record
from watcher.classify.evaluate import score

CORPUS = Path(__file__).parent / "corpus" / "labelled.jsonl"


@pytest.fixture(scope="module")
def report():
    labelled = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
    rules = classify.load(Path("config/rules.toml"))
    answers = {item["id"]: judge_record(item, rules) for item in labelled}
    return score(labelled, answers)


def test_micro_f1_over_categories(report):
    assert report.items >= 250
    assert report.micro.f1 >= 0.85, report.table()


def test_hardware_direction(report):
    assert report.directed >= 25
    assert report.direction_accuracy >= 0.90, report.table()
    assert report.spurious / report.undirected <= 0.10, report.table()
