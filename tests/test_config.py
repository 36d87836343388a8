from pathlib import Path

import pytest

from watcher import config
from watcher.config import ConfigError
from watcher.demo import write_config
from watcher.roi import RoiSettings, Scenario

SHIPPED = Path("config/watcher.toml")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watcher.toml"
    path.write_text(text)
    return path


MINIMAL = """
[[sources]]
name = "chan"
kind = "telegram_channel"
channel = "cocoon"
"""


def test_shipped_config_loads_with_every_source_kind():
    settings = config.load(SHIPPED)
    kinds = {s.kind for s in settings.sources}
    assert kinds == {"telegram_channel", "github", "web_page", "artifact", "ton_root_contract"}
    assert settings.store_path == Path("data/watcher.db")
    assert settings.telegram.token_env == "TELEGRAM_BOT_TOKEN"
    github = next(s for s in settings.sources if s.kind == "github")
    assert github.options["repo"] == "TelegramMessenger/cocoon"
    assert github.options["token_env"] == "GITHUB_TOKEN"
    root = next(s for s in settings.sources if s.kind == "ton_root_contract")
    assert root.options["address"] == "EQCns7bYSp0igFvS1wpb5wsZjCKCV19MD5AVzI4EyxsnU73k"
    assert root.options["api_key_env"] == "TONCENTER_API_KEY"


def test_defaults_fill_unset_options(tmp_path):
    settings = config.load(write(tmp_path, MINIMAL))
    [source] = settings.sources
    assert source.options["base_url"] == "https://t.me"
    assert source.options["max_posts"] == 100
    assert source.options["ignore"] == []


def test_telegram_defaults_are_the_monday_schedule_and_the_real_api(tmp_path):
    telegram = config.load(write(tmp_path, MINIMAL)).telegram
    assert (telegram.cron, telegram.timezone) == ("0 9 * * mon", "Asia/Ho_Chi_Minh")
    assert telegram.api_base_url == "https://api.telegram.org"
    assert telegram.cooldown_minutes == 10
    assert (telegram.allow_users, telegram.allow_chats, telegram.chats) == ((), (), ())
    assert telegram.filtered_empty == "skip"


def test_shipped_and_demo_configs_set_the_same_telegram_keys(tmp_path):
    demo = config.load(write_config(tmp_path, "http://127.0.0.1:1")).telegram
    assert demo == config.load(SHIPPED).telegram


def test_config_path_resolution(monkeypatch):
    monkeypatch.delenv(config.ENV_VAR, raising=False)
    assert config.resolve_path(None) == config.DEFAULT_PATH
    monkeypatch.setenv(config.ENV_VAR, "/etc/w.toml")
    assert config.resolve_path(None) == Path("/etc/w.toml")
    assert config.resolve_path("x.toml") == Path("x.toml")


