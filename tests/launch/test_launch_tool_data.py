"""Data Together accepts today launches: tool calling and reasoning preference files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from launch_support import MODEL

from prefnb.launch import launch_dpo
from prefnb.testing import LocalTogether
from prefnb.validation import validate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "validation"))
from test_validation_profiles import reasoning_line, tool_line


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def test_tool_calling_and_reasoning_files_launch_and_complete(
    api: LocalTogether, client: Any, tmp_path: Path
) -> None:
    for name, make in (("tools", tool_line), ("reasoning", reasoning_line)):
        rows = [make() for _ in range(6)]
        for i, row in enumerate(rows):
            row["input"]["messages"][0]["content"] += f" #{i}"
        path = write(tmp_path / f"{name}.jsonl", rows)
        # together 1.5.34's local check would have refused it; today's format accepts it.
        assert not validate(path, profile="together-1.5.34").ok
        job = launch_dpo(path, model=MODEL, client=client, wait=True, progress=False)
        assert job.last_status == "completed", name
    assert len(api.state.jobs) == 2
