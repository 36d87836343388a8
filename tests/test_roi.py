"""The ROI desk: the team's worked examples, break-evens, what people type, numbers for people,
the rate the chain implies, the digest line, and `watcher roi`."""

from pathlib import Path

import pytest

from watcher import roi
from watcher.cli import main
from watcher.demo import DATA, write_config
from watcher.models import Fact, FactMove
from watcher.replay import ReplayServer
from watcher.roi import RoiInputError, RoiSettings, Scenario, TonPrice

SETTINGS = RoiSettings()
BEAR, BASE, BULL = SETTINGS.scenarios
FEE = 1.6e-08  # TON per token: the demo's (and mainnet's) worker fee


def fee_fact(amount: float) -> Fact:
    return Fact("worker_fee_per_token", {"amount": amount, "unit": "TON"}, f"{amount} TON",
                "TON root contract", "https://toncenter.example/api", "2026-11-23T02:00:00")


def move(name: str, category: str) -> FactMove:
    return FactMove(name, name, category, "1", "2")


# --- the team's worked examples -----------------------------------------------------------

def test_the_defaults_are_the_issue_s_scenarios():
    assert (SETTINGS.capex, SETTINGS.cost_per_day) == (45_000, 12)
    assert [(s.name, s.rate, s.utilization) for s in SETTINGS.scenarios] == [
        ("bear", 1.5, 0.20), ("base", 3.0, 0.40), ("bull", 5.0, 0.70)]
    assert SETTINGS.base is BASE


def test_base_scenario():
    assert BASE.revenue_per_day == pytest.approx(28.8)
    assert BASE.profit_per_day == pytest.approx(16.8)
    assert BASE.payback_days == pytest.approx(2678.57, abs=0.01)
    assert roi.payback(BASE.payback_days) == "2,679 days ≈ 7.3 years"


def test_bull_scenario():
    assert BULL.revenue_per_day == pytest.approx(84)
    assert BULL.profit_per_day == pytest.approx(72)
    assert BULL.payback_days == pytest.approx(625)
    assert roi.payback(BULL.payback_days) == "625 days ≈ 1.7 years"


def test_bear_scenario_never_pays_back():
    assert BEAR.revenue_per_day == pytest.approx(7.2)
    assert BEAR.profit_per_day == pytest.approx(-4.8)
    assert BEAR.payback_days is None
    assert roi.payback(BEAR.payback_days) == "never"


def test_no_profit_at_all_is_never_too():
    even = Scenario("even", 1.25, 0.4, 45_000, 12)  # R = 12 = C
    assert even.profit_per_day == pytest.approx(0, abs=1e-9)
    assert Scenario("idle", 3.0, 0.0, 45_000, 12).payback_days is None


# --- break-evens ----------------------------------------------------------------------------

def test_break_even_utilization_and_rate_of_each_scenario():
    assert BEAR.break_even_utilization == pytest.approx(1 / 3)
    assert BASE.break_even_utilization == pytest.approx(1 / 6)
    assert BULL.break_even_utilization == pytest.approx(0.1)
    assert BEAR.break_even_rate == pytest.approx(2.5)
    assert BASE.break_even_rate == pytest.approx(1.25)
    assert BULL.break_even_rate == pytest.approx(12 / 16.8)
    # at the break-even, profit is zero
    for s in SETTINGS.scenarios:
        assert Scenario("x", s.rate, s.break_even_utilization, 1, 12).profit_per_day == (
            pytest.approx(0, abs=1e-9))
        assert Scenario("x", s.break_even_rate, s.utilization, 1, 12).profit_per_day == (
            pytest.approx(0, abs=1e-9))


def test_break_even_lines_say_never_and_unreachable():
    assert roi.break_even_line(BASE) == (
        "base  utilization 16.7% at 3 USD/GPU-hr; rate 1.25 USD/GPU-hr at 40%")
    assert roi.break_even_line(Scenario("cheap", 0.4, 0.5, 1, 12)) == (
        "cheap  utilization 125% (unreachable) at 0.4 USD/GPU-hr; rate 1 USD/GPU-hr at 50%")
    assert roi.break_even_line(Scenario("zero", 0, 0, 1, 12)) == (
        "zero  utilization never at 0 USD/GPU-hr; rate never at 0%")


