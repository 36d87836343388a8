"""The ROI desk: is a GPU on COCOON worth it? Pure functions over the team's model.

Revenue per day R = rate (USD per GPU-hour) × 24 × utilization; cost per day C (power,
colocation, bandwidth, ops reserve); profit P = R − C; payback = capex / P days, and never when
P ≤ 0. The chain's side: the root contract's worker fee per token × the served model's
throughput × the worker's price coefficient × TON/USD is what an hour of a fully busy GPU earns,
the implied rate, compared with the scenarios.

No I/O here: the CLI, the bot and the pipeline hand in the settings, the fact sheet and the
TON price.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from watcher.i18n import ENGLISH, Translator
from watcher.models import Fact, FactMove

HOURS_PER_DAY = 24
DAYS_PER_YEAR = 365
SECONDS_PER_HOUR = 3600
WORKER_FEE = "worker_fee_per_token"
EXAMPLE = "rate=3.2 util=55% capex=40000 cost=12"
MINUS = "\N{MINUS SIGN}"


class RoiInputError(ValueError):
    """An argument a person typed that the desk cannot use, worded for that person."""


@dataclass(frozen=True)
class Scenario:
    """One GPU under one set of assumptions."""

    name: str
    rate: float
    """USD per GPU-hour while busy."""
    utilization: float
    """The busy share of the day, 0 to 1."""
    capex: float
    """USD to buy and install the GPU (its share of the server)."""
    cost_per_day: float
    """USD a day: power + colocation + bandwidth + ops reserve."""

    @property
    def revenue_per_day(self) -> float:
        return self.rate * HOURS_PER_DAY * self.utilization

    @property
    def profit_per_day(self) -> float:
        return self.revenue_per_day - self.cost_per_day

    @property
    def payback_days(self) -> float | None:
        """Days until the profit has paid the capex; None (never) when there is no profit."""
        profit = self.profit_per_day
        return self.capex / profit if profit > 0 else None

    @property
    def break_even_utilization(self) -> float | None:
        """The utilization at which this rate just covers the cost (may exceed 1: never)."""
        return break_even_utilization(self.rate, self.cost_per_day)

    @property
    def break_even_rate(self) -> float | None:
        """The rate at which this utilization just covers the cost."""
        return break_even_rate(self.utilization, self.cost_per_day)


def break_even_utilization(rate: float, cost_per_day: float) -> float | None:
    """The share of the day a GPU must be busy at `rate` to earn its cost; None if never."""
    return cost_per_day / (rate * HOURS_PER_DAY) if rate > 0 else None


def break_even_rate(utilization: float, cost_per_day: float) -> float | None:
    """The USD per GPU-hour that earns the cost at `utilization`; None if never."""
    return cost_per_day / (HOURS_PER_DAY * utilization) if utilization > 0 else None


DEFAULT_CAPEX = 45_000.0
DEFAULT_COST_PER_DAY = 12.0
DEFAULT_SCENARIOS = (
    Scenario("bear", 1.5, 0.20, DEFAULT_CAPEX, DEFAULT_COST_PER_DAY),
    Scenario("base", 3.0, 0.40, DEFAULT_CAPEX, DEFAULT_COST_PER_DAY),
    Scenario("bull", 5.0, 0.70, DEFAULT_CAPEX, DEFAULT_COST_PER_DAY),
)


@dataclass(frozen=True)
class RoiSettings:
    """The [roi] table of the config (watcher.config validates it)."""

    capex: float = DEFAULT_CAPEX
    cost_per_day: float = DEFAULT_COST_PER_DAY
    scenarios: tuple[Scenario, ...] = DEFAULT_SCENARIOS
    """Each with the capex and cost above; one is named "base"."""
    throughput: float = 5000.0
    """Tokens per second one GPU serves (an estimate for an H100 serving Qwen3-8B)."""
    worker_price_coefficient: float = 1.0
    """The multiplier the worker applies to the on-chain worker fee."""
    ton_usd: float = 2.0
    """USD per TON, as configured."""
    price_url: str = ""
    """A JSON price of TON in USD the weekly check reads; empty: use ton_usd."""

    @property
    def base(self) -> Scenario:
        return next(s for s in self.scenarios if s.name == "base")


@dataclass(frozen=True)
class TonPrice:
    """The TON/USD rate used, and where it came from, said with the figures."""

    usd: float
    source: str = "configured"
    problem: str | None = None
    """Why a price_url could not be used (the configured rate was used instead)."""

    def describe(self, t: Translator = ENGLISH) -> str:
        """"2 USD/TON (configured)", "2.1 USD/TON (from price_url)"."""
        where = {"price_url": t("from price_url"), "configured": t("configured")}.get(
            self.source, self.source)
        if self.problem:
            where += t("; price_url failed: {problem}", problem=self.problem)
        return t("{price}/TON ({where})", price=usd(self.usd), where=where)


# --- from the chain to dollars --------------------------------------------------------------

def worker_fee_ton(facts: Mapping[str, Fact]) -> float | None:
    """The root contract's worker fee per token in TON, if the fact sheet has it."""
    fact = facts.get(WORKER_FEE)
    value = fact.value if fact is not None else None
    if isinstance(value, dict) and value.get("unit") == "TON":
        return float(value["amount"])
    return None


