"""Fixtures for launcher tests: an isolated PREFNB_HOME and a LocalTogether per test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prefnb.testing import LocalTogether

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DPO = ROOT / "prefnb" / "data" / "sample_dpo.jsonl"
MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"


@pytest.fixture(autouse=True)
def prefnb_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own ledger and export cache; no real key or URL leaks in."""
    home = tmp_path / "prefnb-home"
    monkeypatch.setenv("PREFNB_HOME", str(home))
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    monkeypatch.delenv("TOGETHER_BASE_URL", raising=False)
    return home


@pytest.fixture
def api() -> Iterator[LocalTogether]:
    """A LocalTogether where a small job finishes in well under a second; every request and
    response of a launch must also match Together's OpenAPI spec (strict_spec)."""
    with LocalTogether(speed=200, strict_spec=True) as server:
        yield server


@pytest.fixture
def client(api: LocalTogether) -> Any:
    return api.client()


def write_dpo(path: Path, n: int = 8, *, tag: str = "") -> Path:
    """A small valid DPO JSONL file (``tag`` makes its bytes, hence checksum, unique)."""
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            rec = {
                "input": {"messages": [{"role": "user", "content": f"Question {i}{tag}: 2+{i}?"}]},
                "preferred_output": [{"role": "assistant", "content": f"It is {2 + i}."}],
                "non_preferred_output": [{"role": "assistant", "content": "No idea, sorry."}],
            }
            f.write(json.dumps(rec) + "\n")
    return path


@pytest.fixture
def dpo_file(tmp_path: Path) -> Path:
    return write_dpo(tmp_path / "train.jsonl")