# --- what people type -----------------------------------------------------------------------

def test_a_whole_custom_scenario():
    custom = roi.parse_args(["rate=3.2", "util=55%", "capex=40000", "cost=12"], BASE)
    assert custom == Scenario("custom", 3.2, 0.55, 40_000, 12)
    assert custom.revenue_per_day == pytest.approx(42.24)
    assert roi.payback(custom.payback_days) == "1,323 days ≈ 3.6 years"


def test_what_is_left_out_comes_from_the_base_scenario():
    assert roi.parse_args(["util=55%"], BASE) == Scenario("custom", 3.0, 0.55, 45_000, 12)
    assert roi.parse_args([], BASE) == Scenario("custom", 3.0, 0.40, 45_000, 12)


@pytest.mark.parametrize("args, expected", [
    (["utilization=0.55", "cost_per_day=10"], (3.0, 0.55, 45_000, 10)),
    (["RATE=3.2", "Util=55", "%"], None),  # "55 %" split by a space: "%" is not key=value
    (["rate", "=", "3.2", "capex", "=40,000"], (3.2, 0.4, 40_000, 12)),
    (["capex=40k", "rate=$3.5", "cost=12usd"], (3.5, 0.4, 40_000, 12)),
    (["util=1", "rate=0", "capex=0", "cost=0"], (0, 1.0, 0, 0)),
])
def test_keys_and_numbers_as_people_write_them(args, expected):
    if expected is None:
        with pytest.raises(RoiInputError):
            roi.parse_args(args, BASE)
        return
    custom = roi.parse_args(args, BASE)
    assert (custom.rate, custom.utilization, custom.capex, custom.cost_per_day) == (
        pytest.approx(expected))


@pytest.mark.parametrize("args, message", [
    (["rate3.2"], '"rate3.2" is not key=value: write e.g. rate=3.2 util=55% capex=40000 '
                  "cost=12"),
    (["=3"], '"=3" is not key=value'),
    (["power=3"], 'unknown key "power": use rate, util, capex or cost'),
    (["rate=abc"], 'rate="abc" is not a number'),
    (["rate="], 'rate="" is not a number'),
    (["rate=nan"], 'rate="nan" is not a number'),
    (["rate=3,2"], 'rate="3,2" is not a number (use a dot for decimals)'),
    (["capex=-5"], "capex=-5 is negative: give 0 or more"),
    (["util=-5%"], "util=-5% is negative"),
    (["util=120%"], "util=120% is over 100%"),
    (["util=55"], "util=55 is over 100%: write util=55% or a share such as util=0.55"),
    (["rate=1", "rate=2"], "rate is given twice"),
    (["util=50%", "utilization=0.5"], "utilization is given twice"),
])
def test_clear_errors(args, message):
    with pytest.raises(RoiInputError) as error:
        roi.parse_args(args, BASE)
    assert str(error.value).startswith(message)


# --- numbers for people ---------------------------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (45_000, "45,000"), (2678.57, "2,679"), (28.799999999999997, "28.8"), (84, "84"),
    (-4.8, "−4.8"), (0.714, "0.71"), (1.25, "1.25"), (0, "0"), (0.000016, "0.000016"),
    (-0.0001, "−0.0001"), (1_234_567.8, "1,234,568"),
])
def test_amounts(value, text):
    assert roi.amount(value) == text


def test_money_shares_and_paybacks():
    assert roi.usd(45_000) == "45,000 USD"
    assert [roi.percent(v) for v in (0.4, 1 / 3, 1 / 6, 0.1, 1, 0)] == [
        "40%", "33.3%", "16.7%", "10%", "100%", "0%"]
    assert roi.payback(365) == "365 days ≈ 1 year"
    assert roi.payback(4000) == "4,000 days ≈ 11 years"
    assert roi.payback(1) == "1 day"
    assert roi.payback(0) == "0 days"


# --- from the chain to dollars --------------------------------------------------------------

