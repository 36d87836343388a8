"""Facts read off text: the numbers and statements the team decides on.

Text is read line by line, keeping the heading and the list label ("Minimum:", "Tested:") each
line sits under, so a GPU listed under "Tested" is a tested GPU and "6.16+" in a prerequisites
list is a minimum kernel. A statement in a negated sentence counts the other way ("Consumer GPUs
are not supported"); one in a sentence that only promises ("will be lifted in the future") does
not count at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from watcher.classify.rules import Family, Rules
from watcher.classify.screen import fold

# name -> label, in the order the fact sheet lists them
LABELS: dict[str, str] = {
    "min_gpu": "Minimum GPU",
    "supported_gpus": "Supported GPUs",
    "tested_gpus": "Tested GPUs",
    "consumer_gpus": "Consumer GPUs supported",
    "gpus_per_guest": "GPUs per guest",
    "cpu_tees": "CPU TEEs",
    "min_kernel": "Minimum host kernel",
    "min_qemu": "Minimum QEMU",
    "vbios_required": "Updated VBIOS required",
    "price_per_token": "Price per token",
    "fee": "Fee / commission",
    "worker_fee_per_token": "Worker fee per token",
    "prompt_price_multiplier": "Prompt tokens price multiplier",
    "cached_price_multiplier": "Cached tokens price multiplier",
    "completion_price_multiplier": "Completion tokens price multiplier",
    "reasoning_price_multiplier": "Reasoning tokens price multiplier",
    "stake": "Stake",
    "min_proxy_stake": "Min proxy stake",
    "min_client_stake": "Min client stake",
    "close_delay": "Close delay",
    "proxy_close_delay": "Proxy close delay",
    "client_close_delay": "Client close delay",
    "root_contract": "Root contract address",
    "contract_owner": "Root contract owner",
    "params_version": "Contract params version",
    "params_struct_version": "Contract params struct version",
    "contract_unique_id": "Contract unique id",
    "contract_is_test": "Test contract",
    "proxy_code_hash": "Proxy contract code hash",
    "worker_code_hash": "Worker contract code hash",
    "client_code_hash": "Client contract code hash",
    "models": "Models",
    "model_hashes": "Model hashes",
    "worker_image_hashes": "Worker image hashes",
    "proxy_image_hashes": "Accepted proxy image hashes",
    "proxies": "Registered proxies",
    "worker_release": "Worker release",
    "worker_build": "Worker download build",
    "docker_client": "Docker client",
    "sdk": "SDK",
    "governance": "Governance",
}
HARDWARE_FACTS = frozenset({"min_gpu", "supported_gpus", "tested_gpus", "consumer_gpus",
                            "gpus_per_guest", "cpu_tees", "min_kernel", "min_qemu",
                            "vbios_required"})
FACT_CATEGORY = {
    **dict.fromkeys(HARDWARE_FACTS, "hardware"),
    "price_per_token": "pricing", "fee": "pricing", "stake": "contract",
    "close_delay": "contract", "root_contract": "contract", "models": "models",
    "worker_release": "tooling", "worker_build": "tooling", "docker_client": "tooling",
    "sdk": "tooling", "governance": "governance",
    "worker_fee_per_token": "pricing", "prompt_price_multiplier": "pricing",
    "cached_price_multiplier": "pricing", "completion_price_multiplier": "pricing",
    "reasoning_price_multiplier": "pricing", "min_proxy_stake": "contract",
    "min_client_stake": "contract", "proxy_close_delay": "contract",
    "client_close_delay": "contract", "contract_owner": "governance",
    "params_version": "contract", "params_struct_version": "contract",
    "contract_unique_id": "contract", "contract_is_test": "contract",
    "proxy_code_hash": "contract", "worker_code_hash": "contract", "client_code_hash": "contract",
    "model_hashes": "models", "worker_image_hashes": "hardware", "proxy_image_hashes": "tooling",
    "proxies": "adoption",
}

# The root contract's fields (the `field` in a ton_root_contract item's meta) -> fact names.
# These facts are read off the chain, not off text: see sheet._chain_facts.
CHAIN_FACTS = {
    "owner": "contract_owner", "price_per_token": "price_per_token",
    "worker_fee_per_token": "worker_fee_per_token",
    "prompt_tokens_price_multiplier": "prompt_price_multiplier",
    "cached_tokens_price_multiplier": "cached_price_multiplier",
    "completion_tokens_price_multiplier": "completion_price_multiplier",
    "reasoning_tokens_price_multiplier": "reasoning_price_multiplier",
    "proxy_delay_before_close": "proxy_close_delay",
    "client_delay_before_close": "client_close_delay",
    "min_proxy_stake": "min_proxy_stake", "min_client_stake": "min_client_stake",
    "params_version": "params_version", "struct_version": "params_struct_version",
    "unique_id": "contract_unique_id", "is_test": "contract_is_test",
    "proxy_sc_code_hash": "proxy_code_hash", "worker_sc_code_hash": "worker_code_hash",
    "client_sc_code_hash": "client_code_hash", "model_hashes": "model_hashes",
    "worker_hashes": "worker_image_hashes", "accepted_proxy_hashes": "proxy_image_hashes",
    "proxies": "proxies",
}
MEMBER_FACTS = frozenset({"model_hashes", "worker_image_hashes", "proxy_image_hashes",
                          "proxies"})
"""Sets read member by member; a move says how many were added and removed."""
DELAY_FACTS = frozenset({"close_delay", "proxy_close_delay", "client_close_delay"})
MULTIPLIER_FACTS = frozenset({"prompt_price_multiplier", "cached_price_multiplier",
                              "completion_price_multiplier", "reasoning_price_multiplier"})
HASH_FACTS = frozenset({"proxy_code_hash", "worker_code_hash", "client_code_hash"})
SUPERSEDED = {"stake": ("min_proxy_stake", "min_client_stake"),
              "close_delay": ("proxy_close_delay", "client_close_delay")}
"""A fact the docs state loosely, left out once the chain states the exact ones."""

NEGATION = re.compile(
    r"\b(?:not|no longer|isn't|aren't|unsupported|never|cannot|can't|dropped|removed|"
    r"discontinued|without)\b", re.IGNORECASE)
_CLAUSE_MARKS = (",", ";", "(", ")", ":", " but ", " while ", " whereas ")
_MARKDOWN = re.compile(r"[*_`]+")
_VERSION = r"(\d+\.\d+(?:\.\d+)?)"
_NUMBER = r"(\d[\d,]*(?:\.\d+)?(?:e-?\d+)?)"
_AT_LEAST = re.compile(r"\+|\bor (?:newer|later|above|higher)\b|\bat least\b|\bminimum\b|"
                       r"\bmin\.?\b|>=|≥|\brequired?\b|\brequires\b", re.IGNORECASE)
_KERNEL = re.compile(r"\bkernel\b[^0-9\n]{0,30}?" + _VERSION + r"(\s*\+)?", re.IGNORECASE)
_QEMU = re.compile(r"\bqemu\b[^0-9\n]{0,40}?" + _VERSION + r"(\s*\+)?", re.IGNORECASE)
_PER_GUEST = re.compile(
    r"\b(only (?:one|a single)|one|a single|single|\d+|several|multiple|many|up to \d+)\s+"
    r"(?:gpus?|graphics cards?)\s+(?:per|in (?:a|one|each))\s+(?:tdx\s+)?(?:guest|worker|vm|"
    r"virtual machine)", re.IGNORECASE)
_CONSUMER = re.compile(r"\bconsumer(?:[- ]grade)? gpus?\b|\bgeforce\b|\brtx series\b|"
                       r"\brtx\s?[2-5]0[5-9]0\b", re.IGNORECASE)
_SUPPORT = re.compile(r"\bsupport(?:s|ed)?\b|\bwork(?:s)? (?:on|with)\b|\baccept(?:s|ed)?\b|"
                      r"\ballowed\b|\bcompatible\b", re.IGNORECASE)
_UNIT = r"\s*(nanoton|nton|ton|usd|%)"
_DOLLARS = re.compile(r"\$\s?(\d[\d,]*(?:\.\d+)?)")
_PRICE = re.compile(r"\bprice per (?:1k |1m |1,000 |million )?tokens?\b[^0-9\n]{0,40}?"
                    + _NUMBER + _UNIT + r"|" + _NUMBER + _UNIT + r"\s*(?:/|per)\s*token",
                    re.IGNORECASE)
_FEE = re.compile(r"\b(?:commissions?|fees?)\b[^0-9\n]{0,40}?~?\s*" + _NUMBER + _UNIT,
                  re.IGNORECASE)
_STAKE = re.compile(r"\bstakes?\b[^0-9\n]{0,40}?" + _NUMBER + r"\s*(nanoton|ton)\b",
                    re.IGNORECASE)
_DELAY = re.compile(
    r"\bclose delay\b[^\n]{0,80}?\b(\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|ten|"
    r"twelve|fourteen|thirty)\s+(second|minute|hour|day|week)s?\b", re.IGNORECASE)
_ADDRESS = re.compile(r"\b[EU]Q[A-Za-z0-9_-]{46}(?![A-Za-z0-9_-])")
_RELEASE = re.compile(r"\bworker\b[^\n]{0,20}?\bv(\d+(?:\.\d+){1,2})\b", re.IGNORECASE)
_DOCKER = re.compile(r"\bdocker(?:ized)? (?:client|image|container|compose|run|pull)\b|"
                     r"\b(?:with|via|in|using) docker\b|\bdockerfile\b", re.IGNORECASE)
_SDK = re.compile(r"\b(?:cocoon|client|developer|python|typescript|javascript|js|go|rust)\s+"
                  r"sdks?\b|\bsdks? (?:for|is|are|now)\b", re.IGNORECASE)
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
          "seven": 7, "ten": 10, "twelve": 12, "fourteen": 14, "thirty": 30}
_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}
_DAO_PROMISED = "dao promised"  # internal: a DAO is announced for the future
_TO_TON = {"nanoton": 1e-9, "nton": 1e-9, "ton": 1.0}


class _Line:
    """One sentence, with the heading and list label it sits under (`context`, lower case).

    What the extractors ask of it is worked out on first use: most sentences are asked nothing.
    """

    __slots__ = ("text", "context", "folded", "_rules", "_negated", "_future", "_gpu", "_tee",
                 "_model")

    def __init__(self, text: str, context: str, rules: Rules):
        self.text, self.context, self._rules = text, context, rules
        self.folded = fold(text)
        self._negated = self._future = self._gpu = self._tee = self._model = None

    @property
    def negated(self) -> bool:
        if self._negated is None:
            self._negated = bool(NEGATION.search(self.text))
        return self._negated

    @property
    def future(self) -> bool:
        if self._future is None:
            self._future = self._rules.future_screen.search(self.text, self.folded)
        return self._future

    @property
    def names_gpu(self) -> bool:
        if self._gpu is None:
            self._gpu = self._rules.gpu_screen.search(self.text, self.folded)
        return self._gpu

    @property
    def names_tee(self) -> bool:
        if self._tee is None:
            self._tee = self._rules.tee_screen.search(self.text, self.folded)
        return self._tee

    @property
    def names_model(self) -> bool:
        if self._model is None:
            self._model = self._rules.model_screen.search(self.text, self.folded)
        return self._model


Said = tuple[tuple[str, str, Any], ...]
"""What one sentence states: ("state", name, value), ("add"/"deny", name, member), in order."""


@dataclass
class _Reading:
    """Facts found so far in one text; sets collect, the rest keep the last statement.

    Extractors state facts through `state`, `add` and `deny`, which `said` records in order, so
    a sentence read once can be replayed onto another text's reading (`replay`)."""

    values: dict[str, Any] = field(default_factory=dict)
    sets: dict[str, set[str]] = field(default_factory=dict)
    denied: dict[str, set[str]] = field(default_factory=dict)
    said: list[tuple[str, str, Any]] = field(default_factory=list)

    def state(self, name: str, value: Any) -> None:
        self.said.append(("state", name, value))
        self.values[name] = dict(value) if isinstance(value, dict) else value

    def add(self, name: str, member: str) -> None:
        self.said.append(("add", name, member))
        self.sets.setdefault(name, set()).add(member)

    def deny(self, name: str, member: str) -> None:
        self.said.append(("deny", name, member))
        self.denied.setdefault(name, set()).add(member)

    def replay(self, said: Said) -> None:
        for op, name, value in said:
            getattr(self, op)(name, value)

    def result(self) -> dict[str, Any]:
        facts = dict(self.values)
        for name, members in self.sets.items():
            kept = members - self.denied.get(name, set())
            if kept:
                facts[name] = sorted(kept)
        return facts


