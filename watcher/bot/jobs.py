"""The bot's scheduled work on the JobQueue: the weekly digest and the outbox retry.

A weekly digest missed while the bot was down runs once at start; the very first start runs
one too, so the baseline is recorded before the first Monday.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram.ext import ContextTypes, JobQueue

from watcher.bot.delivery import audience
from watcher.bot.schedule import Schedule
from watcher.bot.services import services_of

log = logging.getLogger(__name__)

WEEKLY = "weekly digest"
CATCH_UP = "missed weekly digest"
OUTBOX = "outbox retry"
OUTBOX_EVERY = timedelta(minutes=5)  # deliveries left pending by an outage go out this soon
MISFIRE_GRACE = timedelta(hours=6)  # a digest a stalled process fires late is still wanted


def install(jobs: JobQueue, schedule: Schedule, last_run: datetime | None,
            now: datetime) -> None:
    """The weekly job, the outbox retry (now, then every few minutes) and, if a scheduled
    time was missed, one weekly run now."""
    jobs.run_custom(weekly_digest, name=WEEKLY, job_kwargs={
        "trigger": schedule.trigger,
        "misfire_grace_time": int(MISFIRE_GRACE.total_seconds()),
        "coalesce": True,
    })
    # Deliveries a stop left pending go out at start; `first=0` would not run it at start.
    jobs.run_once(flush_outbox, when=0, name=OUTBOX)
    jobs.run_repeating(flush_outbox, interval=OUTBOX_EVERY, name=OUTBOX)
    if schedule.missed(last_run, now):
        log.info("a weekly digest was due since the last run (%s): running it now", last_run)
        jobs.run_once(weekly_digest, when=0, name=CATCH_UP)


async def weekly_digest(context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    result = await services.checks.start()
    messages = audience(services.config, services.store, result.digest)
    await services.outbox.deliver(result.digest, messages)


async def flush_outbox(context: ContextTypes.DEFAULT_TYPE) -> None:
    await services_of(context).outbox.flush()
