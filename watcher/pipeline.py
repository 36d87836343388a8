"""One check run, start to end: the only orchestrator.

sources -> noise filter -> diff -> classify -> digest -> store. A source that fails is recorded
as failed and its snapshot stays as it was; it never stops the others. The fact sheet is built
from every source's current items (a failed source's stored ones), so an outage moves no fact.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import httpx

from watcher import classify, diff, digest, roi, suspect
from watcher.classify import sheet
from watcher.classify.cache import FactCache
from watcher.classify.changes import classify as classify_changes
from watcher.config import Config
from watcher.i18n import Translator, translator
from watcher.models import Alert, Change, Digest, Fetched, Item, SourceOutcome
from watcher.noise import NoiseFilter
from watcher.sources import FetchContext, FetchError, Source, source_kind
from watcher.sources.base import VALIDATORS, HostLimits, HostPools, RetryPolicy
from watcher.store import Recipients, SourceUpdate, Store

log = logging.getLogger(__name__)

Progress = Callable[[SourceOutcome], None]
PRICE_TIMEOUT = 10.0  # seconds, at most, for roi.price_url


@dataclass
class CheckResult:
    digest: Digest
    text: str
    html: str
    run_id: int | None

    @property
    def all_failed(self) -> bool:
        return bool(self.digest.outcomes) and len(self.digest.failed) == len(
            self.digest.outcomes)


@dataclass
class _SourceRun:
    outcome: SourceOutcome
    changes: list[Change]
    update: SourceUpdate | None
    items: list[Item]
    """The source's items after this run: what it fetched plus what it did not speak for."""


def build_sources(config: Config, only: list[str] | None = None) -> list[Source]:
    chosen = [s for s in config.sources if s.options.get("enabled", True)]
    if only:
        chosen = [s for s in config.sources if s.name in only]
    return [source_kind(s.kind)(s.name, s.options) for s in chosen]


def _noise_filter(config: Config, source: Source) -> NoiseFilter:
    return NoiseFilter([*config.ignore, *source.options.get("ignore", [])])


async def run_check(
    config: Config,
    store: Store,
    *,
    dry_run: bool = False,
    only: list[str] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    progress: Progress | None = None,
    recipients: Recipients | None = None,
) -> CheckResult:
    """Run every (or each `only`) source once and store the digest; `recipients` queues its
    deliveries in the same transaction (see Store.commit_run)."""
    sources = build_sources(config, only)
    rules = classify.load(config.rules_path)
    run_id = None if dry_run else store.start_run(now())
    headers = {"User-Agent": config.http.user_agent}
    hosts = HostLimits(config.http.per_host)
    # each host's connections are kept open for its next requests, http.per_host at most; a
    # request waits for a free one as long as it takes (each request has its own time limit)
    timeout = httpx.Timeout(config.http.timeout, pool=None)
    known = FactCache(rules, store.fact_cache())
    # what sources fetch is parsed in one thread beside the event loop (see sources.base.parse)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parse") as parser:
        async with httpx.AsyncClient(timeout=timeout, headers=headers, follow_redirects=True,
                                     transport=HostPools(config.http.per_host)) as http:
            runs = await asyncio.gather(*(
                _check_source(config, store, source, http, hosts, parser, rules, known,
                              progress)
                for source in sources
            ))
            ton = await _ton_price(config, http)
    changes = [change for run in runs for change in run.changes]
    result = digest.build(changes, [run.outcome for run in runs], now())
    result.alerts = _alerts(store, runs, config.checks.failure_alert_after, now())
    previous_facts = store.current_facts()
    facts = sheet.build(_sheet_items(config, store, runs), rules, now().isoformat(),
                        previous_facts, known)
    result.moves = sheet.moves(previous_facts, facts, rules)
    t = translator(config.language)
    result.roi = roi.digest_line(config.roi, result.moves, facts, previous_facts, ton, t)
    render = partial(_render, config.digest.excerpt_chars, t)
    if run_id is None:
        text, html = render(result)
    else:
        updates = [run.update for run in runs if run.update is not None]
        log.info("storing run %s: %d changes from %d sources", run_id, len(changes), len(runs))
        text, html = store.commit_run(run_id, now(), result, digest.headline(result, t), updates,
                                      facts.values(), render, recipients, known.used)
    if run_id is not None and config.archive.export_dir is not None:
        _refresh_archive(config, store)
    return CheckResult(result, text, html, run_id)


async def _ton_price(config: Config, http: httpx.AsyncClient) -> roi.TonPrice:
    """TON in USD for the ROI line: from roi.price_url when set, else (or when that fails,
    saying so) the configured rate. A slow price never holds a run up for long."""
    configured = config.roi.ton_usd
    if not config.roi.price_url:
        return roi.TonPrice(configured)
    try:
        response = await http.get(config.roi.price_url,
                                  timeout=min(PRICE_TIMEOUT, config.http.timeout))
        response.raise_for_status()
        return roi.TonPrice(roi.ton_usd_from(response.text), "price_url")
    except httpx.HTTPStatusError as exc:
        problem = f"HTTP {exc.response.status_code}"
    except (httpx.HTTPError, ValueError) as exc:  # unreachable, timed out, not a price
        problem = str(exc) or type(exc).__name__
    log.warning("TON price from roi.price_url: %s; using the configured %s USD", problem,
                configured)
    return roi.TonPrice(configured, problem=problem)


