"""`watcher check` against a local server playing week 1, week 2, then week 2 again.

The recordings are the ones `watcher demo` serves (watcher/demo_data, see its README): real
cocoon commits and docs, simulated channel posts in real t.me markup, and week-2 noise that
must not show up as a change.
"""

import io
import json
from hashlib import sha256
from pathlib import Path

import pytest

from watcher.cli import main
from watcher.demo import DATA, run_demo, write_config
from watcher.replay import ReplayServer
from watcher.sources.ton_root_contract import MAINNET_ROOT

WEEK_TWO_DOC_MOVES = {"tested_gpus", "worker_release", "worker_build", "docker_client"}
"""The facts week 2's docs, release and build move; the root contract moves three more."""
ROI_LINE = ("ROI: 0.58 USD/GPU-hr implied at 100% utilization with 2 USD/TON (configured), "
            "nearest bear; base payback 2,679 days ≈ 7.3 years (never at the implied rate)")
"""Week 2's ROI line: the worker fee (0.000000016 TON) × 5,000 tokens/s × 3,600 s × 2 USD/TON,
with the demo config's [roi] table."""


@pytest.fixture
def server():
    with ReplayServer(DATA) as replay:
        yield replay


def check(config_path: Path, capsys, *extra: str) -> tuple[int, str]:
    code = main(["check", "--config", str(config_path), *extra])
    return code, capsys.readouterr().out


def test_baseline_then_each_change_then_quiet(server, tmp_path, capsys):
    config_path = write_config(tmp_path, server.base_url)

    code, first = check(config_path, capsys)
    assert code == 0
    assert "Baseline recorded: 5 sources" in first
    assert "New " not in first

    server.use_week(2)
    code, second = check(config_path, capsys, "--json")
    assert code == 0
    changes = json.loads(second)["changes"]
    found = sorted((c["item_kind"], c["kind"], c["section"] or "") for c in changes)
    assert found == [
        ("artifact", "modified", ""),
        ("chain_model", "added", ""),
        ("chain_param", "modified", ""),
        ("chain_price", "modified", ""),
        ("commit", "added", ""),
        ("page", "added", ""),
        ("page", "added", "Supported GPUs"),
        ("post", "added", ""),
        ("post", "modified", ""),
        ("release", "added", ""),
    ]
    by_kind = {(c["item_kind"], c["kind"], c["section"] or ""): c for c in changes}
    assert by_kind[("commit", "added", "")]["title"] == "update ton"
    assert by_kind[("page", "added", "Supported GPUs")]["after"] == "- NVIDIA B200"
    assert by_kind[("page", "added", "")]["url"].endswith("/site/docs/seal-keys")
    assert by_kind[("post", "modified", "")]["url"].endswith("/11")
    assert by_kind[("post", "added", "")]["url"].endswith("/13")
    # the root contract: exactly the price per token, the client close delay and one model hash
    on_chain = {key: (c["item_key"], c["categories"], c["before"], c["after"])
                for key, c in by_kind.items() if key[0].startswith("chain_")}
    model = sha256(b"Qwen/Qwen3-8B").hexdigest()
    assert on_chain == {
        ("chain_price", "modified", ""): (
            "param:price_per_token", ["pricing"],
            "Price per token: 0.00000002 TON", "Price per token: 0.000000025 TON"),
        ("chain_param", "modified", ""): (
            "param:client_delay_before_close", ["contract"],
            "Client close delay: 1 day (86400 s)", "Client close delay: 3 days (259200 s)"),
        ("chain_model", "added", ""): (
            f"model_hashes:{model}", ["models"], None, f"Model hash: {model}"),
    }
    headlines = {h["name"]: (h["category"], h["text"]) for h in json.loads(second)["headlines"]}
    assert {name: headlines[name] for name in headlines if name not in WEEK_TWO_DOC_MOVES} == {
        "price_per_token": ("pricing", "Price per token 0.00000002 TON → 0.000000025 TON (+25%)"),
        "client_close_delay": ("contract", "Client close delay 1 day → 3 days"),
        "model_hashes": ("models", "Model hashes: 1 added"),
    }
    assert json.loads(second)["roi"] == ROI_LINE  # the price per token moved

    code, third = check(config_path, capsys)
    assert code == 0
    assert "No changes" in third
    assert "ROI:" not in third  # no pricing move, no ROI line


