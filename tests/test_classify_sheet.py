"""The fact sheet fed by the root contract: the chain outranks the docs, amounts are TON, delays
are seconds, sets say how many members joined or left."""

from __future__ import annotations

from dataclasses import replace

from ton_boc import WEEK1, WEEK2, boc, sha

from watcher import classify
from watcher.classify.facts import FACT_CATEGORY, LABELS
from watcher.classify.sheet import build, moves
from watcher.digest import move_text
from watcher.models import Item
from watcher.sources.ton_root_contract import decode_root_state, state_items

RULES = classify.load()
API = "https://toncenter.com/api/v2/getAddressInformation?address=EQ"
DOCS = Item("page", "page", "Smart contracts", "https://cocoon.org/docs/smart-contracts",
            "Price per token: 0.00000003 TON\nStake at least 5 TON.\n"
            "The client close delay is about one day.")


def sheet(state=WEEK1, previous=None, now="2026-11-23T02:00:00+00:00", docs=True):
    items = [("TON root contract", item)
             for item in state_items(decode_root_state(boc(state)), API)]
    if docs:
        items.append(("cocoon.org", DOCS))
    return build(items, RULES, now, previous or {})


def test_every_on_chain_fact_has_a_label_and_a_category():
    facts = sheet()
    assert set(facts) <= set(LABELS) and set(facts) <= set(FACT_CATEGORY)
    chain = {name for name, fact in facts.items() if fact.url == API}
    assert chain == {
        "price_per_token", "worker_fee_per_token", "prompt_price_multiplier",
        "cached_price_multiplier", "completion_price_multiplier", "reasoning_price_multiplier",
        "min_proxy_stake", "min_client_stake", "proxy_close_delay", "client_close_delay",
        "contract_owner", "params_version", "params_struct_version", "contract_unique_id",
        "contract_is_test", "proxy_code_hash", "worker_code_hash", "client_code_hash",
        "model_hashes", "worker_image_hashes", "proxy_image_hashes", "proxies"}


def test_the_chain_outranks_the_docs_and_replaces_their_loose_stake_and_delay():
    facts = sheet()
    assert facts["price_per_token"].value == {"amount": 2e-08, "unit": "TON"}
    assert facts["price_per_token"].source == "TON root contract"
    assert "stake" not in facts and "close_delay" not in facts
    docs_only = build([("cocoon.org", DOCS)], RULES, "t", {})
    assert docs_only["stake"].display == "5 TON" and docs_only["close_delay"].display == "1 day"


def test_values_and_displays():
    facts = sheet()
    shown = {name: fact.display for name, fact in facts.items() if fact.url == API}
    assert shown["worker_fee_per_token"] == "0.000000016 TON"
    assert shown["min_proxy_stake"] == "10 TON"
    assert shown["client_close_delay"] == "1 day" and facts["client_close_delay"].value == 86400
    assert shown["proxy_close_delay"] == "2 days"
    assert shown["completion_price_multiplier"] == "8x"
    assert shown["cached_price_multiplier"] == "0.1x"
    assert shown["contract_is_test"] == "no"
    assert shown["proxy_code_hash"] == WEEK1.proxy_code.hash.hex()[:12] + "…"
    assert facts["model_hashes"].value == sorted(WEEK1.model_hashes)
    assert shown["model_hashes"].startswith("2: ")
    assert shown["proxies"] == "2: 203.0.113.10:8888, 203.0.113.11:8888 203.0.113.11:443"


def test_week_two_moves_read_as_headlines():
    before = sheet()
    after = sheet(WEEK2, before, now="2026-11-30T02:00:00+00:00")
    found = {m.name: (m.category, move_text(m)) for m in moves(before, after, RULES)}
    assert found == {
        "price_per_token": ("pricing", "Price per token 0.00000002 TON → 0.000000025 TON (+25%)"),
        "client_close_delay": ("contract", "Client close delay 1 day → 3 days"),
        "model_hashes": ("models", "Model hashes: 1 added"),
    }
    assert after["client_close_delay"].since == "2026-11-30T02:00:00+00:00"
    assert after["worker_fee_per_token"].since == "2026-11-23T02:00:00+00:00"


def test_fee_stake_and_set_moves():
    before = sheet(docs=False)
    moved = replace(WEEK1, worker_fee_per_token=20, min_client_stake=2 * 10**9,
                    model_hashes=[sha("Qwen/Qwen3-0.6B"), sha("a"), sha("b")],
                    worker_hashes=[], proxies={})
    found = {m.name: move_text(m) for m in moves(before, sheet(moved, before, docs=False), RULES)}
    assert found == {
        "worker_fee_per_token": "Worker fee per token 0.000000016 TON → 0.00000002 TON (+25%)",
        "min_client_stake": "Min client stake 1 TON → 2 TON (+100%)",
        "model_hashes": "Model hashes: 2 added, 1 removed",
        "worker_image_hashes": "Worker image hashes: 2 removed",
        "proxies": "Registered proxies: 2 removed",
    }