def implied_rate(fee_ton_per_token: float, settings: RoiSettings, ton_usd: float) -> float:
    """USD per GPU-hour at 100% utilization: fee × tokens/s × 3600 × coefficient × TON/USD."""
    return (fee_ton_per_token * settings.throughput * SECONDS_PER_HOUR
            * settings.worker_price_coefficient * ton_usd)


def nearest(rate: float, scenarios: Iterable[Scenario]) -> Scenario:
    """The scenario whose rate is closest to `rate` (the first of a tie)."""
    return min(scenarios, key=lambda s: abs(s.rate - rate))


def ton_usd_from(body: str) -> float:
    """The TON price in USD from a price API's JSON answer: a bare number, or the one number
    under a "usd" key anywhere in it (CoinGecko's {"the-open-network": {"usd": 2.1}}, tonapi's
    {"rates": {"TON": {"prices": {"USD": 2.1}}}}). ValueError says why it is not."""
    try:
        data = json.loads(body)
    except ValueError:
        raise ValueError("the answer is not JSON") from None
    found = [data] if _is_number(data) else list(_usd_values(data))
    if len(found) != 1 or not found[0] > 0:
        raise ValueError("no single positive USD price in the answer")
    return float(found[0])


def _usd_values(data: Any) -> Iterable[float]:
    if isinstance(data, dict):
        for key, value in data.items():
            if str(key).lower() == "usd" and _is_number(value):
                yield value
            else:
                yield from _usd_values(value)
    elif isinstance(data, list):
        for value in data:
            yield from _usd_values(value)


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


# --- reading what people type ---------------------------------------------------------------

_KEYS = {"rate": "rate", "util": "utilization", "utilization": "utilization",
         "capex": "capex", "cost": "cost_per_day", "cost_per_day": "cost_per_day"}
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def parse_args(args: Sequence[str], base: Scenario, t: Translator = ENGLISH) -> Scenario:
    """`rate=3.2 util=55% capex=40000 cost=12` (any of them, any order) as a scenario named
    "custom"; what is not given comes from `base`."""
    text = re.sub(r"\s*=\s*", "=", " ".join(args)).strip()
    given: dict[str, float] = {}
    for word in text.split():
        key, equals, raw = word.partition("=")
        if not equals or not key:
            raise RoiInputError(t('"{word}" is not key=value: write e.g. {example}', word=word,
                                  example=EXAMPLE))
        field_name = _KEYS.get(key.lower())
        if field_name is None:
            raise RoiInputError(t('unknown key "{key}": use rate, util, capex or cost', key=key))
        if field_name in given:
            raise RoiInputError(t("{key} is given twice", key=key))
        if field_name == "utilization":
            given[field_name] = parse_share(raw, key, t)
        else:
            given[field_name] = parse_amount(raw, key, t)
    return replace(base, name="custom", **given)


def parse_amount(raw: str, key: str, t: Translator = ENGLISH) -> float:
    """A non-negative number as people write it: 40000, 40,000, 40k, $3.2, 12 USD."""
    text = raw.strip().lower().removeprefix("$").removesuffix("usd").strip()
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    scale = 1000.0 if text.endswith("k") else 1.0
    value = _number(text.removesuffix("k") if scale > 1 else text, key, raw, t)
    return value * scale


