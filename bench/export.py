"""What validation costs an export: prefnb.export_dpo vs the plain (unvalidated) writer.

Both write the same DPO JSONL atomically from the same pair table in one run; export_dpo also
serializes, validates every line before writing and validates the result as a whole. Run:
    .venv/bin/python bench/export.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from _synth import text as _text

import prefnb
from prefnb.formats.writers import write_dpo_jsonl


def make_table(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = random.Random(seed)
    return prefnb.pairs_frame(
        {
            "prompt": f"question {i // 3}: {_text(rng, 12)}",
            "response_a": _text(rng, rng.randint(20, 120)),
            "response_b": _text(rng, rng.randint(20, 120)),
            "label": rng.choice(["a", "a", "b", "tie", None]),
        }
        for i in range(rows)
    )


def _best_of(n: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    df = make_table(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        out, val = Path(tmp) / "t.jsonl", Path(tmp) / "v.jsonl"
        cases: list[tuple[str, Callable[[], object]]] = [
            ("write_dpo_jsonl (no validation, baseline)", lambda: write_dpo_jsonl(df, out)),
            ("export_dpo profile=together", lambda: prefnb.export_dpo(df, out)),
            ("export_dpo profile=strict", lambda: prefnb.export_dpo(df, out, profile="strict")),
            (
                "export_dpo + 10% validation split",
                lambda: prefnb.export_dpo(df, out, validation_path=val, val_fraction=0.1),
            ),
        ]
        mb = 0.0
        times = []
        for name, fn in cases:
            times.append((name, _best_of(args.repeat, fn)))
            mb = mb or out.stat().st_size / 2**20
    base = times[0][1]
    print(f"{args.rows} pair rows -> {mb:.1f} MB of DPO JSONL, best of {args.repeat}")
    for name, t in times:
        print(f"{name:45s} {t:7.2f} s  {args.rows / t:9.0f} rows/s  {t / base:5.2f}x baseline")


if __name__ == "__main__":
    main()