def test_implied_rate_from_the_worker_fee():
    # 0.000000016 TON/token × 5,000 tokens/s × 3,600 s × 1.0 × 2 USD/TON
    assert roi.implied_rate(FEE, SETTINGS, 2.0) == pytest.approx(0.576)
    tuned = RoiSettings(throughput=2500, worker_price_coefficient=1.5)
    assert roi.implied_rate(FEE, tuned, 3.0) == pytest.approx(1.6e-08 * 2500 * 3600 * 1.5 * 3)
    assert roi.nearest(0.576, SETTINGS.scenarios).name == "bear"
    assert roi.nearest(3.9, SETTINGS.scenarios).name == "base"
    assert roi.nearest(40, SETTINGS.scenarios).name == "bull"


def test_the_worker_fee_is_read_off_the_fact_sheet():
    assert roi.worker_fee_ton({"worker_fee_per_token": fee_fact(FEE)}) == FEE
    assert roi.worker_fee_ton({}) is None
    in_usd = Fact("worker_fee_per_token", {"amount": 1.0, "unit": "USD"}, "$1", "s", "u", "t")
    assert roi.worker_fee_ton({"worker_fee_per_token": in_usd}) is None


@pytest.mark.parametrize("answer, price", [
    ('{"the-open-network": {"usd": 2.13}}', 2.13),  # CoinGecko's simple/price
    ('{"rates": {"TON": {"prices": {"USD": 2.5}, "diff_24h": {"USD": "-1%"}}}}', 2.5),  # tonapi
    ("3.1", 3.1),
    ('[{"usd": 2}]', 2.0),
])
def test_a_ton_price_from_a_price_api(answer, price):
    assert roi.ton_usd_from(answer) == price


@pytest.mark.parametrize("answer, why", [
    ("{}", "no single positive USD price"), ('{"usd": 0}', "no single positive USD price"),
    ('{"usd": "2.1"}', "no single"), ('{"a": {"usd": 1}, "b": {"usd": 2}}', "no single"),
    ("true", "no single"), ("null", "no single"), ("<html>rate limited</html>", "not JSON"),
])
def test_an_answer_without_one_usd_price_is_refused(answer, why):
    with pytest.raises(ValueError, match=why):
        roi.ton_usd_from(answer)


def test_where_the_ton_price_came_from_is_said():
    assert TonPrice(2.0).describe() == "2 USD/TON (configured)"
    assert TonPrice(2.13, "price_url").describe() == "2.13 USD/TON (from price_url)"
    assert TonPrice(2.0, problem="HTTP 503").describe() == (
        "2 USD/TON (configured; price_url failed: HTTP 503)")


# --- the digest line ------------------------------------------------------------------------

LINE = ("ROI: 0.58 USD/GPU-hr implied at 100% utilization with 2 USD/TON (configured), "
        "nearest bear; base payback 2,679 days ≈ 7.3 years (never at the implied rate)")


def test_a_pricing_move_gets_the_line():
    facts = {"worker_fee_per_token": fee_fact(FEE)}
    line = roi.digest_line(SETTINGS, [move("price_per_token", "pricing")], facts, facts,
                           TonPrice(2.0))
    assert line == LINE


def test_a_moved_worker_fee_shows_the_rate_before_and_after():
    line = roi.digest_line(SETTINGS, [move("worker_fee_per_token", "pricing")],
                           {"worker_fee_per_token": fee_fact(2e-07)},
                           {"worker_fee_per_token": fee_fact(FEE)}, TonPrice(2.0))
    assert line.startswith("ROI: 0.58 → 7.2 USD/GPU-hr implied at 100% utilization with "
                           "2 USD/TON (configured), nearest bull; base payback 2,679 days")
    # 7.2 × 24 × 40% − 12 = 57.12 USD a day: 45,000 / 57.12 = 788 days
    assert line.endswith("(788 days ≈ 2.2 years at the implied rate)")


