"""Fact extractors: versions, units, negations, tables and lists."""

from pathlib import Path

import pytest

from watcher import classify
from watcher.classify.facts import extract, version_key
from watcher.classify.sheet import display, duration, money

RULES = classify.load()


def facts(text: str) -> dict:
    return extract(text, RULES)


def test_versions_compare_numerically():
    assert version_key("6.9") < version_key("6.16") < version_key("6.16.1")
    assert version_key("10.1") > version_key("9.2")


@pytest.mark.parametrize(("text", "kernel"), [
    ("- Linux server (Kernel 6.16+ for full TDX support) with:", "6.16"),
    ("The host kernel must be 6.12 or newer.", "6.12"),
    ("Minimum host kernel: 6.16.1", "6.16.1"),
    ("Linux kernel >= 6.17 is required", "6.17"),
])
def test_minimum_kernel(text, kernel):
    assert facts(text)["min_kernel"] == kernel


def test_kernel_mentioned_without_a_minimum_is_no_fact():
    assert "min_kernel" not in facts("We tested on kernel 6.8 last year.")


def test_qemu_minimum_from_a_nested_list():
    text = "## Prerequisites\n- Linux server with:\n  - QEMU with TDX support (10.1+)"
    assert facts(text)["min_qemu"] == "10.1"


def test_gpu_lists_under_their_labels():
    text = "\n".join([
        "### Supported GPUs", "**Minimum:**", "- NVIDIA H100 or newer",
        "- Confidential Computing (CC) support", "**Tested:**", "- NVIDIA H200 NVL",
        "- NVIDIA B200",
    ])
    found = facts(text)
    assert found["min_gpu"] == "H100"
    assert found["supported_gpus"] == ["H100"]
    assert found["tested_gpus"] == ["B200", "H200 NVL"]


def test_a_gpu_named_in_passing_states_nothing():
    assert facts("- Specific GPU model (H200, not H100 or A100)") == {}


@pytest.mark.parametrize(("text", "value"), [
    ("**Note:** Consumer GPUs (RTX series) are not supported for production.", False),
    ("Consumer GPUs such as the RTX 4090 are now supported.", True),
    ("GeForce cards are no longer supported.", False),
])
def test_consumer_gpus_with_negation(text, value):
    assert facts(text)["consumer_gpus"] is value


@pytest.mark.parametrize(("text", "value"), [
    ("- Currently only one GPU per guest is supported. This restriction will be lifted in the "
     "future.", 1),
    ("Several GPUs per guest are now supported.", "multiple"),
    ("Up to 8 GPUs per guest are supported.", 8),
    ("Multiple GPUs per guest are not supported.", 1),
])
def test_gpus_per_guest(text, value):
    assert facts(text)["gpus_per_guest"] == value


def test_a_promise_is_not_a_fact():
    assert "gpus_per_guest" not in facts("Multiple GPUs per guest will be supported in TDX 2.0.")


def test_tees_supported_and_denied():
    assert facts("Workers need an Intel TDX-capable CPU.")["cpu_tees"] == ["Intel TDX"]
    found = facts("Intel TDX and AMD SEV-SNP are supported.")
    assert found["cpu_tees"] == ["AMD SEV-SNP", "Intel TDX"]
    assert "cpu_tees" not in facts("AMD SEV-SNP is not supported.")


@pytest.mark.parametrize(("text", "value"), [
    ("- Updated VBIOS for attestation (requires NVIDIA support)", True),
    ("A VBIOS update is no longer required.", False),
])
def test_vbios_requirement(text, value):
    assert facts(text)["vbios_required"] is value


def test_amounts_and_units():
    found = facts("| Parameter | Value |\n| price per token | 20 nanoTON |\n"
                  "| min client stake | 10 TON |")
    assert found["price_per_token"] == {"amount": 2e-08, "unit": "TON"}
    assert found["stake"] == {"amount": 10.0, "unit": "TON"}
    assert facts("relatively high commissions (~0.01 TON per operation)")["fee"] == {
        "amount": 0.01, "unit": "TON"}
    assert facts("The proxy fee is 5% of the price.")["fee"] == {"amount": 5.0, "unit": "%"}
    assert facts("about $2.50 per token")["price_per_token"] == {"amount": 2.5, "unit": "USD"}


def test_close_delay_in_words_and_numbers():
    text = "wait for client close delay seconds (we expect it to be about one day)"
    assert facts(text)["close_delay"] == 86400
    assert facts("The client close delay is now 3 days.")["close_delay"] == 3 * 86400


def test_root_contract_models_and_tools():
    address = "EQCns7bYSp0igFvS1wpb5wsZjCKCV19MD5AVzI4EyxsnU73k"
    assert facts(f"root_contract_address = {address}")["root_contract"] == address
    found = facts("./scripts/build-model Qwen/Qwen3-0.6B and deepseek-r1-distill now served")
    assert found["models"] == ["Qwen3-0.6B", "deepseek-r1-distill"]
    assert facts("COCOON worker v1.2.0 is out")["worker_release"] == "v1.2.0"
    assert facts("Docker client (preview)")["docker_client"] == "preview"
    assert facts("A Python SDK is coming soon.")["sdk"] == "planned"
    assert "sdk" not in facts("Script calls NVIDIA attestation SDK")


def test_governance():
    assert facts("Governance: Currently centralized (COCOON team), future: DAO.")[
        "governance"] == "centralized, DAO promised"
    assert facts("The COCOON DAO now votes on the registry.")["governance"] == "DAO"


def test_real_docs_sheet(real_fixtures: Path):
    docs = real_fixtures / "cocoon-repo-docs" / "docs"
    gpu = facts((docs / "gpu.md").read_text())
    assert gpu["min_gpu"] == "H100"
    assert gpu["tested_gpus"] == ["H200 NVL"]
    assert gpu["consumer_gpus"] is False
    assert gpu["gpus_per_guest"] == 1
    assert gpu["vbios_required"] is True
    deployment = facts((docs / "deployment.md").read_text())
    assert (deployment["min_kernel"], deployment["min_qemu"]) == ("6.16", "10.1")
    contracts = facts((docs / "smart-contracts.md").read_text())
    assert contracts["governance"] == "centralized, DAO promised"


def test_display():
    assert money({"amount": 2e-08, "unit": "TON"}) == "0.00000002 TON"
    assert money({"amount": 5.0, "unit": "%"}) == "5%"
    assert duration(86400) == "1 day" and duration(3 * 86400) == "3 days"
    assert display("consumer_gpus", False) == "no"
    assert display("tested_gpus", ["B200", "H200 NVL"]) == "B200, H200 NVL"
