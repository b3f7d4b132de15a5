"""Constants and data builders shared by the launcher tests.

They live here, not in ``conftest.py``: ``from conftest import ...`` resolves to whichever
conftest pytest loaded last when several test folders are collected together.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"


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