@pytest.mark.parametrize(("text", "key", "words"), [
    (MINIMAL.replace("telegram_channel", "rss"), "sources[0] (chan).kind", "unknown source kind"),
    (MINIMAL + MINIMAL, "sources[1] (chan).name", "duplicate source name"),
    (MINIMAL.replace('channel = "cocoon"', ""), "sources[0] (chan).channel", "missing"),
    (MINIMAL + 'base_url = "ftp://t.me"', "sources[0] (chan).base_url", "not an http(s) URL"),
    (MINIMAL + "max_posts = \"many\"", "sources[0] (chan).max_posts", "is not a int"),
    (MINIMAL + "colour = 1", "sources[0] (chan).colour", "unknown key"),
    (MINIMAL + "ignore = ['(unclosed']", "sources[0] (chan).ignore[0]", "bad regular expression"),
    ('language = "fr"\n' + MINIMAL, "language", "not supported"),
    ("[telegram]\ntoken_env = 'abc def'\n" + MINIMAL, "telegram.token_env", "environment"),
    ("[http]\ntimeout = 0\n" + MINIMAL, "http.timeout", "greater than 0"),
    ("[checks]\nsuspect_shrink = 2\n" + MINIMAL, "checks.suspect_shrink", "between 0 and 1"),
    ("[checks]\nfailure_alert_after = 0\n" + MINIMAL, "checks.failure_alert_after",
     "greater than 0"),
    ("[telegram]\ncron = '0 9 * mon'\n" + MINIMAL, "telegram.cron", "not a cron expression"),
    ("[telegram]\ncron = '0 25 * * mon'\n" + MINIMAL, "telegram.cron", "not a cron expression"),
    ("[telegram]\ntimezone = 'Asia/Saigon City'\n" + MINIMAL, "telegram.timezone",
     "not a known time zone"),
    ("[telegram]\napi_base_url = 'api.telegram.org'\n" + MINIMAL, "telegram.api_base_url",
     "not an http(s) URL"),
    ("[telegram]\ncooldown_minutes = -1\n" + MINIMAL, "telegram.cooldown_minutes",
     "greater than 0"),
    ("[telegram]\nallow_users = ['@alice']\n" + MINIMAL, "telegram.allow_users",
     "numeric user ids"),
    ("[telegram]\nfiltered_empty = 'hide'\n" + MINIMAL, "telegram.filtered_empty",
     "not supported"),
    ("[telegram]\nchat = [1]\n" + MINIMAL, "telegram.chat", "unknown key"),
    ("", "sources", "no sources configured"),
    ("[[sources]]\nkind = 'github'\nrepo = 'a/b'", "sources[0].name", "missing"),
    ("sources = [", "(syntax)", "Invalid value"),
])
def test_bad_config_names_file_key_and_fix(tmp_path, text, key, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    error = caught.value
    assert error.key == key
    assert words in error.problem
    assert str(path) in str(error) and "fix:" in str(error)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        config.load(tmp_path / "nope.toml")


# --- [roi] ----------------------------------------------------------------------------------

def test_roi_defaults_are_the_team_s_model(tmp_path):
    desk = config.load(write(tmp_path, MINIMAL)).roi
    assert desk == RoiSettings()
    assert (desk.capex, desk.cost_per_day, desk.worker_price_coefficient) == (45_000, 12, 1.0)
    assert desk.price_url == ""  # off unless asked for
    assert [(s.name, s.rate, s.utilization, s.capex, s.cost_per_day) for s in desk.scenarios] == [
        ("bear", 1.5, 0.2, 45_000, 12), ("base", 3.0, 0.4, 45_000, 12),
        ("bull", 5.0, 0.7, 45_000, 12)]


def test_shipped_and_demo_configs_set_the_same_roi_keys(tmp_path):
    demo = config.load(write_config(tmp_path, "http://127.0.0.1:1")).roi
    assert demo == config.load(SHIPPED).roi == RoiSettings()


def test_roi_scenarios_carry_the_capex_and_cost_and_accept_percentages(tmp_path):
    desk = config.load(write(tmp_path, """
[roi]
capex = 40000
cost_per_day = 10.5
throughput = 2500
ton_usd = 3
price_url = "https://prices.example/ton"
[roi.scenarios]
base = { rate = 3.2, utilization = "55%" }
fire = { rate = 9, utilization = 1 }
""" + MINIMAL)).roi
    assert desk.scenarios == (Scenario("base", 3.2, 0.55, 40_000, 10.5),
                              Scenario("fire", 9, 1.0, 40_000, 10.5))
    assert (desk.throughput, desk.ton_usd) == (2500.0, 3.0)
    assert desk.price_url == "https://prices.example/ton"


@pytest.mark.parametrize(("roi", "key", "words"), [
    ("capex = -1", "roi.capex", "is negative"),
    ("cost_per_day = 'twelve'", "roi.cost_per_day", "is not a float"),
    ("throughput = 0", "roi.throughput", "greater than 0"),
    ("ton_usd = -2", "roi.ton_usd", "greater than 0"),
    ("worker_price_coefficient = true", "roi.worker_price_coefficient", "is not a float"),
    ("price_url = 'prices.example'", "roi.price_url", "not an http(s) URL"),
    ("capex_usd = 1", "roi.capex_usd", "unknown key"),
    ("[roi.scenarios]\nbase = { rate = 3, utilization = 40 }", "roi.scenarios.base.utilization",
     "is over 100%"),
    ("[roi.scenarios]\nbase = { rate = 3, utilization = '120%' }",
     "roi.scenarios.base.utilization", "not a share from 0% to 100%"),
    ("[roi.scenarios]\nbase = { rate = 3, utilization = 'most' }",
     "roi.scenarios.base.utilization", "not a share from 0% to 100%"),
    ("[roi.scenarios]\nbase = { rate = 3, utilization = -0.1 }",
     "roi.scenarios.base.utilization", "is negative"),
    ("[roi.scenarios]\nbase = { rate = -3, utilization = 0.4 }", "roi.scenarios.base.rate",
     "is negative"),
    ("[roi.scenarios]\nbase = { rate = 3 }", "roi.scenarios.base.utilization", "missing"),
    ("[roi.scenarios]\nbase = { rate = 3, utilization = 0.4, hours = 24 }",
     "roi.scenarios.base.hours", "unknown key"),
    ("[roi.scenarios]\nbull = { rate = 5, utilization = 0.7 }", "roi.scenarios",
     "no base scenario"),
    ("scenarios = 3", "roi.scenarios", "must be a table of scenarios"),
])
def test_bad_roi_values_name_the_key_and_the_fix(tmp_path, roi, key, words):
    path = write(tmp_path, "[roi]\n" + roi + "\n" + MINIMAL)
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    assert caught.value.key == key
    assert words in caught.value.problem
    assert str(path) in str(caught.value) and "fix:" in str(caught.value)


def test_per_host_limit_defaults_to_four_and_must_be_a_whole_number(tmp_path):
    assert config.load(write(tmp_path, MINIMAL)).http.per_host == 4
    assert config.load(SHIPPED).http.per_host == 4
    path = write(tmp_path, "[http]\nper_host = 8\n" + MINIMAL)
    assert config.load(path).http.per_host == 8
    for bad in ("0", "2.5", '"4"'):
        with pytest.raises(ConfigError) as caught:
            config.load(write(tmp_path, f"[http]\nper_host = {bad}\n" + MINIMAL))
        assert caught.value.key == "http.per_host"


def test_the_default_cron_that_goes_unchecked_is_a_valid_one():
    # config takes the default cron without asking APScheduler (to spare a check its import)
    from apscheduler.triggers.cron import CronTrigger

    CronTrigger.from_crontab(config.TelegramSettings().cron)
