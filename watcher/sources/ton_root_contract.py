"""COCOON's root smart contract on TON, read over a toncenter-compatible v2 HTTP API.

`getAddressInformation` returns the account with its persistent data as a base64 BOC; the cell is
decoded with pytoniq-core in the order the COCOON runners read it (`RootContractConfig::
load_from_state` in TelegramMessenger/cocoon; restated in shared/notes/root-contract-layout.md).

Every parameter is one item and every registry member (accepted proxy image, registered proxy,
allowed worker image, model hash) another, so a diff names each thing that moved on its own.
`meta` carries the raw value ({"field", "value", "unit"}) for the fact sheet.

An API key is optional and read from the environment variable the config names. It travels in
the X-API-Key header only: never in a URL, an item, an error or a log line. Timeouts, 429 and
5xx answers are tried again within the pipeline's RetryPolicy, and never sooner than the API
allows (one request a second without a key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import itertools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
from pytoniq_core import Cell, HashMap
from pytoniq_core.boc.exotic import CellTypes

from watcher.models import Fetched, Item
from watcher.sources.base import (
    RETRYABLE,
    FetchContext,
    FetchError,
    Source,
    SourceGone,
    read_capped,
    register,
    transport_error,
)

MAINNET_ROOT = "EQCns7bYSp0igFvS1wpb5wsZjCKCV19MD5AVzI4EyxsnU73k"
"""The mainnet root contract, as shipped in cocoon's scripts/dist-worker/worker.conf.example."""
TONCENTER_V2 = "https://toncenter.com/api/v2"

MAX_STRUCT_VERSION = 3  # the runners reject a params struct_version above this
DEFAULT_MULTIPLIER = 10000  # a token price multiplier the struct version does not carry (1x)
DEFAULT_MIN_STAKE = 10**9  # 1 TON, for struct_version 0
NANO = 10**9

KEYLESS_INTERVAL = 1.0  # seconds between requests without an API key (toncenter: 1 rps)
KEYED_INTERVAL = 0.1  # with a key (toncenter: 10 rps)
ERROR_CHARS = 200  # an API error message is cut to this length


class LayoutError(ValueError):
    """The account data is a valid BOC, but not the root contract's layout."""


# --- decoding -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RootParams:
    """The params cell. Amounts are in nanoTON, delays in seconds, multipliers in 1/10000."""

    struct_version: int
    params_version: int
    unique_id: int
    is_test: bool
    price_per_token: int
    worker_fee_per_token: int
    prompt_tokens_price_multiplier: int
    cached_tokens_price_multiplier: int
    completion_tokens_price_multiplier: int
    reasoning_tokens_price_multiplier: int
    proxy_delay_before_close: int
    client_delay_before_close: int
    min_proxy_stake: int
    min_client_stake: int
    proxy_sc_code_hash: str | None
    worker_sc_code_hash: str | None
    client_sc_code_hash: str | None


@dataclass(frozen=True)
class RootState:
    """The root contract's data: owner, registry (the data cell), params and state version.

    Hashes are 64 lower-case hex digits, sorted; proxies map their seqno to "ip:port" or
    "ip:port ip:port" (the address for workers, then for clients).
    """

    owner: str
    accepted_proxy_hashes: tuple[str, ...]
    proxies: dict[int, str]
    last_proxy_seqno: int
    worker_hashes: tuple[str, ...]
    model_hashes: tuple[str, ...]
    version: int
    params: RootParams


