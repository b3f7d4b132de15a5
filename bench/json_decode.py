"""JSON decoding speed on preference JSONL: orjson vs msgspec (untyped, typed), stdlib baseline.

Picks the library for prefnb's validator fast path. Run:
    .venv/bin/python bench/json_decode.py [--mb 64]

Measured here (64 MB, shared 2-core VM, wall MB/s, one run): stdlib 74, orjson 118,
msgspec untyped 136, msgspec typed 178, msgspec typed decode_lines 187 — msgspec wins, and
its typed decoding also checks roles, counts and types in C, which orjson cannot.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synth import WORK, make_file


class Msg(msgspec.Struct):
    role: str
    content: str


class Inp(msgspec.Struct):
    messages: list[Msg]


class Line(msgspec.Struct):
    input: Inp
    preferred_output: list[Msg]
    non_preferred_output: list[Msg]


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=int, default=64)
    args = ap.parse_args()
    path = make_file(WORK / f"synth_{args.mb}mb.jsonl", args.mb * 2**20)
    data = path.read_bytes()
    lines = data.splitlines()
    mb = len(data) / 1e6
    generic = msgspec.json.Decoder()
    typed = msgspec.json.Decoder(Line)
    cases: dict[str, Callable[[], object]] = {
        "stdlib json.loads per line": lambda: [json.loads(x) for x in lines],
        "orjson.loads per line": lambda: [orjson.loads(x) for x in lines],
        "msgspec untyped per line": lambda: [generic.decode(x) for x in lines],
        "msgspec typed per line": lambda: [typed.decode(x) for x in lines],
        "msgspec typed decode_lines": lambda: typed.decode_lines(data),
    }
    print(f"{len(lines)} lines, {mb:.0f} MB ({path})")
    base = None
    for name, fn in cases.items():
        secs = best_of(fn)
        rate = mb / secs
        base = base or rate
        print(f"  {name:32s} {rate:8.0f} MB/s   {rate / base:5.2f}x stdlib")


if __name__ == "__main__":
    main()