def extract(text: str, rules: Rules) -> dict[str, Any]:
    """Every fact stated in `text`, by name (see LABELS), as JSON-ready values."""
    return FactReader(rules).extract(text)


class FactReader:
    """`extract` for one set of rules, remembering what each sentence (under its heading and
    label) stated: two versions of a page section share most of their sentences, and each is
    read once. Keep one for a batch of related texts, not for ever: it holds every sentence."""

    def __init__(self, rules: Rules):
        self.rules = rules
        self._said: dict[tuple[str, str], Said] = {}

    def extract(self, text: str) -> dict[str, Any]:
        reading = _Reading()
        for key in _sentences(text):
            said = self._said.get(key)
            if said is None:
                said = self._said[key] = _read_line(_Line(*key, self.rules), self.rules)
            reading.replay(said)
        facts = reading.result()
        if facts.pop(_DAO_PROMISED, None) and facts.get("governance") == "centralized":
            facts["governance"] = "centralized, DAO promised"
        return facts


def _read_line(line: _Line, rules: Rules) -> Said:
    """What one sentence states: every extractor that could find something in it, in order."""
    reading = _Reading()
    for could_state, extractor in _EXTRACTORS:
        if could_state(line):
            extractor(line, rules, reading)
    return tuple(reading.said)


