"""Fixtures: fine-tuned SFT and DPO models trained at LocalTogether (serverless LoRA base)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import prefnb
from prefnb.testing import LocalTogether

BASE = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"  # offers serverless LoRA
JUDGE = "meta-llama/Llama-3.3-70B-Instruct-Turbo"


@pytest.fixture(autouse=True)
def own_home(prefnb_home: Path) -> Path:
    """Every test here gets its own ledger and export cache (see the root conftest)."""
    return prefnb_home


@pytest.fixture
def api() -> Iterator[LocalTogether]:
    with LocalTogether(speed=500) as server:
        yield server


def sft_and_dpo(api: LocalTogether, beta: float = 0.1) -> tuple[Any, Any]:
    client = api.client()
    sft, dpo = prefnb.launch_sft_then_dpo(
        prefnb.load_sample(), model=BASE, dpo={"dpo_beta": beta}, client=client,
        progress=False, wait=True,
    )  # fmt: skip
    return sft, dpo


def heldout(n: int) -> list[str]:
    return [f"Held-out question {i}: explain idea {i} simply." for i in range(n)]
