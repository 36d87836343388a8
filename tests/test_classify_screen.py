"""Screens and the fact reader's shortcuts give exactly the answers of the slow way: every pattern
searched, every extractor run on every sentence."""

import json
import re
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watcher import classify
from watcher.classify import facts
from watcher.classify.screen import Screen, fold

ROOT = Path(__file__).resolve().parents[1]
RULES = classify.load(ROOT / "config" / "rules.toml")
CORPUS = [json.loads(line) for line in (ROOT / "tests" / "corpus" / "labelled.jsonl")
          .read_text(encoding="utf-8").splitlines() if line.strip()]
CORPUS_TEXTS = [item.get(key) or "" for item in CORPUS for key in ("text", "before", "after")]
FAST = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

# Words the rules and extractors look for, in odd cases, next to the letters re matches to them.
vocabulary = st.sampled_from([
    "GPU", "gpus", "H100", "h200 NVL", "RTX 4090", "GeForce", "consumer", "TDX", "SEV-SNP", "tee",
    "kernel 6.16+", "QEMU 9.1", "VBIOS", "price per token", "20 nanoTON", "$5 per token",
    "fee 5%", "commission", "stake 10 TON", "close delay two days", "worker v1.2.3", "Docker",
    "client SDK", "centralized", "DAO", "now", "not", "no longer", "will be", "in the future",
    "Qwen3-8B", "kimi-k2", "EQ" + "A" * 46, "required", "supported", "Tested:", "Minimum:",
    "# Hardware", "## Pricing", "- ", ".", ";", ":", "\n", " ", "İ", "ı", "\u212a", "ſ", "ſdk",
    "cocoon.org", "https://x.org/v1/models", "snapshot", "launched", "1,000 users",
])
texts = st.lists(vocabulary | st.text(max_size=6), max_size=30).map(" ".join)


def test_fold_keeps_length_and_covers_every_letter_re_ignorecase_matches():
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    assert len(fold(every)) == len(every)
    for code in range(128):
        letter = chr(code)
        for match in re.finditer(re.escape(letter), every, re.IGNORECASE):
            assert fold(match.group()) == letter.lower(), hex(ord(match.group()))


def screens_and_lists():
    yield from ((RULES.category_screens[name], RULES.categories[name])
                for name in RULES.categories)
    yield RULES.gpu_screen, [family.pattern for family in RULES.gpus]
    yield RULES.tee_screen, [family.pattern for family in RULES.tees]
    yield RULES.model_screen, RULES.models
    yield RULES.future_screen, RULES.future
    yield RULES.requirement_screen, RULES.requirement
    yield RULES.tightened_screen, RULES.tightened
    yield RULES.relaxed_screen, RULES.relaxed


def test_screens_answer_as_the_patterns_do_on_the_corpus():
    for text in CORPUS_TEXTS:
        for screen, patterns in screens_and_lists():
            assert screen.search(text) == any(p.search(text) for p in patterns), text


@FAST
@given(texts)
def test_screens_answer_as_the_patterns_do_on_any_text(text):
    for screen, patterns in screens_and_lists():
        assert screen.search(text) == any(p.search(text) for p in patterns)
    for name, joined in RULES.any_category.items():
        assert RULES.category_screens[name].search(text) == bool(joined.search(text))


def test_a_pattern_without_a_needed_word_is_always_tried():
    screen = Screen([re.compile(r"\d+ GPUs?|x?", re.IGNORECASE)])
    assert screen.search("")
    assert Screen([re.compile(r"[a-z]{3}\d", re.IGNORECASE)]).search("abc1")


def test_needed_words_come_from_groups_repeats_and_branches():
    patterns = [re.compile(p, re.IGNORECASE) for p in (
        r"\b(?:eq|uq)[a-z0-9_-]{4}\b", r"x(?:ab)+y", r"(?>node)s?", r"a{0}price")]
    screen = Screen(patterns)
    for text, found in [("EQabcd", True), ("uq12345", False), ("xababy", True), ("xy", False),
                        ("NODES", True), ("PRICE", True), ("pric", False), ("ſtake", False)]:
        assert screen.search(text) is found, text
        assert any(p.search(text) for p in patterns) is found, text


def test_a_back_reference_falls_back_to_the_joined_pattern():
    parts = [re.compile(r"(a)", re.IGNORECASE), re.compile(r"(b)\1", re.IGNORECASE)]
    joined = classify.rules.any_of(parts)
    screen = Screen(parts, joined)
    for text in ("a", "bb", "ba", "b", "x"):
        assert screen.search(text) == bool(joined.search(text)), text


def read_slowly(text: str) -> dict:
    """facts.extract as it was: every extractor on every sentence, nothing remembered."""
    reading = facts._Reading()
    for sentence, context in facts._sentences(text):
        line = facts._Line(sentence, context, RULES)
        for _, extractor in facts._EXTRACTORS:
            extractor(line, RULES, reading)
    result = reading.result()
    if result.pop(facts._DAO_PROMISED, None) and result.get("governance") == "centralized":
        result["governance"] = "centralized, DAO promised"
    return result


def test_fact_reader_reads_the_corpus_as_every_extractor_would():
    reader = facts.FactReader(RULES)
    for text in CORPUS_TEXTS:
        assert reader.extract(text) == read_slowly(text), text


@FAST
@given(texts, texts)
def test_fact_reader_reads_any_text_as_every_extractor_would(first, second):
    reader = facts.FactReader(RULES)  # shared, as judge_change shares it between two versions
    for text in (first, second, first + "\n" + second):
        assert reader.extract(text) == read_slowly(text)


def test_remembered_facts_are_copies():
    reader = facts.FactReader(RULES)
    first = reader.extract("Price per token: 20 nanoTON")
    first["price_per_token"]["amount"] = 0
    assert reader.extract("Price per token: 20 nanoTON")["price_per_token"]["amount"] == 2e-08