_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+")


def _sentences(text: str) -> Iterator[tuple[str, str]]:
    """Each sentence of `text` with its context: the heading and list label it sits under."""
    heading, label = "", ""
    for raw in text.split("\n"):
        line = _MARKDOWN.sub("", raw).strip()
        if not line:
            continue
        if line.startswith("#"):
            heading, label = line.lstrip("#").strip().lower(), ""
            continue
        head, colon, rest = line.partition(":")
        if colon and len(head) <= 40 and not head.lstrip("- ").startswith("http"):
            label = head.lstrip("- ").lower()
            if not rest.strip():
                continue
        context = f"{heading} {label}"
        for sentence in _SENTENCE_END.split(line):
            yield sentence, context


def _gpus(line: _Line, rules: Rules, reading: _Reading) -> None:
    found = _families(line.text, rules.gpus, rules.any_gpu)
    if not found or line.future:
        return
    context = line.context
    is_minimum = "minimum" in context or bool(_AT_LEAST.search(line.text))
    listed = any(word in context for word in ("support", "tested", "minimum", "requirement",
                                              "prerequisite", "hardware"))
    if not (is_minimum or listed or _SUPPORT.search(line.text)):
        return  # a GPU named in passing ("H200, not H100") states no support
    kept = []
    for family in found:
        if _negated_near(line.text, family):
            reading.deny("supported_gpus", family.name)
            reading.deny("tested_gpus", family.name)
        else:
            kept.append(family)
            reading.add("tested_gpus" if "tested" in context else "supported_gpus", family.name)
    if is_minimum and kept and "tested" not in context:
        reading.state("min_gpu", min(kept, key=lambda f: f.rank).name)