def decode_root_state(boc: bytes) -> RootState:
    """Decode the account data BOC; FetchError-ready messages on anything malformed.

    Raises LayoutError for a well-formed cell in another layout (an unknown struct_version, a
    missing field, extra data); pytoniq-core raises its own exceptions, or a bare Exception, for
    bytes that are not a BOC at all.
    """
    root = _Reader(Cell.one_from_boc(boc), "root contract")
    owner = root.address("root contract owner")
    data = _Reader(root.ref("data cell"), "data cell")
    accepted = _hashes(data.dictionary(256, "accepted proxy hashes"))
    proxies = _proxies(data.dictionary(32, "proxies list"))
    last_proxy_seqno = data.uint(32, "last proxy seqno")
    workers = _hashes(data.dictionary(256, "worker hashes"))
    models = _hashes(data.dictionary(256, "model hashes"))
    data.end()
    version = root.uint(32, "version")
    params = _params(_Reader(root.ref("params cell"), "params"))
    root.end()
    return RootState(owner, accepted, proxies, last_proxy_seqno, workers, models, version, params)


def _params(cs: _Reader) -> RootParams:
    struct_version = cs.uint(8, "params struct_version")
    if struct_version > MAX_STRUCT_VERSION:
        raise LayoutError(f"unknown params struct_version {struct_version} (this watcher reads "
                          f"0 to {MAX_STRUCT_VERSION}, as the COCOON runners do)")
    params_version = cs.uint(32, "params_version")
    unique_id = cs.uint(32, "unique_id")
    is_test = cs.flag("is_test")
    price = cs.coins("price per token")
    worker_fee = cs.coins("worker fee per token")

    def multiplier(since: int, what: str) -> int:
        return cs.uint(32, what) if struct_version >= since else DEFAULT_MULTIPLIER

    prompt = multiplier(3, "prompt tokens price multiplier")
    cached = multiplier(2, "cached tokens price multiplier")
    completion = multiplier(3, "completion tokens price multiplier")
    reasoning = multiplier(2, "reasoning tokens price multiplier")
    proxy_delay = cs.uint(32, "proxy delay before close")
    client_delay = cs.uint(32, "client delay before close")
    min_proxy = cs.coins("min proxy stake") if struct_version >= 1 else DEFAULT_MIN_STAKE
    min_client = cs.coins("min client stake") if struct_version >= 1 else DEFAULT_MIN_STAKE
    codes = [cs.maybe_ref(f"{who} contract code") for who in ("proxy", "worker", "client")]
    cs.end()
    proxy_code, worker_code, client_code = (c.hash.hex() if c is not None else None
                                            for c in codes)
    return RootParams(struct_version, params_version, unique_id, is_test, price, worker_fee,
                      prompt, cached, completion, reasoning, proxy_delay, client_delay,
                      min_proxy, min_client, proxy_code, worker_code, client_code)


class _Reader:
    """A cell slice whose every read checks there is enough left, as the runners' fetch_* do
    (pytoniq-core's own loads silently read short)."""

    def __init__(self, cell: Cell, what: str):
        if cell.type_ != CellTypes.ordinary:
            raise LayoutError(f"{what}: not an ordinary cell")
        self.slice = cell.begin_parse()
        self.what = what

    def _need(self, bits: int, field: str) -> None:
        if self.slice.remaining_bits < bits:
            raise LayoutError(f"{self.what}: cannot fetch {field}")

    def uint(self, bits: int, field: str) -> int:
        self._need(bits, field)
        return self.slice.load_uint(bits) if bits else 0

    def flag(self, field: str) -> bool:
        return bool(self.uint(1, field))

    def coins(self, field: str) -> int:
        return self.uint(8 * self.uint(4, field), field)

    def ref(self, field: str) -> Cell:
        if self.slice.remaining_refs < 1:
            raise LayoutError(f"{self.what}: cannot fetch {field}")
        return self.slice.load_ref()

    def maybe_ref(self, field: str) -> Cell | None:
        return self.ref(field) if self.flag(f"{field} flag") else None

    def address(self, field: str) -> str:
        """A standard internal address (addr_std, no anycast), as the runners require."""
        self._need(2 + 1 + 8 + 256, field)
        if self.slice.preload_uint(3) != 0b100:
            raise LayoutError(f"{self.what}: cannot fetch {field}")
        return self.slice.load_address().to_str(is_user_friendly=True, is_bounceable=True)

    def dictionary(self, key_bits: int, field: str) -> dict[str, Any]:
        """An optional dictionary (flag + ref): its keys as bit strings, each with its value."""
        root = self.maybe_ref(field)
        if root is None:
            return {}
        if root.type_ != CellTypes.ordinary:
            raise LayoutError(f"{self.what}: {field}: not an ordinary cell")
        entries = HashMap.parse(root.begin_parse(), key_bits, key_deserializer=str)
        if entries is None or any(len(key) != key_bits for key in entries):
            raise LayoutError(f"{self.what}: failed to iterate {field}")
        return entries

    def end(self) -> None:
        if self.slice.remaining_bits or self.slice.remaining_refs:
            raise LayoutError(f"extra data in {self.what}")


