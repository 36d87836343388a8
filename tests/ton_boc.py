"""Root contract states built with pytoniq-core, in the layout the COCOON runners read.

The tests build their BOCs here, for every params struct_version; the demo's recorded TON API
answers (watcher/demo_data/week*/ton/) are built here too. To rebuild them:

    .venv/bin/python tests/ton_boc.py
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from pytoniq_core import Address, Builder, Cell, HashMap, begin_cell

ROOT_ADDRESS = "EQCns7bYSp0igFvS1wpb5wsZjCKCV19MD5AVzI4EyxsnU73k"
OWNER = Address((0, bytes(range(32)))).to_str(is_user_friendly=True, is_bounceable=True)
TON = 10**9


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def code(tag: int) -> Cell:
    """A stand-in contract code cell; only its hash matters."""
    return begin_cell().store_uint(0xC0C0, 16).store_uint(tag, 32).end_cell()


@dataclass
class State:
    """Every field of the root contract's data; the defaults are the demo's week 1."""

    owner: str = OWNER
    accepted_proxy_hashes: list[str] = field(default_factory=lambda: [sha("proxy image 1")])
    proxies: dict[int, bytes] = field(default_factory=lambda: {
        1: b"203.0.113.10:8888", 2: b"203.0.113.11:8888 203.0.113.11:443"})
    proxy_types: dict[int, int] = field(default_factory=dict)
    """A proxy entry's 1-bit type (0 = IPv4 text form), when it is not 0."""
    last_proxy_seqno: int = 2
    worker_hashes: list[str] = field(default_factory=lambda: [sha("worker image 1"),
                                                              sha("worker image 2")])
    model_hashes: list[str] = field(default_factory=lambda: [sha("Qwen/Qwen3-0.6B"),
                                                             sha("google/gemma-3-270m")])
    version: int = 17
    struct_version: int = 3
    params_version: int = 4
    unique_id: int = 13
    is_test: bool = False
    price_per_token: int = 20
    worker_fee_per_token: int = 16
    prompt_multiplier: int = 10000
    cached_multiplier: int = 1000
    completion_multiplier: int = 80000
    reasoning_multiplier: int = 80000
    proxy_delay: int = 2 * 86400
    client_delay: int = 86400
    min_proxy_stake: int = 10 * TON
    min_client_stake: int = 1 * TON
    proxy_code: Cell | None = field(default_factory=lambda: code(1))
    worker_code: Cell | None = field(default_factory=lambda: code(2))
    client_code: Cell | None = field(default_factory=lambda: code(3))


WEEK1 = State()
WEEK2 = replace(WEEK1, version=18, price_per_token=25, client_delay=3 * 86400,
                model_hashes=[*WEEK1.model_hashes, sha("Qwen/Qwen3-8B")])
"""The demo's week 2: the price per token, the client close delay and one model hash moved."""


def hash_dict(hashes: list[str]) -> Cell | None:
    table = HashMap(256, value_serializer=lambda value, builder: builder.store_bit(value))
    for digest in hashes:
        table.set_int_key(int(digest, 16), 1)
    return table.serialize()


def proxy_dict(state: State) -> Cell | None:
    def entry(seqno_text: tuple[int, bytes], builder: Builder) -> None:
        seqno, text = seqno_text
        builder.store_bit(state.proxy_types.get(seqno, 0)).store_uint(len(text), 7)
        builder.store_bytes(text)

    table = HashMap(32, value_serializer=entry)
    for seqno, text in state.proxies.items():
        table.set_int_key(seqno, (seqno, text))
    return table.serialize()


def data_cell(state: State) -> Cell:
    return (begin_cell()
            .store_dict(hash_dict(state.accepted_proxy_hashes))
            .store_dict(proxy_dict(state))
            .store_uint(state.last_proxy_seqno, 32)
            .store_dict(hash_dict(state.worker_hashes))
            .store_dict(hash_dict(state.model_hashes))
            .end_cell())


def params_builder(state: State) -> Builder:
    """The params cell, with the fields `struct_version` carries and no others."""
    v = state.struct_version
    b = (begin_cell().store_uint(v, 8).store_uint(state.params_version, 32)
         .store_uint(state.unique_id, 32).store_bool(state.is_test)
         .store_coins(state.price_per_token).store_coins(state.worker_fee_per_token))
    if v >= 3:
        b.store_uint(state.prompt_multiplier, 32)
    if v >= 2:
        b.store_uint(state.cached_multiplier, 32)
    if v >= 3:
        b.store_uint(state.completion_multiplier, 32)
    if v >= 2:
        b.store_uint(state.reasoning_multiplier, 32)
    b.store_uint(state.proxy_delay, 32).store_uint(state.client_delay, 32)
    if v >= 1:
        b.store_coins(state.min_proxy_stake).store_coins(state.min_client_stake)
    for cell in (state.proxy_code, state.worker_code, state.client_code):
        b.store_maybe_ref(cell)
    return b


def root_cell(state: State, params: Cell | None = None, data: Cell | None = None) -> Cell:
    return (begin_cell()
            .store_address(state.owner)
            .store_ref(data or data_cell(state))
            .store_uint(state.version, 32)
            .store_ref(params or params_builder(state).end_cell())
            .end_cell())


def boc(state: State) -> bytes:
    return root_cell(state).to_boc()


def account(data: bytes | str, state: str = "active") -> dict:
    """A getAddressInformation answer as toncenter gives it."""
    encoded = data if isinstance(data, str) else base64.b64encode(data).decode()
    return {"ok": True, "result": {
        "@type": "raw.fullAccountState", "balance": "1234567890", "code": "", "data": encoded,
        "last_transaction_id": {"@type": "internal.transactionId", "lt": "1", "hash": ""},
        "frozen_hash": "", "sync_utime": 1765000000, "state": state}}


def write_demo(root: Path) -> None:
    """The demo's recorded TON API: week1 and week2, served under {{BASE}}/ton."""
    route = [{"path": "/ton/getAddressInformation", "query": {"address": ROOT_ADDRESS},
              "file": "ton/account.json", "headers": {"Content-Type": "application/json"}}]
    for week, state in (("week1", WEEK1), ("week2", WEEK2)):
        folder = root / week
        (folder / "ton").mkdir(parents=True, exist_ok=True)
        (folder / "ton" / "account.json").write_text(
            json.dumps(account(boc(state)), indent=2) + "\n", encoding="utf-8")
        (folder / "routes" / "ton.json").write_text(json.dumps(route, indent=2) + "\n",
                                                    encoding="utf-8")


if __name__ == "__main__":
    write_demo(Path(__file__).resolve().parents[1] / "watcher" / "demo_data")
