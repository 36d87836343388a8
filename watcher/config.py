"""Load and validate config/watcher.toml: the only place that reads it.

Every problem is reported as one `ConfigError` naming the file, the key and the fix, so a
user never meets a stack trace for a typo.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from watcher.roi import RoiInputError, RoiSettings, Scenario, parse_share
from watcher.sources import kind_names, source_kind

DEFAULT_PATH = Path("config/watcher.toml")
ENV_VAR = "WATCHER_CONFIG"
LANGUAGES = ("en", "vi")
FILTERED_EMPTY = ("skip", "line")
ROI_KEYS = {"capex", "cost_per_day", "scenarios", "throughput", "worker_price_coefficient",
            "ton_usd", "price_url"}


class ConfigError(Exception):
    """A config problem, worded for the person who has to fix the file."""

    def __init__(self, path: Path | str, key: str, problem: str, fix: str):
        self.path, self.key, self.problem, self.fix = str(path), key, problem, fix
        super().__init__(f"{self.path}: {key}: {problem} (fix: {fix})")


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str
    options: dict[str, Any]


@dataclass(frozen=True)
class HttpSettings:
    timeout: float = 20.0
    user_agent: str = "cocoon-watcher (+https://github.com/TelegramMessenger/cocoon watcher)"
    max_bytes: int = 5 * 1024 * 1024
    retries: int = 3
    """Tries in all for a request that times out, is refused, or gets 429/5xx."""
    retry_max_wait: float = 30.0
    """No single wait between tries is longer, a server's Retry-After included."""
    per_host: int = 4
    """Requests at the same time to one host, across all sources of a run."""


@dataclass(frozen=True)
class DigestSettings:
    send_empty: bool = True
    excerpt_chars: int = 300


@dataclass(frozen=True)
class CheckSettings:
    failure_alert_after: int = 3
    """Consecutive failed runs of a source before the team is warned (once)."""
    suspect_shrink: float = 0.5
    """A page that shrinks by more than this share is held back until seen again."""


@dataclass(frozen=True)
class ArchiveSettings:
    export_dir: Path | None = None
    """Where the static archive is rewritten after every stored run; None: only on demand."""
    public_url: str = ""
    """Where that folder is published; the bot and the feed link there when set."""


@dataclass(frozen=True)
class TelegramSettings:
    token_env: str = "TELEGRAM_BOT_TOKEN"
    chats: tuple[int, ...] = ()
    """Team chats: every digest goes to them, whoever subscribed."""
    api_base_url: str = "https://api.telegram.org"
    cron: str = "0 9 * * mon"
    timezone: str = "Asia/Ho_Chi_Minh"
    cooldown_minutes: float = 10.0
    allow_users: tuple[int, ...] = ()
    allow_chats: tuple[int, ...] = ()
    """Who may run /check and /subscribe; both empty means everyone."""
    filtered_empty: str = "skip"
    """A subscriber whose categories a digest does not touch: "skip" it or send one "line"."""