def _negated_near(text: str, family: Family) -> bool:
    """Whether the clause that names `family` is negated ("H200 or newer (H100 is no longer
    accepted)" negates H100 only)."""
    match = family.pattern.search(text)
    if match is None:
        return False
    start = max(text.rfind(mark, 0, match.start()) for mark in _CLAUSE_MARKS)
    ends = [i for i in (text.find(mark, match.end()) for mark in _CLAUSE_MARKS) if i != -1]
    return bool(NEGATION.search(text[start + 1:min(ends, default=len(text))]))


def _families(text: str, families: list[Family], any_family: re.Pattern[str]) -> list[Family]:
    """Families named in `text`; a longer name ("H200 NVL") hides the shorter one in it."""
    if not any_family.search(text):
        return []
    spans: list[tuple[int, int, Family]] = []
    for family in families:
        spans += [(m.start(), m.end(), family) for m in family.pattern.finditer(text)]
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    found, end = [], -1
    for start, stop, family in spans:
        if start >= end and family not in found:
            found.append(family)
        end = max(end, stop)
    return found


def _consumer(line: _Line, rules: Rules, reading: _Reading) -> None:
    consumer_named = _CONSUMER.search(line.text) or any(
        f.consumer for f in _families(line.text, rules.gpus, rules.any_gpu))
    if consumer_named and not line.future and _SUPPORT.search(line.text):
        reading.state("consumer_gpus", not line.negated)


