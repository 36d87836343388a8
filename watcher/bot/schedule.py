"""When the weekly digest runs: the configured cron expression, in its time zone.

A scheduled time that passed while the bot was down (the last run in the store is older than
it) is `missed`; so is everything before the very first run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from watcher.config import TelegramSettings
from watcher.i18n import ENGLISH, N_, Translator

# Where to look back for the last scheduled time: short first, so a frequent cron stays cheap.
_LOOK_BACK = (timedelta(days=1), timedelta(days=8), timedelta(days=32), timedelta(days=366))
_WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


@dataclass(frozen=True)
class Schedule:
    trigger: CronTrigger
    timezone: ZoneInfo

    @classmethod
    def from_settings(cls, settings: TelegramSettings) -> Schedule:
        zone = ZoneInfo(settings.timezone)
        return cls(CronTrigger.from_crontab(settings.cron, timezone=zone), zone)

    def next_run(self, now: datetime) -> datetime:
        return self.trigger.get_next_fire_time(None, now)

    def last_due(self, now: datetime) -> datetime | None:
        """The latest scheduled time at or before `now`, looking back a year at most."""
        for window in _LOOK_BACK:
            due = None
            fire = self.trigger.get_next_fire_time(None, now - window)
            while fire is not None and fire <= now:
                due, fire = fire, self.trigger.get_next_fire_time(fire, fire)
            if due is not None:
                return due
        return None

    def missed(self, last_run: datetime | None, now: datetime) -> bool:
        if last_run is None:
            return True
        due = self.last_due(now)
        return due is not None and last_run < due

    def describe(self, moment: datetime, t: Translator = ENGLISH) -> str:
        local = moment.astimezone(self.timezone)
        day = t(_WEEKDAYS[local.weekday()])
        return f"{day} {local:%Y-%m-%d %H:%M} ({self.timezone.key})"