@dataclass(frozen=True)
class Config:
    path: Path
    store_path: Path
    language: str = "en"
    ignore: tuple[str, ...] = ()
    http: HttpSettings = field(default_factory=HttpSettings)
    digest: DigestSettings = field(default_factory=DigestSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    checks: CheckSettings = field(default_factory=CheckSettings)
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    roi: RoiSettings = field(default_factory=RoiSettings)
    rules_path: Path | None = None
    """The team's classification rules (relative paths are from the config file's folder)."""
    sources: tuple[SourceConfig, ...] = ()


def resolve_path(cli_path: str | None) -> Path:
    """--config wins, then $WATCHER_CONFIG, then the shipped config/watcher.toml."""
    return Path(cli_path or os.environ.get(ENV_VAR) or DEFAULT_PATH)


def load(path: Path) -> Config:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            path, "(file)", "not found", f"create it, or pass --config / set {ENV_VAR}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "(file)", f"cannot be read: {exc}", "check the path") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "(syntax)", str(exc), "correct the TOML syntax") from None
    return parse(raw, path)


def parse(raw: Mapping[str, Any], path: Path) -> Config:
    check = _Checker(path)
    check.known_keys(raw, "", {"language", "ignore", "store", "http", "digest", "telegram",
                                "classify", "checks", "archive", "roi", "sources"})
    language = check.choice(raw, "language", LANGUAGES, "en")
    store = check.table(raw, "store", {"path"})
    http = check.table(raw, "http", {"timeout", "user_agent", "max_bytes", "retries",
                                     "retry_max_wait", "per_host"})
    digest = check.table(raw, "digest", {"send_empty", "excerpt_chars"})
    checks = check.table(raw, "checks", {"failure_alert_after", "suspect_shrink"})
    archive = check.table(raw, "archive", {"export_dir", "public_url"})
    export_dir = check.typed(archive, "archive.export_dir", str, "")
    public_url = check.typed(archive, "archive.public_url", str, "")
    if public_url:
        check.url(public_url, "archive.public_url")
    classify = check.table(raw, "classify", {"rules"})
    rules = check.typed(classify, "classify.rules", str, None)
    telegram = check.table(raw, "telegram", {
        "token_env", "chats", "api_base_url", "cron", "timezone", "cooldown_minutes",
        "allow_users", "allow_chats", "filtered_empty"})
    return Config(
        path=path,
        store_path=Path(check.typed(store, "store.path", str, "data/watcher.db")),
        language=language,
        ignore=tuple(check.patterns(raw, "ignore")),
        http=HttpSettings(
            timeout=check.positive(http, "http.timeout", HttpSettings.timeout),
            user_agent=check.typed(http, "http.user_agent", str, HttpSettings.user_agent),
            max_bytes=int(check.positive(http, "http.max_bytes", HttpSettings.max_bytes)),
            retries=int(check.positive(http, "http.retries", HttpSettings.retries)),
            retry_max_wait=check.positive(http, "http.retry_max_wait",
                                          HttpSettings.retry_max_wait),
            per_host=check.count(http, "http.per_host", HttpSettings.per_host),
        ),
        digest=DigestSettings(
            send_empty=check.typed(digest, "digest.send_empty", bool, True),
            excerpt_chars=int(check.positive(digest, "digest.excerpt_chars", 300)),
        ),
        telegram=_telegram(telegram, check),
        rules_path=path.parent / rules if rules else None,
        archive=ArchiveSettings(export_dir=Path(export_dir) if export_dir else None,
                                public_url=public_url),
        roi=_roi(check.table(raw, "roi", ROI_KEYS), check),
        checks=CheckSettings(
            failure_alert_after=int(check.positive(checks, "checks.failure_alert_after", 3)),
            suspect_shrink=check.fraction(checks, "checks.suspect_shrink", 0.5),
        ),
        sources=tuple(_sources(raw.get("sources"), check)),
    )


def _roi(table: dict[str, Any], check: _Checker) -> RoiSettings:
    default = RoiSettings()
    capex = check.non_negative(table, "roi.capex", default.capex)
    cost = check.non_negative(table, "roi.cost_per_day", default.cost_per_day)
    price_url = check.typed(table, "roi.price_url", str, default.price_url)
    if price_url:
        check.url(price_url, "roi.price_url")
    return RoiSettings(
        capex=capex,
        cost_per_day=cost,
        scenarios=_scenarios(table.get("scenarios"), capex, cost, check),
        throughput=float(check.positive(table, "roi.throughput", default.throughput)),
        worker_price_coefficient=float(check.positive(table, "roi.worker_price_coefficient",
                                                      default.worker_price_coefficient)),
        ton_usd=float(check.positive(table, "roi.ton_usd", default.ton_usd)),
        price_url=price_url,
    )


def _scenarios(raw: Any, capex: float, cost: float, check: _Checker) -> tuple[Scenario, ...]:
    """[roi.scenarios]: the whole list when given (one named base), else bear, base, bull."""
    example = "base = { rate = 3.0, utilization = 0.4 }"
    if raw is None:
        return tuple(Scenario(s.name, s.rate, s.utilization, capex, cost)
                     for s in RoiSettings().scenarios)
    if not isinstance(raw, dict) or not raw or not all(isinstance(v, dict) for v in raw.values()):
        raise ConfigError(check.path, "roi.scenarios", "must be a table of scenarios",
                          f"write one line per scenario, e.g. {example}")
    if "base" not in raw:
        raise ConfigError(check.path, "roi.scenarios", "no base scenario",
                          f"add {example}: the digest's payback line uses it")
    result = []
    for name, table in raw.items():
        where = f"roi.scenarios.{name}"
        check.known_keys(table, where, {"rate", "utilization"})
        for key in ("rate", "utilization"):
            if key not in table:
                raise ConfigError(check.path, f"{where}.{key}", "missing",
                                  f"give every scenario a rate and a utilization: {example}")
        result.append(Scenario(name, check.non_negative(table, f"{where}.rate", 0.0),
                               check.share(table, f"{where}.utilization"), capex, cost))
    return tuple(result)


def _telegram(table: dict[str, Any], check: _Checker) -> TelegramSettings:
    default = TelegramSettings()
    api_base_url = check.typed(table, "telegram.api_base_url", str, default.api_base_url)
    check.url(api_base_url, "telegram.api_base_url")
    timezone = check.timezone(table, "telegram.timezone", default.timezone)
    return TelegramSettings(
        token_env=check.env_name(table, "telegram.token_env", default.token_env),
        chats=tuple(check.int_list(table, "telegram.chats")),
        api_base_url=api_base_url.rstrip("/"),
        cron=check.cron(table, "telegram.cron", default.cron, timezone),
        timezone=timezone,
        cooldown_minutes=check.positive(table, "telegram.cooldown_minutes",
                                        default.cooldown_minutes),
        allow_users=tuple(check.int_list(table, "telegram.allow_users", "user ids",
                                         "[123456789]")),
        allow_chats=tuple(check.int_list(table, "telegram.allow_chats")),
        filtered_empty=check.choice(table, "telegram.filtered_empty", FILTERED_EMPTY,
                                    default.filtered_empty),
    )


def _sources(raw: Any, check: _Checker) -> list[SourceConfig]:
    if raw is None:
        raise ConfigError(check.path, "sources", "no sources configured",
                          "add at least one [[sources]] table with a name and a kind")
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        raise ConfigError(check.path, "sources", "must be an array of tables",
                          "write each source as a [[sources]] table")
    seen: set[str] = set()
    result = []
    for index, table in enumerate(raw):
        where = f"sources[{index}]"
        name = check.typed(table, f"{where}.name", str, None)
        if not name:
            raise ConfigError(check.path, f"{where}.name", "missing",
                              "give every source a unique name")
        where = f"sources[{index}] ({name})"
        if name in seen:
            raise ConfigError(check.path, f"{where}.name", f"duplicate source name {name!r}",
                              "give every source a unique name")
        seen.add(name)
        result.append(_source(table, where, name, check))
    return result


def _source(table: dict[str, Any], where: str, name: str, check: _Checker) -> SourceConfig:
    kind = table.get("kind")
    cls = source_kind(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ConfigError(check.path, f"{where}.kind", f"unknown source kind {kind!r}",
                          f"use one of {', '.join(kind_names())}")
    accepted = {**cls.common, **cls.defaults}
    check.known_keys(table, where, {"name", "kind", *cls.required, *accepted})
    for key in cls.required:
        if key not in table:
            raise ConfigError(check.path, f"{where}.{key}", "missing",
                              f"a {kind} source needs {key}")
    options: dict[str, Any] = {}
    for key in (*cls.required, *accepted):
        default = accepted.get(key)
        value = table.get(key, default)
        if default is not None and key in table:
            value = check.like(table, f"{where}.{key}", default)
        if key == "ignore":
            value = check.patterns(table, f"{where}.ignore", key="ignore")
        elif key.endswith("url") and value:
            check.url(value, f"{where}.{key}")
        elif key.endswith("urls"):
            for i, url in enumerate(value):
                check.url(url, f"{where}.{key}[{i}]")
        elif key.endswith("_env"):
            check.env_name(table, f"{where}.{key}", default, key=key)
        options[key] = value
    return SourceConfig(name=name, kind=kind, options=options)


@dataclass
class _Checker:
    """Small typed accessors that raise ConfigError with the dotted key on a wrong value."""

    path: Path

    def known_keys(self, table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                dotted = f"{where}.{key}" if where else key
                raise ConfigError(self.path, dotted, "unknown key",
                                  f"remove it or use one of {', '.join(sorted(allowed))}")

    def table(self, raw: Mapping[str, Any], key: str, allowed: set[str]) -> dict[str, Any]:
        value = raw.get(key, {})
        if not isinstance(value, dict):
            raise ConfigError(self.path, key, "must be a table", f"write it as [{key}]")
        self.known_keys(value, key, allowed)
        return value

    def typed(self, table: Mapping[str, Any], dotted: str, kind: type, default: Any) -> Any:
        value = table.get(dotted.rsplit(".", 1)[-1], default)
        if value is not None and not _is(value, kind):
            raise ConfigError(self.path, dotted, f"{value!r} is not a {kind.__name__}",
                              f"give a {kind.__name__} value")
        return value

    def like(self, table: Mapping[str, Any], dotted: str, default: Any) -> Any:
        return self.typed(table, dotted, float if isinstance(default, float) else type(default),
                          default)

    def positive(self, table: Mapping[str, Any], dotted: str, default: float) -> float:
        value = self.typed(table, dotted, float, default)
        if value <= 0:
            raise ConfigError(self.path, dotted, f"{value!r} must be greater than 0",
                              "give a positive number")
        return value

    def count(self, table: Mapping[str, Any], dotted: str, default: int) -> int:
        value = self.typed(table, dotted, int, default)
        if value < 1:
            raise ConfigError(self.path, dotted, f"{value!r} must be at least 1",
                              "give a whole number such as 4")
        return value

    def fraction(self, table: Mapping[str, Any], dotted: str, default: float) -> float:
        value = self.typed(table, dotted, float, default)
        if not 0 < value < 1:
            raise ConfigError(self.path, dotted, f"{value!r} is not between 0 and 1",
                              "give a share such as 0.5 for 50%")
        return value

    def non_negative(self, table: Mapping[str, Any], dotted: str, default: float) -> float:
        value = self.typed(table, dotted, float, default)
        if value < 0:
            raise ConfigError(self.path, dotted, f"{value!r} is negative", "give 0 or more")
        return float(value)

    def share(self, table: Mapping[str, Any], dotted: str) -> float:
        """A utilization: a number from 0 to 1, or a string such as "40%"."""
        value = table.get(dotted.rsplit(".", 1)[-1])
        fix = 'give a share from 0 to 1, e.g. 0.4, or a percentage such as "40%"'
        if isinstance(value, str):
            try:
                return parse_share(value, "utilization")
            except RoiInputError:
                raise ConfigError(self.path, dotted, f"{value!r} is not a share from 0% to 100%",
                                  fix) from None
        value = self.non_negative(table, dotted, 0.0)
        if value > 1:
            raise ConfigError(self.path, dotted, f"{value!r} is over 100%", fix)
        return value

    def int_list(self, table: Mapping[str, Any], dotted: str, what: str = "chat ids",
                 example: str = "[-1001234567890]") -> list[int]:
        value = self.typed(table, dotted, list, [])
        if not all(_is(v, int) for v in value):
            raise ConfigError(self.path, dotted, f"must be a list of numeric {what}",
                              f"write {what} as numbers, e.g. {example}")
        return value

    def choice(self, table: Mapping[str, Any], dotted: str, choices: tuple[str, ...],
               default: str) -> str:
        value = self.typed(table, dotted, str, default)
        if value not in choices:
            raise ConfigError(self.path, dotted, f"{value!r} is not supported",
                              f"use one of {', '.join(choices)}")
        return value

    def timezone(self, table: Mapping[str, Any], dotted: str, default: str) -> str:
        value = self.typed(table, dotted, str, default)
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(self.path, dotted, f"{value!r} is not a known time zone",
                              'give an IANA zone name, e.g. "Asia/Ho_Chi_Minh" or "UTC"'
                              ) from None
        return value

    def cron(self, table: Mapping[str, Any], dotted: str, default: str, timezone: str) -> str:
        value = self.typed(table, dotted, str, default)
        if value == default:
            return value  # known good: importing APScheduler to check it costs every run ~25 ms
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value, timezone=ZoneInfo(timezone))
        except ValueError as exc:
            raise ConfigError(self.path, dotted, f"{value!r} is not a cron expression ({exc})",
                              'give five fields: minute hour day month weekday, e.g. '
                              '"0 9 * * mon"') from None
        return value

    def patterns(self, table: Mapping[str, Any], dotted: str, key: str = "ignore") -> list[str]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
            raise ConfigError(self.path, dotted, "must be a list of regular expressions",
                              'write e.g. ignore = ["\\\\d+ views"]')
        for i, pattern in enumerate(value):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(self.path, f"{dotted}[{i}]", f"bad regular expression: {exc}",
                                  "fix the pattern (TOML strings need \\\\ for a backslash)"
                                  ) from None
        return value

    def url(self, value: Any, dotted: str) -> None:
        parts = urlsplit(value) if isinstance(value, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(self.path, dotted, f"{value!r} is not an http(s) URL",
                              "give a full URL starting with https://")

    def env_name(self, table: Mapping[str, Any], dotted: str, default: str,
                 key: str | None = None) -> str:
        value = table.get(key or dotted.rsplit(".", 1)[-1], default)
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ConfigError(self.path, dotted, f"{value!r} is not an environment variable name",
                              "name the variable that holds the secret, e.g. GITHUB_TOKEN; "
                              "never put the secret itself in the file")
        return value


def _is(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)