def _per_guest(line: _Line, rules: Rules, reading: _Reading) -> None:
    match = _PER_GUEST.search(line.text)
    if not match or line.future:
        return
    amount = match.group(1).lower()
    if amount.startswith(("only", "one", "a single", "single")):
        value: int | str = 1
    elif amount.isdigit() or amount.startswith("up to"):
        value = int(amount.split()[-1])
    else:
        value = "multiple"
    if line.negated and value != 1:
        value = 1  # "multiple GPUs per guest are not supported"
    reading.state("gpus_per_guest", value)


def _tees(line: _Line, rules: Rules, reading: _Reading) -> None:
    if line.future:
        return
    requirement = re.search(r"\bcpu\b|\btee\b|\bsupport|\brequire|\bcapable\b|\bneeds?\b",
                            line.text, re.IGNORECASE)
    if not requirement and "requirement" not in line.context and "prerequisite" not in line.context:
        return
    for family in _families(line.text, rules.tees, rules.any_tee):
        if _negated_near(line.text, family):
            reading.deny("cpu_tees", family.name)
        else:
            reading.add("cpu_tees", family.name)


def _minimum_version(pattern: re.Pattern[str], name: str) -> Callable[..., None]:
    def extractor(line: _Line, rules: Rules, reading: _Reading) -> None:
        match = pattern.search(line.text)
        if not match or line.future:
            return
        stated_minimum = match.group(2) or _AT_LEAST.search(line.text)
        in_requirements = any(w in line.context for w in ("prerequisite", "requirement",
                                                          "minimum"))
        if stated_minimum or in_requirements:
            reading.state(name, match.group(1))

    return extractor


def _vbios(line: _Line, rules: Rules, reading: _Reading) -> None:
    text = line.text.lower()
    if "vbios" not in text or line.future:
        return
    if re.search(r"no longer (?:required|needed|necessary)|not (?:required|needed|necessary)|"
                 r"\boptional\b", text):
        reading.state("vbios_required", False)
    elif re.search(r"\brequire|\bneed|\bmust\b|\bupdated vbios\b|\bcc-enabled vbios\b", text):
        reading.state("vbios_required", True)


def _amount(match: re.Match[str], number_group: int) -> dict[str, Any]:
    number = float(match.group(number_group).replace(",", ""))
    unit = match.group(number_group + 1).lower()
    if unit in _TO_TON:
        return {"amount": round(number * _TO_TON[unit], 12), "unit": "TON"}
    return {"amount": number, "unit": "%" if unit == "%" else "USD"}


def _prices(line: _Line, rules: Rules, reading: _Reading) -> None:
    if line.future:
        return
    text = _DOLLARS.sub(r"\1 USD", line.text)
    if match := _PRICE.search(text):
        group = 1 if match.group(1) else 3
        reading.state("price_per_token", _amount(match, group))
    if match := _FEE.search(text):
        reading.state("fee", _amount(match, 1))
    if match := _STAKE.search(text):
        reading.state("stake", _amount(match, 1))
    if match := _DELAY.search(text):
        count = match.group(1).lower()
        amount = float(count) if count[0].isdigit() else _WORDS[count]
        reading.state("close_delay", int(amount * _SECONDS[match.group(2).lower()]))


