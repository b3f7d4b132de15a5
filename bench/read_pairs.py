"""How fast prefnb.read_pairs turns files into a pair table, next to baselines in the same run.

For each format (Together DPO, TRL standard, HH-RLHF transcripts) it writes a synthetic JSONL
file, then times, on that file: reading its lines, decoding every line with the stdlib json
module (the floor any Python reader pays), ``pandas.read_json(lines=True)`` (what people use
today, which does no conversion at all), and ``prefnb.read_pairs`` (parse, convert, id and
check every row). Figures are CPU seconds, MB per CPU second and each step's time as a
multiple of the stdlib decode ("x json"; the goal for read_pairs is at most 2x on the Together
and TRL files, HH transcripts are reported apart). The machine load is printed before and
after. Run:
    .venv/bin/python bench/read_pairs.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from _synth import text as _text

import prefnb


def _row(fmt: str, i: int, rng: random.Random) -> dict[str, Any]:
    prompt, good, bad = f"q{i} " + _text(rng, 30), _text(rng, 80), _text(rng, 60)
    if fmt == "together":
        return {
            "input": {"messages": [{"role": "user", "content": prompt}]},
            "preferred_output": [{"role": "assistant", "content": good}],
            "non_preferred_output": [{"role": "assistant", "content": bad}],
        }
    if fmt == "trl":
        return {"prompt": prompt, "chosen": good, "rejected": bad}
    head = f"\n\nHuman: {prompt}\n\nAssistant: ok\n\nHuman: more\n\nAssistant: "
    return {"chosen": head + good, "rejected": head + bad}


# VmHWM is the peak RSS of this program only: ru_maxrss would include the pages a forked
# child briefly shared with this (big) bench process before exec.
_HWM = """
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""
_READ_SCRIPT = (
    _HWM
    + """
import sys
import prefnb
df = prefnb.read_pairs(sys.argv[1])
peak = hwm()
# memory_usage(deep=True) counts an object column's top-level objects only (a prompt's list,
# not its message dicts and strings): walk them for what the frame really holds
seen, nested = set(), 0
stack = [v for c in df.columns if df[c].dtype == object for v in df[c].values]
while stack:
    o = stack.pop()
    if id(o) in seen:
        continue
    seen.add(id(o))
    if isinstance(o, (list, tuple, dict)):
        nested += sys.getsizeof(o)
        stack.extend(o.values() if isinstance(o, dict) else o)
        if isinstance(o, dict):
            stack.extend(o)
    elif isinstance(o, str):
        nested += sys.getsizeof(o)
deep = df.memory_usage(deep=True).sum()
top = sum(sys.getsizeof(v) for c in df.columns if df[c].dtype == object for v in df[c].values)
print(peak, deep / 1e6, (deep - top + nested) / 1e6)
"""
)
_FLOOR_SCRIPT = (
    _HWM
    + """
import prefnb, prefnb.formats
print(hwm(), 0)
"""
)


def _peak_rss(script: str, path: Path) -> list[float]:
    """[peak RSS in MB, the numbers the script printed …] of ``script`` in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    ).stdout.split()
    return [float(x) for x in out]


def _time(fn: Callable[[], object]) -> float:
    # CPU time of this process (all threads), best of two: the bench machine's two cores are
    # shared, and wall time there measures the neighbours as much as the code.
    best = float("inf")
    for _ in range(2):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"{'format':<10} {'MB':>6}  {'step':<26} {'CPU s':>8} {'MB/s':>8} {'x json':>8}")
        goals: list[str] = []
        for fmt in ("together", "trl", "hh"):
            path = Path(tmp) / f"{fmt}.jsonl"
            with path.open("w", encoding="utf-8") as f:
                for i in range(args.rows):
                    f.write(json.dumps(_row(fmt, i, rng)) + "\n")
            mb = path.stat().st_size / 1e6

            def lines(p: Path = path) -> object:
                return p.read_bytes().splitlines()

            def stdlib(p: Path = path) -> object:
                return [json.loads(line) for line in p.read_bytes().splitlines()]

            def pandas(p: Path = path) -> object:
                return pd.read_json(p, lines=True)

            def prefnb_read(p: Path = path, fmt: str = fmt) -> object:
                df = prefnb.read_pairs(p)
                assert df.attrs["prefnb_format"] == fmt
                return df

            base = _time(stdlib)
            for name, fn in (
                ("read lines", lines),
                ("stdlib json per line", stdlib),
                ("pandas.read_json(lines)", pandas),
                ("prefnb.read_pairs", prefnb_read),
            ):
                secs = base if fn is stdlib else _time(fn)
                print(
                    f"{fmt:<10} {mb:>6.1f}  {name:<26} {secs:>8.2f} {mb / secs:>8.1f} "
                    f"{secs / base:>7.2f}x"
                )
                if fn is prefnb_read:
                    ratio = secs / base
                    goal = "goal <= 2x: " + ("met" if ratio <= 2 else "NOT met")
                    goals.append(
                        f"  {fmt}: read_pairs takes {ratio:.2f}x a bare json.loads of every line "
                        f"({goal if fmt != 'hh' else 'HH reported apart, no goal'})"
                    )
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        print("\n".join(goals))
        print("\npeak memory of one read in a fresh process (MB, above an import-only floor):")
        print(
            "  (frame (deep) is pandas' memory_usage(deep=True); frame (all) adds the message\n"
            "  dicts and strings inside the prompt lists, which pandas does not count)"
        )
        print(
            f"  {'format':<10} {'file':>8} {'frame (deep)':>13} {'frame (all)':>12} "
            f"{'read_pairs':>11} {'/ frame (all)':>14}"
        )
        for fmt in ("together", "trl", "hh"):
            path = Path(tmp) / f"{fmt}.jsonl"
            floor = _peak_rss(_FLOOR_SCRIPT, path)[0]
            peak, frame, frame_all = _peak_rss(_READ_SCRIPT, path)
            print(
                f"  {fmt:<10} {path.stat().st_size / 1e6:8.0f} {frame:13.0f} {frame_all:12.0f} "
                f"{peak - floor:11.0f} {(peak - floor) / frame_all:13.2f}x"
            )


if __name__ == "__main__":
    main()