def _hashes(entries: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(f"{int(key, 2):064x}" for key in entries))


def _proxies(entries: Mapping[str, Any]) -> dict[int, str]:
    """Registered proxies of type 0 (IPv4 text) whose addresses parse; the runners skip others."""
    result = {}
    for key, value in entries.items():
        if value.remaining_bits < 1:
            raise LayoutError("data cell: failed to iterate proxies list")
        if value.load_bit():
            continue  # only type 0 is known
        if value.remaining_bits < 7:
            raise LayoutError("data cell: failed to iterate proxies list")
        length = value.load_uint(7)
        if value.remaining_bits < 8 * length:
            raise LayoutError("data cell: failed to iterate proxies list")
        text = value.load_bytes(length).decode("ascii", errors="replace") if length else ""
        if all(_host_port(part) for part in text.split(" ", 1)):
            result[int(key, 2)] = text
    return dict(sorted(result.items()))


def _host_port(text: str) -> bool:
    """"ip:port" or "[ip:port]" with an IPv4 address, as the runners' parse_address takes."""
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    host, colon, port = text.partition(":")
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return bool(colon) and port.isdigit() and int(port) <= 65535


# --- items --------------------------------------------------------------------------------------

# (field, item kind, title, unit); the unit says how the fact sheet reads `value`
_PARAMS: tuple[tuple[str, str, str, str], ...] = (
    ("price_per_token", "chain_price", "Price per token", "nanoton"),
    ("worker_fee_per_token", "chain_price", "Worker fee per token", "nanoton"),
    ("prompt_tokens_price_multiplier", "chain_price", "Prompt tokens price multiplier",
     "multiplier"),
    ("cached_tokens_price_multiplier", "chain_price", "Cached tokens price multiplier",
     "multiplier"),
    ("completion_tokens_price_multiplier", "chain_price", "Completion tokens price multiplier",
     "multiplier"),
    ("reasoning_tokens_price_multiplier", "chain_price", "Reasoning tokens price multiplier",
     "multiplier"),
    ("proxy_delay_before_close", "chain_param", "Proxy close delay", "seconds"),
    ("client_delay_before_close", "chain_param", "Client close delay", "seconds"),
    ("min_proxy_stake", "chain_param", "Min proxy stake", "nanoton"),
    ("min_client_stake", "chain_param", "Min client stake", "nanoton"),
    ("params_version", "chain_param", "Params version", "number"),
    ("struct_version", "chain_param", "Params struct version", "number"),
    ("unique_id", "chain_param", "Unique id", "number"),
    ("is_test", "chain_param", "Test contract", "flag"),
    ("proxy_sc_code_hash", "chain_code", "Proxy contract code", "hash"),
    ("worker_sc_code_hash", "chain_code", "Worker contract code", "hash"),
    ("client_sc_code_hash", "chain_code", "Client contract code", "hash"),
)
# The text says "output" for completion tokens: "completion" alone reads as tooling news to the
# classifier (the /v1/completions endpoint), and the text is what gets classified.
_TEXT_LABELS = {"completion_tokens_price_multiplier": "Output tokens price multiplier"}
# registry dictionaries: (field, item kind, title)
_MEMBERS: tuple[tuple[str, str, str], ...] = (
    ("accepted_proxy_hashes", "chain_proxy_image", "Accepted proxy image hash"),
    ("worker_hashes", "chain_worker_image", "Worker image hash"),
    ("model_hashes", "chain_model", "Model hash"),
)