def _contract(line: _Line, rules: Rules, reading: _Reading) -> None:
    if match := _ADDRESS.search(line.text):
        reading.state("root_contract", match.group(0))


def _models(line: _Line, rules: Rules, reading: _Reading) -> None:
    if not rules.any_model.search(line.text):
        return
    for pattern in rules.models:
        for match in pattern.finditer(line.text):
            if line.text[match.end():match.end() + 1] == "/":
                continue  # "Qwen/Qwen3-0.6B": the vendor, not a model
            name = match.group(0).rstrip(".-")
            if line.negated and re.search(r"\bno longer\b|\bremoved\b|\bdropped\b", line.text,
                                          re.IGNORECASE):
                reading.deny("models", name)
            else:
                reading.add("models", name)


def _tools(line: _Line, rules: Rules, reading: _Reading) -> None:
    if match := _RELEASE.search(line.text):
        reading.state("worker_release", f"v{match.group(1)}")
    text = line.text.lower()
    for name, pattern in (("docker_client", _DOCKER), ("sdk", _SDK)):
        if pattern.search(text):
            reading.state(name, _availability(line, text))


def _availability(line: _Line, text: str) -> str:
    if line.negated:
        return "not available"
    if line.future:
        return "planned"
    if re.search(r"\bpreview\b|\bbeta\b|\balpha\b|\bearly access\b", text):
        return "preview"
    return "available"


def _governance(line: _Line, rules: Rules, reading: _Reading) -> None:
    text = line.text.lower()
    promised = line.future or "future" in line.context or "future" in text
    if re.search(r"(?<!de)centrali[sz]ed\b", text) and not line.negated:
        reading.state("governance", "centralized")
    if re.search(r"\bdao\b", text) and promised:
        reading.add(_DAO_PROMISED, "yes")
    elif re.search(r"\bdao\b", text) and not line.negated and re.search(
            r"\bnow\b|\blaunch|\bvot|\bgovern|\bcontrol|\bhanded\b|\blive\b", text):
        reading.state("governance", "DAO")


def _words(*words: str) -> Callable[[_Line], bool]:
    if len(words) == 1:
        return lambda line: words[0] in line.folded
    any_word = re.compile("|".join(map(re.escape, words)))
    return lambda line: any_word.search(line.folded) is not None


_CONSUMER_WORDS = _words("consumer", "geforce", "rtx")

# Each extractor with what a sentence must hold for it to find anything (a word every match of
# its patterns needs, in lower case; _prices' words survive its "$5" -> "5 USD" rewrite), so a
# sentence that holds none of them is never searched by it. tests/test_classify_facts.py reads
# texts with and without these checks and compares.
_EXTRACTORS: tuple[tuple[Callable[[_Line], bool], Callable[[_Line, Rules, _Reading], None]],
                   ...] = (
    (lambda line: line.names_gpu, _gpus),
    (lambda line: line.names_gpu or _CONSUMER_WORDS(line), _consumer),
    (_words("gpu", "graphics card"), _per_guest),
    (lambda line: line.names_tee, _tees),
    (_words("kernel"), _minimum_version(_KERNEL, "min_kernel")),
    (_words("qemu"), _minimum_version(_QEMU, "min_qemu")),
    (_words("vbios"), _vbios),
    (_words("token", "fee", "commission", "stake", "close delay"), _prices),
    (_words("eq", "uq"), _contract),
    (lambda line: line.names_model, _models),
    (_words("worker", "docker", "sdk"), _tools),
    (_words("centrali", "dao"), _governance),
)


def version_key(version: str) -> tuple[int, ...]:
    """Versions compare numerically: 6.9 < 6.16 < 6.16.1."""
    return tuple(int(part) for part in re.findall(r"\d+", version))
