"""Fixtures for launcher tests: an isolated PREFNB_HOME and a LocalTogether per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from launch_support import write_dpo

from prefnb.testing import LocalTogether


@pytest.fixture(autouse=True)
def own_home(prefnb_home: Path) -> Path:
    """Every test here gets its own ledger and export cache (see the root conftest)."""
    return prefnb_home


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