def parse_share(raw: str, key: str, t: Translator = ENGLISH) -> float:
    """A utilization, 0 to 1: "55%" or 0.55 (a bare number over 1 is refused, not guessed)."""
    text = raw.strip()
    if text.endswith("%"):
        share = _number(text[:-1].strip(), key, raw, t) / 100
    else:
        share = _number(text, key, raw, t)
        if share > 1:
            raise RoiInputError(t("{key}={raw} is over 100%: write {key}={value}% "
                                  "or a share such as {key}=0.55",
                                  key=key, raw=raw, value=_plain(share)))
    if share > 1:
        raise RoiInputError(t("{key}={raw} is over 100%: a GPU is busy at most all day",
                              key=key, raw=raw))
    return share


def _number(text: str, key: str, raw: str, t: Translator = ENGLISH) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        hint = t(" (use a dot for decimals)") if re.fullmatch(r"\d+,\d+", text) else ""
        raise RoiInputError(t('{key}="{raw}" is not a number{hint}', key=key, raw=raw,
                              hint=hint))
    if value < 0:
        raise RoiInputError(t("{key}={raw} is negative: give 0 or more", key=key, raw=raw))
    return value


# --- numbers for people ---------------------------------------------------------------------

def amount(value: float) -> str:
    """45,000; 2,679; 28.8; 0.71; 0.000016; −4.8 (the true minus sign)."""
    size = abs(value)
    if size >= 1000:
        digits = 0
    elif size >= 10:
        digits = 1
    elif size >= 0.01 or size == 0:
        digits = 2
    else:
        digits = 1 - math.floor(math.log10(size))  # two significant digits
    text = f"{size:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return (MINUS if value < 0 and text != "0" else "") + text


def usd(value: float) -> str:
    return f"{amount(value)} USD"


def percent(share: float) -> str:
    """0.4 -> "40%", 1/3 -> "33.3%"."""
    return f"{_plain(round(share * 100, 1))}%"


def payback(days: float | None, t: Translator = ENGLISH) -> str:
    """"2,679 days ≈ 7.3 years", "625 days ≈ 1.7 years", or "never"."""
    if days is None:
        return t("never")
    whole = round(days)
    text = t.plural(whole, "{count} day", "{count} days", count=f"{whole:,}")
    years = round(days / DAYS_PER_YEAR, 1)
    if years == 0:
        return text
    return t.plural(1 if years == 1 else 2, "{days} ≈ {count} year", "{days} ≈ {count} years",
                    days=text, count=_plain(years))


def _plain(number: float) -> str:
    """One decimal at most, none when whole: 7.3, 40, 1,250."""
    return f"{number:,.1f}" if number != int(number) else f"{int(number):,}"


def break_even_line(scenario: Scenario, width: int = 0, t: Translator = ENGLISH) -> str:
    """"base  utilization 16.7% at 3 USD/GPU-hr; rate 1.25 USD/GPU-hr at 40%"."""
    at_rate = t("at {rate}/GPU-hr", rate=usd(scenario.rate))
    at_util = t("at {share}", share=percent(scenario.utilization))
    util, rate = scenario.break_even_utilization, scenario.break_even_rate
    util_text = t("never") if util is None else percent(util)
    if util is not None and util > 1:
        util_text += t(" (unreachable)")
    rate_text = t("never") if rate is None else t("{usd}/GPU-hr", usd=usd(rate))
    return t("{name}  utilization {util} {at_rate}; rate {rate} {at_util}",
             name=f"{scenario.name:<{width}}", util=util_text, at_rate=at_rate, rate=rate_text,
             at_util=at_util)


# --- the desk's answers ---------------------------------------------------------------------

