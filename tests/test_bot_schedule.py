from datetime import UTC, datetime, timedelta

from watcher.bot.schedule import Schedule
from watcher.config import TelegramSettings

TUESDAY = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 10:00 in Ho Chi Minh City
MONDAY_RUN = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 09:00 there
DEFAULT = Schedule.from_settings(TelegramSettings())


def test_default_is_monday_nine_in_ho_chi_minh_city():
    assert DEFAULT.next_run(TUESDAY) == MONDAY_RUN + timedelta(days=7)
    assert DEFAULT.describe(DEFAULT.next_run(TUESDAY)) == "Mon 2026-11-30 09:00 (Asia/Ho_Chi_Minh)"


def test_last_due_is_the_latest_scheduled_time_not_after_now():
    assert DEFAULT.last_due(TUESDAY) == MONDAY_RUN
    assert DEFAULT.last_due(MONDAY_RUN) == MONDAY_RUN
    assert DEFAULT.last_due(MONDAY_RUN - timedelta(seconds=1)) == MONDAY_RUN - timedelta(days=7)


def test_a_monday_passed_since_the_last_run_is_missed():
    assert DEFAULT.missed(None, TUESDAY)  # never ran: the first start records the baseline
    assert DEFAULT.missed(MONDAY_RUN - timedelta(days=6), TUESDAY)
    assert not DEFAULT.missed(MONDAY_RUN, TUESDAY)
    assert not DEFAULT.missed(MONDAY_RUN + timedelta(hours=3), TUESDAY)


def test_cron_and_time_zone_come_from_config_across_a_clock_change():
    friday = Schedule.from_settings(TelegramSettings(cron="30 18 * * fri",
                                                     timezone="Europe/Berlin"))
    # Berlin leaves summer time on Sunday 2026-10-25: 18:30 is 16:30 UTC before, 17:30 after.
    assert friday.next_run(datetime(2026, 10, 21, tzinfo=UTC)) == datetime(
        2026, 10, 23, 16, 30, tzinfo=UTC)
    assert friday.next_run(datetime(2026, 10, 24, tzinfo=UTC)) == datetime(
        2026, 10, 30, 17, 30, tzinfo=UTC)


def test_a_frequent_cron_looks_back_only_a_little():
    hourly = Schedule.from_settings(TelegramSettings(cron="0 * * * *", timezone="UTC"))
    assert hourly.last_due(TUESDAY + timedelta(minutes=59)) == TUESDAY
    assert not hourly.missed(TUESDAY + timedelta(minutes=1), TUESDAY + timedelta(minutes=59))
