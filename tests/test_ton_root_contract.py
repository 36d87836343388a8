"""ton_root_contract: the root contract's data decoded as the runners read it, one item per
parameter and per registry member, and the TON HTTP API's answers and limits (mocked)."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx
from pytoniq_core import begin_cell
from ton_boc import WEEK1, WEEK2, State, account, boc, params_builder, root_cell, sha

from watcher import classify, config
from watcher.classify.judge import judge_text
from watcher.pipeline import run_check
from watcher.sources import source_kind
from watcher.sources.base import FetchContext, FetchError, RetryPolicy, SourceGone
from watcher.sources.ton_root_contract import (
    MAINNET_ROOT,
    TONCENTER_V2,
    TonRootContractSource,
    decode_root_state,
    model_hash,
    state_items,
    ton,
)
from watcher.store import Store

API = "https://ton.example/api/v2"
URL = f"{API}/getAddressInformation?address={MAINNET_ROOT}"
KEY = "s3cr3t-ton-key"
RULES = classify.load(Path(__file__).resolve().parents[1] / "config" / "rules.toml")


class Sleeps:
    """Waits recorded, never taken."""

    def __init__(self):
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


def source(**options) -> TonRootContractSource:
    merged = {**TonRootContractSource.defaults, "api_url": API, "api_key_env": "TEST_TON_KEY",
              **options}
    return TonRootContractSource("TON root contract", merged)


async def fetch(answers, sleeps: Sleeps | None = None, attempts: int = 3, **options):
    """Fetch once against `answers` (httpx.Responses in turn); returns (fetched, route)."""
    sleeps = sleeps or Sleeps()
    policy = RetryPolicy(attempts=attempts, backoff=0.25, max_wait=30.0, sleep=sleeps.sleep)
    async with respx.mock as mock, httpx.AsyncClient() as http:
        route = mock.get(URL).mock(side_effect=list(answers))
        fetched = await source(**options).fetch(FetchContext(http=http, retry=policy))
    return fetched, route


def ok(state: State = WEEK1) -> httpx.Response:
    return httpx.Response(200, json=account(boc(state)))


def by_key(items):
    return {item.key: item for item in items}


# --- decoding -----------------------------------------------------------------------------------


def test_registered_with_the_mainnet_root_and_toncenter_by_default():
    assert source_kind("ton_root_contract") is TonRootContractSource
    assert TonRootContractSource.defaults["address"] == MAINNET_ROOT
    assert TonRootContractSource.defaults["api_url"] == TONCENTER_V2
    assert source().link == URL


def test_every_field_of_struct_version_3():
    state = decode_root_state(boc(WEEK1))
    p = state.params
    assert state.owner == WEEK1.owner and state.version == 17 and state.last_proxy_seqno == 2
    assert (p.struct_version, p.params_version, p.unique_id, p.is_test) == (3, 4, 13, False)
    assert (p.price_per_token, p.worker_fee_per_token) == (20, 16)
    assert (p.prompt_tokens_price_multiplier, p.cached_tokens_price_multiplier,
            p.completion_tokens_price_multiplier, p.reasoning_tokens_price_multiplier) == (
        10000, 1000, 80000, 80000)
    assert (p.proxy_delay_before_close, p.client_delay_before_close) == (172800, 86400)
    assert (p.min_proxy_stake, p.min_client_stake) == (10 * 10**9, 10**9)
    assert p.proxy_sc_code_hash == WEEK1.proxy_code.hash.hex()
    assert p.worker_sc_code_hash == WEEK1.worker_code.hash.hex()
    assert state.model_hashes == tuple(sorted(WEEK1.model_hashes))
    assert state.worker_hashes == tuple(sorted(WEEK1.worker_hashes))
    assert state.accepted_proxy_hashes == (sha("proxy image 1"),)
    assert state.proxies == {1: "203.0.113.10:8888", 2: "203.0.113.11:8888 203.0.113.11:443"}


@pytest.mark.parametrize(("version", "multipliers", "stakes"), [
    (0, (10000, 10000, 10000, 10000), (10**9, 10**9)),  # neither multipliers nor stakes
    (1, (10000, 10000, 10000, 10000), (7, 9)),  # stakes
    (2, (10000, 111, 10000, 444), (7, 9)),  # + cached and reasoning multipliers
    (3, (555, 111, 333, 444), (7, 9)),  # + prompt and completion multipliers
])
def test_each_struct_version_reads_its_fields_and_defaults_the_rest(version, multipliers, stakes):
    state = replace(WEEK1, struct_version=version, prompt_multiplier=555, cached_multiplier=111,
                    completion_multiplier=333, reasoning_multiplier=444, min_proxy_stake=7,
                    min_client_stake=9)
    p = decode_root_state(boc(state)).params
    assert p.struct_version == version
    assert multipliers == (p.prompt_tokens_price_multiplier, p.cached_tokens_price_multiplier,
                           p.completion_tokens_price_multiplier,
                           p.reasoning_tokens_price_multiplier)
    assert (p.min_proxy_stake, p.min_client_stake) == stakes
    assert (p.proxy_delay_before_close, p.client_delay_before_close) == (172800, 86400)
    assert p.client_sc_code_hash == WEEK1.client_code.hash.hex()


def test_empty_dictionaries_and_absent_code():
    empty = replace(WEEK1, accepted_proxy_hashes=[], proxies={}, worker_hashes=[],
                    model_hashes=[], proxy_code=None, worker_code=None, client_code=None)
    state = decode_root_state(boc(empty))
    assert (state.accepted_proxy_hashes, state.proxies, state.worker_hashes,
            state.model_hashes) == ((), {}, (), ())
    assert state.params.proxy_sc_code_hash is None
    items = state_items(state, URL)
    assert not any(i.kind in ("chain_model", "chain_worker_image", "chain_proxy_image",
                              "chain_proxy") for i in items)
    assert by_key(items)["param:worker_sc_code_hash"].text == "Worker contract code: not set"


def test_proxies_of_another_type_or_with_a_bad_address_are_skipped_as_the_runners_do():
    state = replace(WEEK1, proxies={1: b"203.0.113.10:8888", 2: b"[203.0.113.12:80]",
                                    3: b"somewhere:8888", 4: b"203.0.113.14:99999",
                                    5: b"2001:db8::1 text", 6: b"[203.0.113.16]:80"},
                    proxy_types={2: 0, 5: 1})
    assert decode_root_state(boc(state)).proxies == {1: "203.0.113.10:8888",
                                                     2: "[203.0.113.12:80]"}


def test_an_unknown_struct_version_is_an_error_naming_it():
    with pytest.raises(ValueError, match="unknown params struct_version 4"):
        decode_root_state(boc(replace(WEEK1, struct_version=4)))


@pytest.mark.parametrize(("params", "message"), [
    (params_builder(WEEK1).store_uint(1, 1).end_cell(), "extra data in params"),
    (begin_cell().store_uint(3, 8).store_uint(4, 32).store_uint(13, 32).store_bool(False)
     .store_coins(20).end_cell(), "params: cannot fetch worker fee per token"),
    (begin_cell().store_uint(2, 5).end_cell(), "params: cannot fetch params struct_version"),
])
def test_a_params_cell_in_another_layout_is_refused(params, message):
    with pytest.raises(ValueError, match=message):
        decode_root_state(root_cell(WEEK1, params=params).to_boc())


def test_extra_data_after_the_data_cell_or_the_root_is_refused():
    data = begin_cell().store_bit(0).store_bit(0).store_uint(0, 32).store_bit(0).store_bit(0)
    with pytest.raises(ValueError, match="extra data in data cell"):
        decode_root_state(root_cell(WEEK1, data=data.store_uint(7, 8).end_cell()).to_boc())
    longer = begin_cell().store_cell(root_cell(WEEK1)).store_uint(1, 1).end_cell()
    with pytest.raises(ValueError, match="extra data in root contract"):
        decode_root_state(longer.to_boc())


def test_amounts_are_exact_ton():
    assert [ton(n) for n in (16, 20, 25, 10**9, 10 * 10**9, 1_500_000_000, 0)] == [
        "0.000000016", "0.00000002", "0.000000025", "1", "10", "1.5", "0"]


# --- items --------------------------------------------------------------------------------------


def test_one_item_per_parameter_and_per_registry_member():
    items = by_key(state_items(decode_root_state(boc(WEEK1)), URL))
    # the owner, 17 parameters, a proxy image, two worker images, two models, two proxies
    assert len(items) == 1 + 17 + 1 + 2 + 2 + 2
    assert all(item.url == URL for item in items.values())
    assert items["param:price_per_token"].text == "Price per token: 0.00000002 TON"
    assert items["param:worker_fee_per_token"].text == "Worker fee per token: 0.000000016 TON"
    assert items["param:client_delay_before_close"].text == "Client close delay: 1 day (86400 s)"
    assert items["param:min_proxy_stake"].text == "Min proxy stake: 10 TON"
    assert items["param:completion_tokens_price_multiplier"].text == (
        "Output tokens price multiplier: 80000 (8x)")
    assert items["param:params_version"].meta == {
        "field": "params_version", "value": 4, "unit": "number", "state_version": 17,
        "last_proxy_seqno": 2}
    model = sha("Qwen/Qwen3-0.6B")
    assert items[f"model_hashes:{model}"].text == f"Model hash: {model}"
    assert items[f"model_hashes:{model}"].meta == {"field": "model_hashes", "value": model,
                                                  "unit": "member"}
    assert items["proxy:2"].text == (
        "Proxy 2: 203.0.113.11:8888 for workers, 203.0.113.11:443 for clients")


def test_a_model_name_goes_in_the_title_only():
    assert model_hash("Qwen/Qwen3-8B@a1b2c3") == sha("Qwen/Qwen3-8B")
    state = decode_root_state(boc(WEEK1))
    plain = by_key(state_items(state, URL))
    named = by_key(state_items(state, URL, {sha("Qwen/Qwen3-0.6B"): "Qwen/Qwen3-0.6B"}))
    key = f"model_hashes:{sha('Qwen/Qwen3-0.6B')}"
    assert named[key].title.startswith("Qwen/Qwen3-0.6B (hash ")
    assert named[key].text == plain[key].text  # naming a model reports no change


@pytest.mark.parametrize(("key", "categories"), [
    ("owner", ["contract", "governance"]),
    ("param:price_per_token", ["pricing"]),
    ("param:worker_fee_per_token", ["pricing"]),
    ("param:prompt_tokens_price_multiplier", ["pricing"]),
    ("param:cached_tokens_price_multiplier", ["pricing"]),
    ("param:completion_tokens_price_multiplier", ["pricing"]),
    ("param:reasoning_tokens_price_multiplier", ["pricing"]),
    ("param:proxy_delay_before_close", ["contract"]),
    ("param:client_delay_before_close", ["contract"]),
    ("param:min_proxy_stake", ["contract"]),
    ("param:min_client_stake", ["contract"]),
    ("param:params_version", ["contract"]),
    ("param:struct_version", ["contract"]),
    ("param:unique_id", ["contract"]),
    ("param:is_test", ["contract"]),
    ("param:proxy_sc_code_hash", ["contract"]),
    ("param:worker_sc_code_hash", ["contract"]),
    ("param:client_sc_code_hash", ["contract"]),
    (f"model_hashes:{sha('Qwen/Qwen3-0.6B')}", ["models"]),
    (f"worker_hashes:{sha('worker image 1')}", ["hardware", "tooling"]),
    (f"accepted_proxy_hashes:{sha('proxy image 1')}", ["tooling", "adoption"]),
    ("proxy:1", ["adoption"]),
    ("proxy:2", ["adoption"]),
])
def test_each_item_lands_in_its_categories_and_no_other(key, categories):
    item = by_key(state_items(decode_root_state(boc(WEEK1)), URL))[key]
    assert judge_text(item.text, RULES, item_kind=item.kind).categories == categories


# --- the HTTP API -------------------------------------------------------------------------------


async def test_fetch_reads_the_account_without_a_key(monkeypatch):
    monkeypatch.delenv("TEST_TON_KEY", raising=False)
    fetched, route = await fetch([ok()])
    assert route.call_count == 1
    request = route.calls.last.request
    assert "x-api-key" not in request.headers
    assert str(request.url) == URL
    assert by_key(fetched.items)["param:price_per_token"].text == "Price per token: 0.00000002 TON"


async def test_the_key_travels_in_a_header_and_nowhere_else(monkeypatch):
    monkeypatch.setenv("TEST_TON_KEY", KEY)
    fetched, route = await fetch([ok()])
    request = route.calls.last.request
    assert request.headers["x-api-key"] == KEY
    assert KEY not in str(request.url)
    assert all(KEY not in repr(item) for item in fetched.items)


async def test_an_error_answer_is_reported_without_the_key(monkeypatch):
    monkeypatch.setenv("TEST_TON_KEY", KEY)
    denied = httpx.Response(401, json={"ok": False, "error": f"API key {KEY} does not exist",
                                       "code": 401})
    sleeps = Sleeps()
    with pytest.raises(FetchError) as caught:
        await fetch([denied], sleeps)
    message = str(caught.value)
    assert message == f"{URL}: API error 401: API key *** does not exist"
    assert sleeps.waits == []  # not worth asking again


async def test_ok_false_in_a_200_answer_is_an_error():
    answer = httpx.Response(200, json={"ok": False, "error": "Incorrect address", "code": 416})
    with pytest.raises(FetchError, match="API error 416: Incorrect address"):
        await fetch([answer])


async def test_429_is_retried_after_at_least_a_second_without_a_key(monkeypatch):
    monkeypatch.delenv("TEST_TON_KEY", raising=False)
    limited = httpx.Response(429, json={"ok": False, "error": "Ratelimit exceed", "code": 429})
    sleeps = Sleeps()
    fetched, route = await fetch([limited, limited, ok()], sleeps)
    assert route.call_count == 3 and fetched.items
    assert sleeps.waits == [1.0, 1.0]  # the policy's 0.25 s and 0.5 s, raised to 1 request/s


async def test_with_a_key_the_retry_follows_the_policy(monkeypatch):
    monkeypatch.setenv("TEST_TON_KEY", KEY)
    sleeps = Sleeps()
    await fetch([httpx.Response(503), httpx.Response(502), ok()], sleeps)
    assert sleeps.waits == [0.25, 0.5]


async def test_retry_after_is_honoured_and_a_long_one_ends_the_tries(monkeypatch):
    monkeypatch.delenv("TEST_TON_KEY", raising=False)
    sleeps = Sleeps()
    await fetch([httpx.Response(429, headers={"Retry-After": "7"}), ok()], sleeps)
    assert sleeps.waits == [7.0]
    sleeps = Sleeps()
    later = httpx.Response(429, headers={"Retry-After": "3600"}, json={"ok": False, "code": 429,
                                                                       "error": "Ratelimit"})
    with pytest.raises(FetchError, match="rate limited.*asked to retry after 3600 s"):
        await fetch([later], sleeps)
    assert sleeps.waits == []


async def test_the_tries_are_bounded():
    limited = httpx.Response(429, json={"ok": False, "error": "Ratelimit exceed", "code": 429})
    sleeps = Sleeps()
    with pytest.raises(FetchError, match=r"API error 429 \(rate limited\): Ratelimit exceed"):
        await fetch([limited] * 3, sleeps)
    assert len(sleeps.waits) == 2


async def test_a_timeout_is_retried_then_reported():
    sleeps = Sleeps()
    with pytest.raises(FetchError, match="timed out"):
        await fetch([httpx.ReadTimeout("slow")] * 2, sleeps, attempts=2)
    assert sleeps.waits == [1.0]


@pytest.mark.parametrize(("answer", "message"), [
    (httpx.Response(200, text="<html>maintenance</html>"), "not the API's JSON"),
    (httpx.Response(404, text="not found"), "HTTP 404"),
    (httpx.Response(200, json={"ok": True, "result": {"state": "active", "data": "%%%"}}),
     "not base64"),
    (httpx.Response(200, json=account(base64.b64encode(b"garbage").decode())),
     "not a valid BOC"),
    (httpx.Response(200, json=account(boc(WEEK1)[:-9])), "not a valid BOC"),
    (httpx.Response(200, json=account(boc(replace(WEEK1, struct_version=7)))),
     "unknown params struct_version 7"),
])
async def test_bad_answers_are_fetch_errors_not_crashes(answer, message):
    with pytest.raises(FetchError, match=message):
        await fetch([answer])


async def test_an_uninitialised_account_is_gone():
    with pytest.raises(SourceGone, match="the account is uninitialized"):
        await fetch([httpx.Response(200, json=account("", state="uninitialized"))])


async def test_a_boc_cut_anywhere_is_a_fetch_error():
    data = boc(WEEK2)
    for cut in range(0, len(data), 5):
        with pytest.raises(FetchError, match="not a valid BOC|no contract data"):
            await fetch([httpx.Response(200, json=account(data[:cut]))])


async def test_garbled_bocs_give_items_or_a_fetch_error_never_a_crash():
    data = boc(WEEK2)
    outcomes = []
    for index in range(0, len(data), 7):
        garbled = bytearray(data)
        garbled[index] ^= 0x5A
        try:
            fetched = await fetch([httpx.Response(200, json=account(bytes(garbled)))])
        except FetchError:
            outcomes.append("error")
        else:
            outcomes.append("items" if fetched[0].items else "nothing")
    assert "nothing" not in outcomes and "error" in outcomes


# --- in the pipeline ----------------------------------------------------------------------------


async def test_a_garbage_boc_keeps_the_snapshot_and_moves_no_fact(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "w.db"}"\n[http]\nretries = 1\n'
                    f'[[sources]]\nname = "TON root contract"\nkind = "ton_root_contract"\n'
                    f'api_url = "{API}"\napi_key_env = "TEST_TON_KEY"\n')
    settings = config.load(path)
    store = Store.open(settings.store_path)
    t0 = datetime(2026, 11, 23, tzinfo=UTC)
    try:
        with respx.mock as mock:
            route = mock.get(URL)
            route.return_value = ok(WEEK1)
            await run_check(settings, store, now=lambda: t0)
            kept = store.current_items("TON root contract")
            facts = store.current_facts()
            route.return_value = httpx.Response(200, json=account(boc(WEEK2)[:40]))
            second = await run_check(settings, store, now=lambda: t0 + timedelta(days=7))
        assert [o.status for o in second.digest.outcomes] == ["failed"]
        assert "not a valid BOC" in second.digest.outcomes[0].error
        assert second.digest.changes == [] and second.digest.moves == []
        assert store.current_items("TON root contract") == kept
        assert {n: f.value for n, f in store.current_facts().items()} == {
            n: f.value for n, f in facts.items()}
    finally:
        store.close()