def report(settings: RoiSettings, args: Sequence[str], fee_ton_per_token: float | None,
           ton: TonPrice | None = None, t: Translator = ENGLISH) -> str:
    """What `watcher roi` and /roi say: the scenarios (or the one custom scenario `args`
    describe) as a table, their break-evens, and the rate the chain implies."""
    ton = ton or TonPrice(settings.ton_usd)
    if args:
        scenarios = [parse_args(args, settings.base, t)]
        custom = scenarios[0]
        title = t("ROI of one GPU, your scenario: capex {capex}, cost {cost}/day",
                  capex=usd(custom.capex), cost=usd(custom.cost_per_day))
    else:
        scenarios = list(settings.scenarios)
        title = t("ROI of one GPU: capex {capex}, cost {cost}/day", capex=usd(settings.capex),
                  cost=usd(settings.cost_per_day))
    lines = [title, "", *table(scenarios, t),
             t("rate in USD/GPU-hr; R, C, P in USD/day; R = rate × 24 × util, P = R − C"), "",
             t("Break-even")]
    width = max(len(s.name) for s in scenarios)
    lines += [break_even_line(s, width, t) for s in scenarios]
    lines += ["", t("From the chain"), *chain_lines(settings, fee_ton_per_token, ton, t)]
    return "\n".join(lines)


def table(scenarios: Sequence[Scenario], t: Translator = ENGLISH) -> list[str]:
    """The scenarios as aligned columns: rate, util, R, C, P per day, payback."""
    header = (t("scenario"), t("rate"), t("util"), t("R/day"), t("C/day"), t("P/day"),
              t("payback"))
    rows = [header] + [(s.name, amount(s.rate), percent(s.utilization),
                        amount(s.revenue_per_day), amount(s.cost_per_day),
                        amount(s.profit_per_day), payback(s.payback_days, t))
                       for s in scenarios]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return ["  ".join([row[0].ljust(widths[0]),
                       *(cell.rjust(w) for cell, w in zip(row[1:-1], widths[1:], strict=True)),
                       row[-1]]) for row in rows]


def chain_lines(settings: RoiSettings, fee_ton_per_token: float | None,
                ton: TonPrice, t: Translator = ENGLISH) -> list[str]:
    if fee_ton_per_token is None:
        return [t("The worker fee per token is not read yet: it comes with the first check of "
                  "the TON root contract.")]
    rate = implied_rate(fee_ton_per_token, settings, ton.usd)
    close = nearest(rate, settings.scenarios)
    return [
        t("worker fee {fee} TON/token × {throughput} tokens/s × 3,600 s",
          fee=_ton(fee_ton_per_token), throughput=amount(settings.throughput)),
        t("× coefficient {coefficient} × {ton}",
          coefficient=amount(settings.worker_price_coefficient), ton=ton.describe(t)),
        t("= {rate}/GPU-hr at 100% utilization; nearest scenario: {name} "
          "({scenario_rate}/GPU-hr)", rate=usd(rate), name=close.name,
          scenario_rate=usd(close.rate)),
    ]


def digest_line(settings: RoiSettings, moves: Sequence[FactMove],
                facts: Mapping[str, Fact], previous: Mapping[str, Fact],
                ton: TonPrice, t: Translator = ENGLISH) -> str | None:
    """One line for a digest in which a pricing fact moved: the rate the worker fee now
    implies, the base scenario's payback and the payback at that rate; None when no pricing
    fact moved. Kept short: a week's digest is one Telegram message where it can be."""
    if not any(m.category == "pricing" for m in moves):
        return None
    base = settings.base
    head = t("base payback {payback}", payback=payback(base.payback_days, t))
    fee = worker_fee_ton(facts)
    if fee is None:
        return t("ROI: worker fee per token not read yet; {head}", head=head)
    rate = implied_rate(fee, settings, ton.usd)
    shown = usd(rate)
    before = worker_fee_ton(previous)
    if before is not None and before != fee:
        shown = f"{amount(implied_rate(before, settings, ton.usd))} → {shown}"
    at_rate = replace(base, rate=rate).payback_days
    close = nearest(rate, settings.scenarios).name
    return t("ROI: {shown}/GPU-hr implied at 100% utilization with {ton}, nearest {close}; "
             "{head} ({payback} at the implied rate)", shown=shown, ton=ton.describe(t),
             close=close, head=head, payback=payback(at_rate, t))


def _ton(value: float) -> str:
    return f"{value:.12f}".rstrip("0").rstrip(".")