def state_items(state: RootState, url: str, model_names: Mapping[str, str] | None = None,
                ) -> list[Item]:
    """One item per parameter and per registry member; `url` is where the state was read.

    `model_names` maps a model hash to a readable name, shown in the title only (titles are not
    compared, so naming a model in the config reports nothing).
    """
    names = model_names or {}
    items = [Item("owner", "chain_owner", "Owner", url, f"Owner: {state.owner}",
                  {"field": "owner", "value": state.owner, "unit": "address"})]
    for field, kind, title, unit in _PARAMS:
        value = getattr(state.params, field)
        meta: dict[str, Any] = {"field": field, "value": value, "unit": unit}
        if field == "params_version":
            meta.update(state_version=state.version, last_proxy_seqno=state.last_proxy_seqno)
        label = _TEXT_LABELS.get(field, title)
        items.append(Item(f"param:{field}", kind, title, url,
                          f"{label}: {_show(value, unit)}", meta))
    for field, kind, title in _MEMBERS:
        for digest in getattr(state, field):
            shown = f"{title} {digest}"
            if field == "model_hashes" and digest in names:
                shown = f"{names[digest]} (hash {digest[:12]}…)"
            items.append(Item(f"{field}:{digest}", kind, shown, url, f"{title}: {digest}",
                              {"field": field, "value": digest, "unit": "member"}))
    for seqno, address in state.proxies.items():
        workers, _, clients = address.partition(" ")
        where = f"{workers} for workers, {clients} for clients" if clients else workers
        items.append(Item(f"proxy:{seqno}", "chain_proxy", f"Proxy {seqno}", url,
                          f"Proxy {seqno}: {where}",
                          {"field": "proxies", "value": address, "unit": "member"}))
    return items


def model_hash(name: str) -> str:
    """The hash the runners give a model type name: SHA-256 of the part before "@"."""
    return hashlib.sha256(name.partition("@")[0].encode("utf-8")).hexdigest()


def _show(value: Any, unit: str) -> str:
    if unit == "nanoton":
        return f"{ton(value)} TON"
    if unit == "seconds":
        return f"{_span(value)} ({value} s)"
    if unit == "multiplier":
        return f"{value} ({value / DEFAULT_MULTIPLIER:g}x)"
    if unit == "flag":
        return "yes" if value else "no"
    if unit == "hash":
        return f"hash {value}" if value else "not set"
    return str(value)


def ton(nano: int) -> str:
    """nanoTON as TON, exactly: 16 -> "0.000000016", 10**9 -> "1"."""
    text = f"{Decimal(nano).scaleb(-9):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _span(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}" + ("s" if count != 1 else "")
    return f"{seconds} seconds"


# --- the source ---------------------------------------------------------------------------------


