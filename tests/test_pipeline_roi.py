"""The ROI desk's line in a check's digest, and the TON price it reads (respx stands in for the
price API)."""

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx

from watcher import config, digest
from watcher.models import Fetched, Item
from watcher.pipeline import PRICE_TIMEOUT, run_check
from watcher.sources.base import Source, register
from watcher.store import Store

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
PRICE_URL = "https://prices.example/simple/price?ids=the-open-network&vs_currencies=usd"
WEEK: dict[str, list[Item]] = {}
LINE = ("ROI: 0.58 USD/GPU-hr implied at 100% utilization with 2 USD/TON (configured), "
        "nearest bear; base payback 2,679 days ≈ 7.3 years (never at the implied rate)")


@register
class WeekSource(Source):
    """Returns the items the test put in WEEK under its name."""

    kind = "roi_week"
    defaults = {"url": ""}

    async def fetch(self, ctx):
        return Fetched(list(WEEK[self.name]))


def post(key: str, text: str) -> Item:
    return Item(key, "post", text, f"https://t.me/cocoon/{key}", text)


WORKER_FEE = Item("param:worker_fee_per_token", "chain_price", "Worker fee per token",
                  "https://toncenter.example/api", "Worker fee per token: 0.000000016 TON",
                  {"field": "worker_fee_per_token", "value": 16, "unit": "nanoton"})


def week(price_nanoton: int, kernel: str) -> None:
    WEEK["chain"] = [WORKER_FEE]
    WEEK["channel"] = [post("1", f"Price per token: {price_nanoton} nanoTON"),
                       post("2", f"Minimum kernel: {kernel}")]


def settings_with(tmp_path: Path, roi: str = "") -> config.Config:
    path = tmp_path / "w.toml"
    path.write_text(f"""
[store]
path = "{tmp_path / 'w.db'}"
[http]
timeout = 20.0
{roi}
[[sources]]
name = "chain"
kind = "roi_week"
[[sources]]
name = "channel"
kind = "roi_week"
""")
    return config.load(path)


async def weeks(settings: config.Config, *plans: tuple[int, str]):
    """Check one week per plan (a baseline first); the digests after the baseline."""
    store = Store.open(settings.store_path)
    results = []
    try:
        for number, (price, kernel) in enumerate(plans):
            week(price, kernel)
            when = T0 + timedelta(days=7 * number)
            results.append(await run_check(settings, store, now=lambda when=when: when))
        return results[1:], [store.digest(r.digest.id).digest for r in results[1:]]
    finally:
        store.close()


async def test_a_pricing_move_adds_the_line_under_what_moved(tmp_path):
    settings = settings_with(tmp_path)
    with respx.mock as mock:  # no price_url: nothing is asked of the network
        [hardware, pricing], [stored_hardware, stored_pricing] = await weeks(
            settings, (20, "6.16"), (20, "6.12"), (25, "6.12"))
    assert mock.calls.call_count == 0

    assert [m.name for m in hardware.digest.moves] == ["min_kernel"]
    assert hardware.digest.roi is None and "ROI:" not in hardware.text + hardware.html
    assert stored_hardware.roi is None

    assert [m.name for m in pricing.digest.moves] == ["price_per_token"]
    assert pricing.digest.roi == LINE
    lines = pricing.text.splitlines()
    assert lines[3:6] == [
        "== What moved ==",
        "Price per token 0.00000002 TON → 0.000000025 TON (+25%) — https://t.me/cocoon/1",
        LINE,
    ]
    assert f"\n{LINE}\n" in pricing.html
    assert stored_pricing.roi == LINE  # archived with the digest
    assert digest.render_text(stored_pricing) == pricing.text
    assert digest.render_json(stored_pricing)["roi"] == LINE
    assert digest.render_json(stored_hardware)["roi"] is None


async def test_a_part_without_pricing_leaves_the_line_out(tmp_path):
    settings = settings_with(tmp_path)
    [both], _ = await weeks(settings, (20, "6.16"), (25, "6.12"))
    assert {m.category for m in both.digest.moves} == {"hardware", "pricing"}
    assert LINE in both.text
    hardware_only = [m for m in both.digest.moves if m.category == "hardware"]
    both.digest.moves = hardware_only
    assert "ROI:" not in digest.render_text(both.digest)
    assert digest.render_json(both.digest)["roi"] is None


ROI_WITH_PRICE_URL = f'[roi]\nprice_url = "{PRICE_URL}"\nton_usd = 2.0\n'


async def test_the_ton_price_is_read_from_price_url_with_a_bounded_timeout(tmp_path):
    settings = settings_with(tmp_path, ROI_WITH_PRICE_URL)
    with respx.mock as mock:
        route = mock.get(PRICE_URL).mock(return_value=httpx.Response(
            200, json={"the-open-network": {"usd": 2.5}}))
        [pricing], _ = await weeks(settings, (20, "6.16"), (25, "6.16"))
    assert route.call_count == 2  # once a check
    timeout = route.calls.last.request.extensions["timeout"]
    assert timeout == dict.fromkeys(("connect", "read", "write", "pool"), PRICE_TIMEOUT)
    assert settings.http.timeout > PRICE_TIMEOUT
    # 0.000000016 × 5,000 × 3,600 × 2.5 = 0.72 USD/GPU-hr
    assert pricing.digest.roi.startswith(
        "ROI: 0.72 USD/GPU-hr implied at 100% utilization with 2.5 USD/TON (from price_url), "
        "nearest bear;")


@pytest.mark.parametrize("answer, problem", [
    (lambda: httpx.Response(503), "HTTP 503"),
    (lambda: httpx.ConnectTimeout("timed out"), "timed out"),
    (lambda: httpx.ConnectError("connection refused"), "connection refused"),
    (lambda: httpx.Response(200, text="<html>rate limited</html>"), "the answer is not JSON"),
    (lambda: httpx.Response(200, json={"price": 2.5}),
     "no single positive USD price in the answer"),
])
async def test_a_failed_price_falls_back_to_the_configured_rate_and_says_so(
        tmp_path, caplog, answer, problem):
    settings = settings_with(tmp_path, ROI_WITH_PRICE_URL)
    caplog.set_level(logging.WARNING, "watcher.pipeline")
    with respx.mock as mock:
        mock.get(PRICE_URL).mock(side_effect=[answer(), answer()])
        [pricing], _ = await weeks(settings, (20, "6.16"), (25, "6.16"))
    assert pricing.digest.roi.startswith(
        "ROI: 0.58 USD/GPU-hr implied at 100% utilization with 2 USD/TON "
        f"(configured; price_url failed: {problem}), nearest bear;")
    assert f"TON price from roi.price_url: {problem}; using the configured 2.0 USD" in caplog.text
    assert all(o.status == "ok" for o in pricing.digest.outcomes)  # the run itself is fine