def test_digest_text_of_week_two_reads_well(server, tmp_path, capsys):
    config_path = write_config(tmp_path, server.base_url)
    check(config_path, capsys)
    server.use_week(2)
    _, text = check(config_path, capsys)
    lines = text.splitlines()
    assert lines[1].startswith(
        "Tested GPUs H200 NVL → B200, H200 NVL (relaxed) (+6 more); 10 changes")
    assert lines[3] == "== What moved =="
    assert lines[4].startswith("Tested GPUs H200 NVL → B200, H200 NVL (relaxed) — ")
    assert lines[4].endswith("/site/docs/gpu")
    assert "Docker client: preview (newly stated)" in text
    assert ("+ New commit: update ton · GitHub TelegramMessenger/cocoon"
            " — https://github.com/TelegramMessenger/cocoon/commit/") in text
    assert "› Supported GPUs [relaxed] · cocoon.org" in text
    assert "after: - NVIDIA B200" in text
    assert text.index("== Hardware ==") < text.index("== Tooling ==")
    assert "\nClient close delay 1 day → 3 days — " in text
    assert "+ Model allowed: Qwen/Qwen3-8B (hash a82fd547628e…) · TON root contract" in text
    assert text.index("== Pricing ==") < text.index("~ On-chain price: Price per token")
    # the ROI desk's line closes the facts that moved, as the price per token moved
    start = text.index("== What moved ==\n")
    moved = text[start:text.index("\n\n== ", start)].splitlines()
    assert moved[-1] == ROI_LINE and text.count("ROI:") == 1

    assert main(["archive", "list", "--config", str(config_path)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].startswith("#2 ") and "Tested GPUs" in listing[0]
    assert listing[1].startswith("#1 ") and "Baseline recorded" in listing[1]
    assert main(["archive", "show", "2", "--config", str(config_path)]) == 0
    assert capsys.readouterr().out == text


def test_dry_run_leaves_no_store(server, tmp_path, capsys):
    config_path = write_config(tmp_path, server.base_url)
    code, out = check(config_path, capsys, "--dry-run")
    assert code == 0 and "Baseline recorded" in out
    assert not (tmp_path / "watcher.db").exists()


def test_every_source_down_exits_1(tmp_path, capsys):
    with ReplayServer(DATA) as replay:
        base = replay.base_url
    config_path = write_config(tmp_path, base)  # the server is gone: connection refused
    code, out = check(config_path, capsys)
    assert code == 1
    assert "Could not check" in out


def test_bad_config_exits_2_naming_file_and_key(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[[sources]]\nname = "x"\nkind = "nope"\n')
    assert main(["check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "sources[0] (x).kind" in err and "fix:" in err


def test_unknown_source_name_exits_2(server, tmp_path, capsys):
    config_path = write_config(tmp_path, server.base_url)
    assert main(["check", "--config", str(config_path), "--source", "nope"]) == 2
    assert "no source named 'nope'" in capsys.readouterr().err


def test_demo_prints_both_weeks():
    out = io.StringIO()
    assert run_demo(out) == 0
    text = out.getvalue()
    assert "recorded week 1" in text and "Baseline recorded" in text
    assert "recorded week 2" in text and "New commit: update ton" in text


def test_quiet_week_prints_nothing_when_configured(server, tmp_path, capsys):
    config_path = write_config(tmp_path, server.base_url)
    config_path.write_text(config_path.read_text().replace("send_empty = true",
                                                           "send_empty = false"))
    check(config_path, capsys)
    code, out = check(config_path, capsys)
    assert (code, out) == (0, "")
    assert main(["archive", "show", "2", "--config", str(config_path)]) == 0
    assert "No changes" in capsys.readouterr().out


def test_fact_sheet_after_two_weeks(server, tmp_path, capsys):
    config_path = write_config(tmp_path, server.base_url)
    check(config_path, capsys)
    server.use_week(2)
    check(config_path, capsys)
    assert main(["facts", "--config", str(config_path), "--json"]) == 0
    sheet = json.loads(capsys.readouterr().out)
    assert sheet["min_kernel"]["value"] == "6.16"
    assert sheet["tested_gpus"]["value"] == ["B200", "H200 NVL"]
    assert sheet["tested_gpus"]["url"].endswith("/site/docs/gpu")
    assert sheet["tested_gpus"]["since"] > sheet["min_kernel"]["since"]
    assert sheet["governance"]["display"] == "centralized, DAO promised"
    api = f"{server.base_url}/ton/getAddressInformation?address={MAINNET_ROOT}"
    assert sheet["worker_fee_per_token"] | {"since": ""} == {
        "name": "worker_fee_per_token", "value": {"amount": 1.6e-08, "unit": "TON"},
        "display": "0.000000016 TON", "source": "TON root contract", "url": api, "since": ""}
    assert sheet["client_close_delay"]["value"] == 3 * 86400
    assert sheet["client_close_delay"]["since"] > sheet["worker_fee_per_token"]["since"]
    assert sheet["price_per_token"]["url"] == api  # the chain outranks the docs
    assert sheet["model_hashes"]["display"].startswith("3: ")
    assert main(["facts", "--config", str(config_path)]) == 0
    table = capsys.readouterr().out
    assert "Minimum host kernel" in table and "6.16" in table
    assert any(line.startswith("Client close delay") and "3 days" in line and api in line
               for line in table.splitlines())


def test_backup_command(server, tmp_path, capsys):
    config_path = write_config(tmp_path, server.base_url)
    check(config_path, capsys)
    target = tmp_path / "backup.db"
    assert main(["backup", str(target), "--config", str(config_path)]) == 0
    assert f"Backup written to {target}" in capsys.readouterr().out
    assert main(["backup", str(target), "--config", str(config_path)]) == 2
    assert "already exists" in capsys.readouterr().err
