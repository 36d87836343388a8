import asyncio
from datetime import UTC, datetime, timedelta

from watcher.bot import checks
from watcher.bot.checks import CheckRunner, Cooldown, RateLimit

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def test_cooldown_is_per_chat_and_counts_from_the_check_it_allowed():
    cooldown = Cooldown(timedelta(minutes=10))
    assert cooldown.claim(1, NOW) is None
    assert cooldown.claim(2, NOW) is None
    assert cooldown.claim(1, NOW + timedelta(minutes=4)) == timedelta(minutes=6)
    assert cooldown.claim(1, NOW + timedelta(minutes=10)) is None
    assert cooldown.claim(1, NOW + timedelta(minutes=11)) == timedelta(minutes=9)


async def test_a_check_started_while_one_runs_joins_it(monkeypatch):
    calls = []
    release = asyncio.Event()

    async def fake_check(config, store, *, now, recipients):
        calls.append(now())
        await release.wait()
        return f"result {len(calls)}"

    monkeypatch.setattr(checks, "run_check", fake_check)
    runner = CheckRunner(None, None, lambda: NOW)
    first, second = runner.start(), runner.start()
    assert runner.running
    release.set()
    assert await first == await second == "result 1"
    assert not runner.running
    assert await runner.start() == "result 2"


async def test_one_waiter_giving_up_does_not_cancel_the_check(monkeypatch):
    release = asyncio.Event()

    async def fake_check(config, store, *, now, recipients):
        await release.wait()
        return "done"

    monkeypatch.setattr(checks, "run_check", fake_check)
    runner = CheckRunner(None, None, lambda: NOW)
    impatient = asyncio.ensure_future(runner.start())
    await asyncio.sleep(0)
    impatient.cancel()
    patient = runner.start()
    release.set()
    assert await patient == "done"


def test_rate_limit_answers_the_first_one_over_then_drops_until_the_minute_passes():
    rate = RateLimit(per_minute=3)
    verdicts = [rate.judge(1, NOW + timedelta(seconds=n)) for n in range(6)]
    assert verdicts == ["ok", "ok", "ok", "warn", "drop", "drop"]
    assert rate.judge(2, NOW) == "ok"  # per chat
    assert rate.judge(1, NOW + timedelta(seconds=66)) == "ok"  # the window slid past