def _refresh_archive(config: Config, store: Store) -> None:
    """Rewrite the static archive; a failure there is logged, never the run's failure."""
    from watcher import archive  # Jinja2 and the site: only for runs that keep an archive

    try:
        archive.export(store, config.archive.export_dir, config.archive.public_url,
                       config.digest.excerpt_chars, translator(config.language))
    except OSError as exc:
        log.warning("could not refresh the archive in %s: %s", config.archive.export_dir, exc)


def _render(excerpt_chars: int, t: Translator, result: Digest) -> tuple[str, str]:
    return (digest.render_text(result, excerpt_chars, t),
            digest.render_html(result, excerpt_chars, t))


def _hold_suspects(store: Store, source: Source, fetched: Fetched, previous: dict[str, Item],
                   shrink: float) -> list[suspect.Suspicion]:
    """Put back the last good copy of items that look broken, unless seen the same last run."""
    known = store.suspects(source.name)
    held = [s for s in suspect.inspect(previous, fetched.items, shrink)
            if known.get(s.key) != s.fingerprint]
    keys = {s.key for s in held}
    fetched.items = [previous[i.key] if i.key in keys else i for i in fetched.items]
    return held


def _alerts(store: Store, runs: list[_SourceRun], after: int, now: datetime) -> list[Alert]:
    """Warn once when a source reaches `after` failed runs in a row; say once when it is back."""
    alerts = []
    for run in runs:
        name = run.outcome.source
        failures, since = store.health(name)
        if run.outcome.status == "failed" and failures + 1 == after:
            alerts.append(Alert(name, "failing", after, (since or now).isoformat()))
        elif run.outcome.status != "failed" and failures >= after:
            alerts.append(Alert(name, "recovered", failures, since.isoformat() if since else None))
    return alerts


def _sheet_items(config: Config, store: Store, runs: list[_SourceRun]) -> list[tuple[str, Item]]:
    """Every configured source's current items; sources left out of this run from the store."""
    ran = {run.outcome.source: run.items for run in runs}
    return [(s.name, item) for s in config.sources
            for item in (ran[s.name] if s.name in ran else store.current_items(s.name).values())]


async def _check_source(config: Config, store: Store, source: Source, http: httpx.AsyncClient,
                        hosts: HostLimits, parser: Executor, rules: classify.Rules,
                        known: FactCache, progress: Progress | None) -> _SourceRun:
    previous = store.current_items(source.name)
    retry = RetryPolicy(attempts=config.http.retries, max_wait=config.http.retry_max_wait)
    ctx = FetchContext(http=http, previous=previous, max_bytes=config.http.max_bytes, retry=retry,
                       hosts=hosts, parser=parser)
    try:
        fetched = await source.fetch(ctx)
    except FetchError as exc:
        run = _failed(store, source, previous, str(exc))
    except Exception as exc:  # a bug in one source must not cost the others their run
        log.exception("source %s crashed", source.name)
        run = _failed(store, source, previous,
                      f"internal error ({type(exc).__name__}); see the log")
    else:
        run = _compared(store, source, fetched, previous, _noise_filter(config, source), rules,
                        config.checks.suspect_shrink)
    sheet.read_ahead(run.items, known)  # now, while the slower sources still wait on the network
    if progress:
        progress(run.outcome)
    return run


def _revalidated(previous: dict[str, Item], items: list[Item]) -> list[Item]:
    """Items whose text is as stored but whose ETag or Last-Modified is new: the stored copy
    takes the new ones, so the next run's conditional request can be answered 304."""
    def validators(item: Item) -> dict[str, object]:
        return {name: item.meta.get(name) for name in VALIDATORS}

    return [item for item in items
            if (old := previous.get(item.key)) is not None and old.text == item.text
            and validators(old) != validators(item)]


def _failed(store: Store, source: Source, previous: dict[str, Item], error: str) -> _SourceRun:
    last_ok = store.last_ok(source.name)
    outcome = SourceOutcome(source.name, source.kind, "failed", error=error, url=source.link,
                            last_ok=last_ok.isoformat() if last_ok else None)
    return _SourceRun(outcome, [], None, list(previous.values()))


def _compared(store: Store, source: Source, fetched: Fetched, previous: dict[str, Item],
              noise: NoiseFilter, rules: classify.Rules, shrink: float) -> _SourceRun:
    # a stored item handed back as it is (a 304) was cleaned when it was stored
    fetched.items = [item if item is previous.get(item.key) else noise.clean(item)
                     for item in fetched.items]
    held = _hold_suspects(store, source, fetched, previous, shrink)
    found = diff.compare(previous, fetched)
    current = {item.key: item for item in fetched.items}
    kept = [item for item in previous.values()
            if item.key not in current and not fetched.speaks_for(item)]
    update = SourceUpdate(
        source=source.name,
        kind=source.kind,
        items=found.added + [new for _, new in found.modified],
        removed=[item.key for item in found.removed],
        suspects=held,
        refreshed=_revalidated(previous, fetched.items),
    )
    baseline = not store.is_baselined(source.name)
    status = "baseline" if baseline else "ok"
    outcome = SourceOutcome(source.name, source.kind, status, items=len(fetched.items),
                            url=source.link,
                            held=[f"{previous[s.key].title}: {s.reason}" for s in held])
    changes = [] if baseline else diff.changes(source.name, found)
    classify_changes(changes, previous, current, rules)
    return _SourceRun(outcome, changes, update, [*kept, *fetched.items])
