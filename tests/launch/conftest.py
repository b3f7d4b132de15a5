"""Fixtures for launcher tests: an isolated PREFNB_HOME and a LocalTogether per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from launch_support import write_dpo

from prefnb.testing import LocalTogether


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


@pytest.fixture
def dpo_file(tmp_path: Path) -> Path:
    return write_dpo(tmp_path / "train.jsonl")
