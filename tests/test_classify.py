"""Categories, the hardware direction, the rules file and the `watcher classify` contract."""

import io
import json
from pathlib import Path

import pytest

from watcher import classify
from watcher.cli import main
from watcher.config import ConfigError

RULES = classify.load()
ONE_GPU = ("- Currently only one GPU per guest is supported. This restriction will be lifted in "
           "the future.")


@pytest.fixture
def gpu_doc(real_fixtures: Path) -> str:
    return (real_fixtures / "cocoon-repo-docs" / "docs" / "gpu.md").read_text()


def test_more_gpus_per_guest_in_the_real_doc_is_hardware_relaxed(gpu_doc, tmp_path, capsys):
    assert ONE_GPU in gpu_doc
    new = gpu_doc.replace(ONE_GPU, "- Several GPUs per guest are now supported.")
    (tmp_path / "old.md").write_text(gpu_doc)
    (tmp_path / "new.md").write_text(new)
    code = main(["classify", "--json", "--source", "docs", "--before", str(tmp_path / "old.md"),
                 str(tmp_path / "new.md")])
    answer = json.loads(capsys.readouterr().out)
    assert code == 0
    assert answer["categories"] == ["hardware"]
    assert answer["hardware_direction"] == "relaxed"
    assert answer["moved"]["gpus_per_guest"] == {"before": 1, "after": "multiple"}


INTRO = ("COCOON documentation covers the architecture, TDX images, RA-TLS, seal keys, GPU "
         "passthrough and multi-GPU setups, smart contracts and deployment.")


def test_intro_listing_multi_gpu_topics_has_no_direction():
    verdict = classify.judge_text(INTRO, RULES)
    assert "hardware" in verdict.categories
    assert verdict.hardware_direction is None


def test_intro_gaining_the_multi_gpu_topic_has_no_direction():
    before = "# COCOON\n" + INTRO.replace(" and multi-GPU setups", "")
    verdict = classify.judge_change(before, "# COCOON\n" + INTRO, RULES)
    assert "hardware" in verdict.categories
    assert verdict.hardware_direction is None
    assert verdict.moved == {}


@pytest.mark.parametrize(("before", "after", "direction"), [
    ("Linux server (Kernel 6.16+)", "Linux server (Kernel 6.12+)", "relaxed"),
    ("Linux server (Kernel 6.16+)", "Linux server (Kernel 6.17+)", "tightened"),
    ("- NVIDIA H100 or newer", "- NVIDIA A100 or newer", "relaxed"),
    ("Consumer GPUs (RTX series) are not supported.", "Consumer GPUs (RTX series) are supported.",
     "relaxed"),
    ("Intel TDX and AMD SEV-SNP are supported.", "Intel TDX is supported.", "tightened"),
    ("- Updated VBIOS for attestation (requires NVIDIA support)", "", "relaxed"),
    ("Hardware: see below.", "Hardware: see below. A VBIOS update is now required.", "tightened"),
    ("Supported GPUs are listed below", "Supported GPUs are listed below.", None),
])
def test_direction_of_a_change(before, after, direction):
    verdict = classify.judge_change(before, after, RULES, section="Supported GPUs")
    assert verdict.categories[0] == "hardware"
    assert verdict.hardware_direction == direction


def test_a_gpu_added_under_tested_in_a_section():
    before = "### Supported GPUs\n**Tested:**\n- NVIDIA H200 NVL"
    verdict = classify.judge_change(before, before + "\n- NVIDIA B200", RULES)
    assert verdict.hardware_direction == "relaxed"
    assert verdict.moved["tested_gpus"] == (["H200 NVL"], ["B200", "H200 NVL"])


@pytest.mark.parametrize(("text", "categories"), [
    ("proxy: fixed automatic withdraw invoke", ["contract", "tooling"]),
    ("Changing the price per token redeploys the proxy contract.", ["pricing", "contract"]),
    ("Governance: Currently centralized (COCOON team), future: DAO.", ["governance"]),
    ("Qwen3-32B is now served on COCOON.", ["models"]),
    ("fix typo", ["other"]),
    ("worker: fixed proxy check", ["tooling"]),
    ("Happy new year, everyone!", ["other"]),
])
def test_categories(text, categories):
    assert classify.judge_text(text, RULES).categories == categories


def test_section_heading_gives_context():
    verdict = classify.judge_change("- Item A", "- Item B", RULES, section="Supported GPUs")
    assert verdict.categories == ["hardware"]


def test_release_is_tooling_whatever_it_says():
    assert classify.judge_text("v1.0", RULES, item_kind="release").categories == ["tooling"]


def test_team_rules_extend_the_defaults(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("[[gpus]]\nname = 'MI300X'\npattern = '\\bmi300x\\b'\nrank = 5\n"
                    "[models]\npatterns = ['\\bkimi-k2\\b']\n")
    rules = classify.load(path)
    assert [g.name for g in rules.gpus][-1] == "MI300X"
    verdict = classify.judge_text("AMD MI300X is now supported; Kimi-K2 served.", rules)
    assert verdict.facts["supported_gpus"] == ["MI300X"]
    assert verdict.facts["models"] == ["Kimi-K2"]
    assert verdict.hardware_direction == "relaxed"


@pytest.mark.parametrize(("text", "key"), [
    ("[categories.weather]\npatterns = ['rain']", "categories.weather"),
    ("[categories.hardware]\npatterns = ['(unclosed']", "categories.hardware.patterns[0]"),
    ("[[gpus]]\nrank = 1", "gpus[0]"),
    ("[item_kinds]\npost = ['gossip']", "item_kinds.post"),
    ("[[gpus]]\nname = 'X'\nrank = 'high'", "gpus[0]"),
])
def test_bad_rules_name_file_and_key(tmp_path, text, key):
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        classify.load(path)
    assert caught.value.key == key and str(path) in str(caught.value)


def test_classify_reads_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("AMD SEV-SNP is now supported as a CPU TEE."))
    assert main(["classify", "--json", "--source", "telegram"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer == {"categories": ["hardware"], "hardware_direction": "relaxed",
                      "facts": {"cpu_tees": ["AMD SEV-SNP"]}}


def test_classify_batch_keeps_order_and_ids(tmp_path, capsys):
    batch = tmp_path / "in.jsonl"
    batch.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "source": "github", "text": "update ton"},
        {"id": "b", "source": "docs", "before": "Kernel 6.16+", "after": "Kernel 6.12+",
         "section": "Prerequisites"},
    ]) + "\n")
    assert main(["classify", "--json", "--batch", str(batch)]) == 0
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [a["id"] for a in answers] == ["a", "b"]
    assert answers[1]["hardware_direction"] == "relaxed"


@pytest.mark.parametrize("content", ["{not json", '{"id": 1}', '{"id": 1, "text": 5}',
                                     '{"id": 1, "source": "rss", "text": "x"}'])
def test_classify_unreadable_input_exits_2(tmp_path, capsys, content):
    batch = tmp_path / "bad.jsonl"
    batch.write_text(content + "\n")
    assert main(["classify", "--json", "--batch", str(batch)]) == 2
    assert f"{batch}, line 1:" in capsys.readouterr().err


def test_classify_missing_file_exits_2(tmp_path, capsys):
    assert main(["classify", "--before", str(tmp_path / "nope"), str(tmp_path / "nope2")]) == 2
    assert "cannot read" in capsys.readouterr().err