@register
class TonRootContractSource(Source):
    """The root contract at `address`, read from `api_url` (a toncenter-compatible v2 API)."""

    kind = "ton_root_contract"
    required = ()
    defaults = {
        "address": MAINNET_ROOT,
        "api_url": TONCENTER_V2,
        "api_key_env": "TONCENTER_API_KEY",
        "model_names": [],
    }

    @property
    def link(self) -> str:
        """The request that reads the state (the key is a header, never part of it)."""
        base = str(self.options["api_url"]).rstrip("/")
        return f"{base}/getAddressInformation?{urlencode({'address': self.options['address']})}"

    async def fetch(self, ctx: FetchContext) -> Fetched:
        boc = _account_data(self.link, await self._account(ctx))
        try:
            state = decode_root_state(boc)
        except LayoutError as exc:
            raise FetchError(f"{self.link}: {exc}") from exc
        except Exception as exc:  # pytoniq-core raises many types, a bare Exception too
            raise FetchError(f"{self.link}: the account data is not a valid BOC "
                             f"({type(exc).__name__})") from exc
        names = {model_hash(str(n)): str(n) for n in self.options.get("model_names", [])}
        return Fetched(state_items(state, self.link, names))

    async def _account(self, ctx: FetchContext) -> dict[str, Any]:
        """The `result` of getAddressInformation. Timeouts, 429 and 5xx are tried again within
        the context's RetryPolicy, never sooner than the API's rate limit allows."""
        key = os.environ.get(str(self.options["api_key_env"]), "").strip()
        headers = {"Accept": "application/json", **({"X-API-Key": key} if key else {})}
        interval = KEYED_INTERVAL if key else KEYLESS_INTERVAL
        policy = ctx.retry
        for attempt in itertools.count(1):
            last = attempt >= policy.attempts
            try:
                answer = await self._get(ctx, headers)
            except FetchError:
                if last:
                    raise
                wait = policy.wait(attempt)
            else:
                if answer.ok or not answer.retryable or last:
                    break
                if answer.retry_after is not None and answer.retry_after > policy.max_wait:
                    answer.problem += f", asked to retry after {answer.retry_after:g} s"
                    break
                wait = policy.wait(attempt) if answer.retry_after is None else answer.retry_after
            await policy.sleep(max(wait, interval))
        if answer.ok:
            return answer.result
        problem = answer.problem.replace(key, "***") if key else answer.problem
        raise FetchError(f"{self.link}: {problem}")

    async def _get(self, ctx: FetchContext, headers: dict[str, str]) -> _Answer:
        url = self.link
        try:
            async with ctx.hosts.slot(url), ctx.http.stream("GET", url,
                                                           headers=headers) as response:
                body = await read_capped(response, ctx.max_bytes)
        except httpx.HTTPError as exc:
            raise transport_error(url, exc) from exc
        return _Answer.read(response.status_code, response.headers.get("retry-after"), body)


@dataclass
class _Answer:
    """One HTTP answer of the API: its result, or what went wrong and whether to ask again."""

    status: int
    result: dict[str, Any]
    problem: str = ""
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def retryable(self) -> bool:
        return not self.ok and self.status in RETRYABLE

    @classmethod
    def read(cls, status: int, retry_after: str | None, body: bytes) -> _Answer:
        """toncenter answers {"ok": true, "result": ...} or {"ok": false, "error", "code"}."""
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            payload = None
        wait = float(retry_after) if retry_after and retry_after.strip().isdigit() else None
        if isinstance(payload, dict) and payload.get("ok") is True:
            if status < 400 and isinstance(payload.get("result"), dict):
                return cls(status, payload["result"])
            return cls(status, {}, "the answer holds no account state")
        if isinstance(payload, dict) and payload.get("ok") is False:
            code = payload.get("code")
            if not isinstance(code, int) or isinstance(code, bool):
                code = status
            error = " ".join(str(payload.get("error") or "no message").split())[:ERROR_CHARS]
            limited = " (rate limited)" if code == 429 else ""
            return cls(max(status, code), {}, f"API error {code}{limited}: {error}", wait)
        if status >= 400:
            limited = " (rate limited)" if status == 429 else ""
            return cls(status, {}, f"HTTP {status}{limited}", wait)
        return cls(status, {}, "the answer is not the API's JSON")


def _account_data(url: str, result: Mapping[str, Any]) -> bytes:
    state, data = result.get("state"), result.get("data")
    if state != "active" or not data:
        raise SourceGone(f"{url}: the account is {state or 'unknown'}: no contract data to read")
    try:
        return base64.b64decode(str(data), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FetchError(f"{url}: the account data is not base64") from exc
