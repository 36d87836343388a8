"""Facts read once per text: an unchanged page is not read again on the next run, new rules or
new text are, and the sheet comes out the same either way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watcher import classify
from watcher.classify.cache import FactCache
from watcher.classify.facts import FactReader
from watcher.cli import main
from watcher.demo import write_config
from watcher.store import Store

RULES = classify.load()
GPU_PAGE = "# Supported GPUs\nTested GPUs: H100, H200.\nMinimum host kernel: 6.16."


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """Every text the fact reader reads, in order."""
    texts: list[str] = []
    real = FactReader.extract

    def counted(self, text):
        texts.append(text)
        return real(self, text)

    monkeypatch.setattr(FactReader, "extract", counted)
    return texts


def test_a_text_seen_by_an_earlier_run_is_not_read_again(reads):
    first = FactCache(RULES)
    facts = first.facts(GPU_PAGE)
    assert facts["min_kernel"] == "6.16" and reads == [GPU_PAGE]
    again = FactCache(RULES, json.loads(json.dumps(first.used)))  # as the store gives it back
    assert again.facts(GPU_PAGE) == facts
    assert reads == [GPU_PAGE]
    assert list(again.used) == list(first.used)


def test_a_text_with_no_facts_is_remembered_too(reads):
    first = FactCache(RULES)
    assert first.facts("Nothing to see here.") == {}
    FactCache(RULES, first.used).facts("Nothing to see here.")
    assert len(reads) == 1


def test_other_rules_or_other_text_are_read_afresh(reads, tmp_path):
    stored = FactCache(RULES)
    stored.facts(GPU_PAGE)
    extra = tmp_path / "rules.toml"
    extra.write_text('[[gpus]]\nname = "MI300X"\npattern = "MI300X?"\nrank = 9\n',
                     encoding="utf-8")
    other_rules = classify.load(extra)
    assert other_rules.fingerprint != RULES.fingerprint
    FactCache(other_rules, stored.used).facts(GPU_PAGE)
    FactCache(RULES, stored.used).facts(GPU_PAGE.replace("6.16", "6.12"))
    assert len(reads) == 3


def test_the_callers_copy_is_its_own():
    cache = FactCache(RULES)
    cache.facts(GPU_PAGE)["worker_release"] = "v9"
    assert "worker_release" not in cache.facts(GPU_PAGE)


def test_the_fingerprint_does_not_depend_on_the_order_rules_were_joined():
    assert classify.load().fingerprint == RULES.fingerprint


def test_a_quiet_run_reads_no_text_and_keeps_the_sheet(replay, tmp_path, capsys, reads):
    config_path = write_config(tmp_path, replay.base_url)
    assert main(["check", "--config", str(config_path)]) == 0
    assert len(reads) > 20  # every page, post, release and on-chain line of week 1
    sheet = _sheet(config_path, capsys)
    reads.clear()
    assert main(["check", "--config", str(config_path)]) == 0
    assert reads == []  # nothing changed, nothing read
    assert _sheet(config_path, capsys) == sheet
    replay.use_week(2)
    assert main(["check", "--config", str(config_path)]) == 0
    assert reads  # the new and edited texts (and, to classify a change, its old version)
    moved = _sheet(config_path, capsys)
    assert moved["tested_gpus"] == ["B200", "H200 NVL"] != sheet["tested_gpus"]
    reads.clear()
    assert main(["check", "--config", str(config_path)]) == 0
    assert reads == []
    assert _sheet(config_path, capsys) == moved
    store = Store.open(tmp_path / "watcher.db")
    try:
        texts = {item.text for name in ("cocoon.org", "Telegram @cocoon", "Worker release",
                                        "GitHub TelegramMessenger/cocoon", "TON root contract")
                 for item in store.current_items(name).values()
                 if item.kind in ("page", "post", "release")}
        assert len(store.fact_cache()) == len(texts)  # one entry per current text, no leftovers
    finally:
        store.close()


def _sheet(config_path: Path, capsys) -> dict:
    capsys.readouterr()
    assert main(["facts", "--config", str(config_path), "--json"]) == 0
    return {name: fact["value"] for name, fact in json.loads(capsys.readouterr().out).items()}
