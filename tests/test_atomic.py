"""Tests for prefnb.atomic: whole file or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefnb.atomic import atomic_write


def test_replaces_existing_file_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old\n")
    target.chmod(0o640)
    with atomic_write(target) as f:
        f.write(b"new\n")
    assert target.read_bytes() == b"new\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_failure_leaves_existing_file_untouched_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old\n")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(target) as f:
        f.write(b"partial")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_failure_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "new.jsonl"
    with pytest.raises(ValueError, match="x"), atomic_write(target):
        raise ValueError("x")
    assert list(tmp_path.iterdir()) == []


def test_clear_errors_for_bad_targets(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match="is a directory"), atomic_write(tmp_path):
        pass
    with (
        pytest.raises(FileNotFoundError, match="does not exist"),
        atomic_write(tmp_path / "missing" / "x.jsonl"),
    ):
        pass
