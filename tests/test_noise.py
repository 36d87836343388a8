import tomllib
from pathlib import Path

from watcher.models import Item
from watcher.noise import NoiseFilter

SHIPPED = tomllib.loads(Path("config/watcher.toml").read_text())["ignore"]


def test_shipped_patterns_remove_relative_times_and_view_counts():
    noise = NoiseFilter(SHIPPED)
    assert noise.clean_text("Last updated 5 minutes ago") == "Last updated"
    assert noise.clean_text("Last updated an hour ago") == "Last updated"
    assert noise.clean_text("12.5K views") == ""
    assert noise.clean_text("Posted just now\nMinimum kernel 6.16") == "Posted\nMinimum kernel 6.16"


def test_lines_without_noise_are_left_alone():
    noise = NoiseFilter(SHIPPED)
    text = "# Supported GPUs\n- NVIDIA H100   or newer"
    assert noise.clean_text(text) == text


def test_clean_returns_the_same_item_when_nothing_matched():
    item = Item("k", "page", "t", "u", "stable text")
    assert NoiseFilter(SHIPPED).clean(item) is item


def test_source_pattern_drops_a_line_left_empty():
    noise = NoiseFilter([r"Tip of the day: .*"])
    assert noise.clean_text("a\nTip of the day: use TDX\nb") == "a\nb"
