"""Peak memory and speed of ``prefnb convert`` on a big file, streamed vs in memory.

Writes a synthetic JSONL file (in bench/_work/, git-ignored) of ``--mb`` MiB, shaped by
``--shape``: HH-RLHF transcripts (multi-turn, ~1.5 KB a row; the default), rated
multi-completion rows (UltraFeedback's ``completions`` with ``overall_score``, four a prompt,
binarized best vs worst) or pairwise judgments (AlpacaEval's ``output_1``/``output_2`` with a
``preference``, ties included). It converts the file to Together DPO JSONL in a fresh process,
reading that process's peak RSS from the kernel (``wait4``). Side by side, in the same run: the peak
RSS of a process that only imports prefnb (the floor), and, on a ``--baseline-mb`` file, the
in-memory path (``read_pairs`` + ``export_dpo``) against the streamed one, each also with a
10 % validation split (``--validation``, which streams as well). The goal is a 5 GB
file under 500 MB RSS; pass ``--mb 5120`` when the disk and time allow (generation and one
conversion take several minutes on a shared machine).

Run:
    .venv/bin/python bench/convert_stream.py --mb 1024 --baseline-mb 100
    .venv/bin/python bench/convert_stream.py --shape rated --mb 1024
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synth import WORK
from _synth import text as _text

STREAMED = """
import sys
from prefnb.formats.convert import convert_lines
r = convert_lines(sys.argv[1], sys.argv[2])
print(r.written)
"""
IN_MEMORY = """
import sys
import prefnb
df = prefnb.read_pairs(sys.argv[1])
if df.attrs.get("prefnb_format") == "multi":
    from prefnb.formats import binarize
    df = binarize(df)
r = prefnb.export_dpo(df, sys.argv[2])
print(r.rows_written["train"])
"""
STREAMED_SPLIT = """
import sys
from pathlib import Path
from prefnb.formats.convert import convert_lines
val = Path(sys.argv[2]).with_name("convert_val.jsonl")
r = convert_lines(sys.argv[1], sys.argv[2], validation_path=val, val_fraction=0.1)
val.unlink()
print(r.written + r.written_validation)
"""
IN_MEMORY_SPLIT = """
import sys
from pathlib import Path
import prefnb
val = Path(sys.argv[2]).with_name("convert_val.jsonl")
df = prefnb.read_pairs(sys.argv[1])
if df.attrs.get("prefnb_format") == "multi":
    from prefnb.formats import binarize
    df = binarize(df)
r = prefnb.export_dpo(df, sys.argv[2], validation_path=val, val_fraction=0.1)
val.unlink()
print(r.rows_written["train"] + r.rows_written["validation"])
"""
FLOOR = """
import prefnb.formats.convert, prefnb.export
print(0)
"""


def hh_row(rng: random.Random, i: int) -> dict[str, object]:
    head = f"\n\nHuman: q{i} {_text(rng, 30)}"
    if rng.random() < 0.4:
        head += f"\n\nAssistant: {_text(rng, 50)}\n\nHuman: {_text(rng, 20)}"
    return {
        "chosen": f"{head}\n\nAssistant: {_text(rng, 90)}",
        "rejected": f"{head}\n\nAssistant: {_text(rng, 60)}",
    }


def rated_row(rng: random.Random, i: int) -> dict[str, object]:
    return {
        "source": "synthetic",
        "instruction": f"q{i} {_text(rng, 30)}",
        "models": ["m1", "m2", "m3", "m4"],
        "completions": [
            {"model": m, "response": _text(rng, 60), "overall_score": rng.randint(1, 10)}
            for m in ("m1", "m2", "m3", "m4")
        ],
    }


def pairwise_row(rng: random.Random, i: int) -> dict[str, object]:
    return {
        "instruction": f"q{i} {_text(rng, 30)}",
        "output_1": _text(rng, 90),
        "output_2": _text(rng, 60),
        "generator_1": "m1",
        "generator_2": "m2",
        "preference": rng.choice([1, 2, 1.2, 1.9, 0]),
    }


SHAPES = {"hh": hh_row, "rated": rated_row, "pairwise": pairwise_row}


def make_file(path: Path, target: int, shape: str = "hh", seed: int = 0) -> Path:
    if path.exists() and path.stat().st_size >= target:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    row = SHAPES[shape]
    tmp = path.with_suffix(".tmp")
    written = 0
    i = 0
    with open(tmp, "w", encoding="utf-8") as fh:
        while written < target:
            line = json.dumps(row(rng, i))
            fh.write(line + "\n")
            written += len(line) + 1
            i += 1
    tmp.replace(path)
    return path


def run(script: str, src: Path, out: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of ``script`` in a fresh interpreter."""
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(src), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # wait4's ru_maxrss: this bench process stays small (it only writes the input file), so
    # the pages a forked child shares with it before exec cannot inflate the figure
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    stdout = proc.stdout.read().decode() if proc.stdout else ""
    if status != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"failed: {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024, stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--mb", type=int, default=1024, help="size of the big file in MiB")
    ap.add_argument("--baseline-mb", type=int, default=100, help="size for the in-memory path")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="hh", help="rows of the file")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    shape = args.shape
    small = make_file(WORK / f"{shape}_{args.baseline_mb}mb.jsonl", args.baseline_mb * 2**20, shape)
    big = make_file(WORK / f"{shape}_{args.mb}mb.jsonl", args.mb * 2**20, shape)
    out = WORK / "convert_out.jsonl"
    print(f"{'what':44s} {'file MB':>8s} {'wall s':>8s} {'MB/s':>6s} {'peak RSS MB':>12s}")
    rows = [
        ("import prefnb only (floor)", FLOOR, small),
        ("in memory: read_pairs + export_dpo", IN_MEMORY, small),
        ("streamed: prefnb convert (convert_lines)", STREAMED, small),
        ("streamed: prefnb convert (convert_lines)", STREAMED, big),
        ("in memory, 10% validation split", IN_MEMORY_SPLIT, small),
        ("streamed, 10% validation split", STREAMED_SPLIT, small),
        ("streamed, 10% validation split", STREAMED_SPLIT, big),
    ]
    for name, script, src in rows:
        mb = src.stat().st_size / 1e6
        wall, rss, written = run(script, src, out)
        rate = f"{mb / wall:6.0f}" if script is not FLOOR else "     -"
        print(f"{name:44s} {mb:8.0f} {wall:8.1f} {rate} {rss:12.0f}   ({written} lines)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    out.unlink(missing_ok=True)
    if not args.keep:
        big.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