def test_no_pricing_move_no_line_and_no_fee_is_said():
    facts = {"worker_fee_per_token": fee_fact(FEE)}
    assert roi.digest_line(SETTINGS, [move("min_kernel", "hardware")], facts, facts,
                           TonPrice(2.0)) is None
    assert roi.digest_line(SETTINGS, [], facts, facts, TonPrice(2.0)) is None
    assert roi.digest_line(SETTINGS, [move("fee", "pricing")], {}, {}, TonPrice(2.0)) == (
        "ROI: worker fee per token not read yet; base payback 2,679 days ≈ 7.3 years")


# --- the report and `watcher roi` -----------------------------------------------------------

REPORT = """\
ROI of one GPU: capex 45,000 USD, cost 12 USD/day

scenario  rate  util  R/day  C/day  P/day  payback
bear       1.5   20%    7.2     12   −4.8  never
base         3   40%   28.8     12   16.8  2,679 days ≈ 7.3 years
bull         5   70%     84     12     72  625 days ≈ 1.7 years
rate in USD/GPU-hr; R, C, P in USD/day; R = rate × 24 × util, P = R − C

Break-even
bear  utilization 33.3% at 1.5 USD/GPU-hr; rate 2.5 USD/GPU-hr at 20%
base  utilization 16.7% at 3 USD/GPU-hr; rate 1.25 USD/GPU-hr at 40%
bull  utilization 10% at 5 USD/GPU-hr; rate 0.71 USD/GPU-hr at 70%

From the chain
worker fee 0.000000016 TON/token × 5,000 tokens/s × 3,600 s
× coefficient 1 × 2 USD/TON (configured)
= 0.58 USD/GPU-hr at 100% utilization; nearest scenario: bear (1.5 USD/GPU-hr)"""


def test_the_report_of_the_configured_scenarios():
    assert roi.report(SETTINGS, [], FEE) == REPORT


def test_the_report_of_a_custom_scenario():
    text = roi.report(SETTINGS, ["rate=3.2", "util=55%", "capex=40000", "cost=12"], None)
    assert text.splitlines()[:4] == [
        "ROI of one GPU, your scenario: capex 40,000 USD, cost 12 USD/day",
        "",
        "scenario  rate  util  R/day  C/day  P/day  payback",
        "custom     3.2   55%   42.2     12   30.2  1,323 days ≈ 3.6 years",
    ]
    assert "custom  utilization 15.6% at 3.2 USD/GPU-hr; rate 0.91 USD/GPU-hr at 55%" in text
    assert text.endswith("The worker fee per token is not read yet: it comes with the first "
                         "check of the TON root contract.")


@pytest.fixture
def demo_config(tmp_path: Path) -> Path:
    return write_config(tmp_path, "http://127.0.0.1:9")


def test_watcher_roi_prints_the_scenarios(demo_config, capsys):
    assert main(["roi", "--config", str(demo_config)]) == 0
    out = capsys.readouterr().out
    assert out == REPORT.rsplit("\n", 3)[0] + (
        "\nThe worker fee per token is not read yet: it comes with the first check of the TON "
        "root contract.\n")
    assert not (demo_config.parent / "watcher.db").exists()  # no store is made for it


def test_watcher_roi_with_values_and_with_bad_ones(demo_config, capsys):
    assert main(["roi", "--config", str(demo_config), "rate=3.2", "util=55%",
                 "capex=40000", "cost=12"]) == 0
    assert "custom     3.2   55%   42.2     12   30.2  1,323 days ≈ 3.6 years" in (
        capsys.readouterr().out)
    assert main(["roi", "--config", str(demo_config), "util=120%"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "watcher roi: util=120% is over 100%: a GPU is busy at most all day\n"


def test_watcher_roi_reads_the_worker_fee_the_check_stored(tmp_path, capsys):
    with ReplayServer(DATA) as server:
        config_path = write_config(tmp_path, server.base_url)
        assert main(["check", "--config", str(config_path)]) == 0
    capsys.readouterr()
    assert main(["roi", "--config", str(config_path)]) == 0
    assert capsys.readouterr().out == REPORT + "\n"


def test_watcher_roi_without_a_config_file_uses_the_defaults(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WATCHER_CONFIG", raising=False)
    assert main(["roi"]) == 0
    assert "base         3   40%   28.8     12   16.8  2,679 days" in capsys.readouterr().out
