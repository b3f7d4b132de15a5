"""Validator throughput, side by side with together 1.5.34's ``check_file`` in the same run.

Generates a synthetic preference JSONL (≥ 200 MB, in bench/_work/, git-ignored) and prints MB/s
for: raw line reading, bare JSON decoding (stdlib json — the SDK's parser — and msgspec
typed), ``prefnb.validate`` (together profile; one process and all cores) and together
1.5.34's ``check_file`` when a side virtualenv has it, plus ratios to ``check_file``.
Measurements are interleaved over rounds and the best round counts, so background load hits
every contender alike.

Run:
    .venv/bin/python bench/validate.py                 # 210 MB, 2 rounds
    .venv/bin/python bench/validate.py --breaks        # answers with line and paragraph breaks
    .venv/bin/python bench/validate.py --breakdown     # also: where one process's time goes
    .venv/bin/python bench/validate.py --mb 400 --rounds 3 \\
        --side-python /work/side-together/bin/python

The side environment (never the project's venv):
    python3 -m venv /work/side-together && /work/side-together/bin/pip install together==1.5.34
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

sys.path.insert(0, str(Path(__file__).resolve().parent))
import msgspec
from _synth import WORK, make_file

from prefnb.validation import validate
from prefnb.validation.lines import iter_blocks


# The baseline's types: the clean preference line, typed (these were the validator's own
# decoding types when the goal was set; kept here so the baseline does not move with them).
class _Msg(msgspec.Struct, forbid_unknown_fields=True, gc=False, frozen=True):
    role: Literal["system", "user", "assistant"]
    content: str


class _Out(msgspec.Struct, forbid_unknown_fields=True, gc=False, frozen=True):
    role: Literal["assistant"]
    content: str


class _Input(msgspec.Struct, forbid_unknown_fields=True, gc=False, frozen=True):
    messages: Annotated[list[_Msg], msgspec.Meta(min_length=1)]


_One = Annotated[list[_Out], msgspec.Meta(min_length=1, max_length=1)]


class _Line(msgspec.Struct, forbid_unknown_fields=True, gc=False, frozen=True):
    input: _Input
    preferred_output: _One
    non_preferred_output: _One


_DECODER = msgspec.json.Decoder(_Line)

SDK_SCRIPT = r"""
import os, sys, time
os.environ["TOGETHER_NO_BANNER"] = "1"
from together import version
from together.utils.files import check_file
t, c = time.perf_counter(), time.process_time()
report = check_file(sys.argv[1])
print(version, report["is_check_passed"], time.perf_counter() - t, time.process_time() - c)
"""


def raw_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        for _ in fh:
            n += 1
    return n


def stdlib_decode(path: Path) -> int:
    n = 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            json.loads(line)
            n += 1
    return n


def msgspec_decode(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        for block in iter_blocks(fh):
            n += len(_DECODER.decode_lines(block.data))
    return n


def sdk_seconds(side_python: str, path: Path) -> tuple[float, float, str]:
    proc = subprocess.run(
        [side_python, "-c", SDK_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TOGETHER_NO_BANNER": "1"},
    )
    version, passed, wall, cpu = proc.stdout.split()[-4:]
    if passed != "True":
        raise SystemExit(f"check_file rejected the synthetic file: {proc.stdout}")
    return float(wall), float(cpu), version


def _spin(_: object) -> float:
    t = time.perf_counter()
    x = 0
    for i in range(2_000_000):
        x += i * i
    return time.perf_counter() - t


def core_check(n: int) -> str:
    """How much n busy loops on n processes slow each other down (1.0x = n free cores)."""
    import multiprocessing

    alone = _spin(None)
    with multiprocessing.get_context("fork").Pool(n) as pool:
        t = time.perf_counter()
        pool.map(_spin, range(n))
        together = time.perf_counter() - t
    return f"{together / alone:.1f}x the time of one (1.0x = {n} free cores)"


def breakdown(path: Path, rounds: int = 3) -> None:
    """CPU time of each step of the validator's fast path over the file, best of ``rounds``.

    The steps are those of ``LineChecker._fast_sub`` for clean lines, timed one by one over
    the same blocks: reading, the typed decode, counting bytes (one C pass for lines, line
    heads and quotes; without it numpy's ``line_heads``), the per-line checks and field
    extraction (``_settle``), the repeated-key guard (numpy's quote masks, or comparing the C
    counts) and the statistics (``commit``: prompt hashes, lengths, empty and near-identical
    outputs).
    """
    from prefnb.validation import checker as ck
    from prefnb.validation.lines import line_heads
    from prefnb.validation.scan import ACCELERATED, block_counts
    from prefnb.validation.warnings import PairStats

    steps = ("read", "decode", "count bytes", "settle", "guard", "commit")
    best = dict.fromkeys(steps, float("inf"))
    clock = time.process_time
    for _ in range(rounds):
        spent = dict.fromkeys(steps, 0.0)
        checker = ck.LineChecker("together", stats=PairStats(lazy_pairs=True))
        checker.dataset_format = "preference_openai"
        with open(path, "rb") as fh:
            t0 = clock()
            for block in iter_blocks(fh, count_lines=False):
                t1 = clock()
                recs = ck._DECODER.decode_lines(block.data)
                t2 = clock()
                # as the checker does: one C pass, or numpy's line count now and its quote
                # masks in the guard
                counts = block_counts(block.data)
                n = counts.newlines if counts else line_heads(block.data, len(recs))[0]
                t3 = clock()
                batch = checker._settle(recs, 1)
                assert batch is not None
                t4 = clock()
                batch.no_repeated_keys(block.data, counts)
                t5 = clock()
                batch.commit(checker.stats, None, (1, n, block.start, len(block.data)))
                t6 = clock()
                for step, took in zip(
                    steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5), strict=True
                ):
                    spent[step] += took
                t0 = clock()
        for step in steps:
            best[step] = min(best[step], spent[step])
    total = sum(best.values())
    load = os.getloadavg()[0]
    how = "C byte counter" if ACCELERATED else "numpy (no C byte counter)"
    print(f"\nwhere one process's time goes (CPU ms, best of {rounds}; {how}; load {load:.1f}):")
    for step in steps:
        print(f"  {step:12s} {1000 * best[step]:7.1f} ms  {100 * best[step] / total:5.1f} %")
    shared = best["read"] + best["decode"]
    print(
        f"  reading + decoding {1000 * shared:.0f} ms; the checks on top "
        f"{1000 * (total - shared):.0f} ms ({(total - shared) / shared:.2f}x of it; "
        "0.7x of msgspec's decode allows about 0.43x)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--mb", type=int, default=210, help="file size in MiB (default 210)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--side-python", default="/work/side-together/bin/python")
    ap.add_argument(
        "--breaks",
        action="store_true",
        help="answers cut into lines and paragraphs (escaped newlines, as real answers have)",
    )
    ap.add_argument(
        "--breakdown",
        action="store_true",
        help="also time each step of one process's fast path (see breakdown())",
    )
    args = ap.parse_args()

    name = f"synth_{args.mb}mb{'_breaks' if args.breaks else ''}.jsonl"
    path = make_file(WORK / name, args.mb * 2**20, breaks=args.breaks)
    size_mb = path.stat().st_size / 1e6
    have_sdk = Path(args.side_python).exists()
    cpus = len(os.sched_getaffinity(0))
    print(f"file: {path} ({size_mb:.0f} MB, {raw_lines(path)} lines); {cpus} CPUs")
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print(f"free-core check: {cpus} busy loops on {cpus} processes took {core_check(cpus)}")

    Timing = tuple[float, float]  # (wall seconds, CPU seconds incl. worker processes)

    def cpu_now() -> float:
        # getrusage counts in microseconds; os.times() in clock ticks (10 ms), which is 5 %
        # of a 200 ms measurement
        me, children = (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
        return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime

    def timed(fn: Callable[[], object]) -> Callable[[], Timing]:
        def run() -> Timing:
            t, c = time.perf_counter(), cpu_now()
            fn()
            return time.perf_counter() - t, cpu_now() - c

        return run

    def prefnb_run(workers: int) -> Callable[[], Timing]:
        def check() -> None:
            report = validate(path, profile="together", workers=workers)
            assert report.ok, report

        return timed(check)

    contenders: dict[str, Callable[[], Timing]] = {
        "raw line reading (binary)": timed(lambda: raw_lines(path)),
        "bare JSON decode: stdlib json": timed(lambda: stdlib_decode(path)),
        "bare JSON decode: msgspec typed": timed(lambda: msgspec_decode(path)),
        "prefnb.validate, 1 process": prefnb_run(1),
        f"prefnb.validate, {cpus} processes": prefnb_run(cpus),
    }
    sdk_version = None
    sdk_name = "together check_file (side env)"
    if have_sdk:

        def sdk() -> Timing:
            nonlocal sdk_version
            wall, cpu, sdk_version = sdk_seconds(args.side_python, path)
            return wall, cpu

        contenders[sdk_name] = sdk
    best_wall: dict[str, float] = {}
    best_cpu: dict[str, float] = {}
    for r in range(args.rounds):
        for name, run in contenders.items():
            wall, cpu = run()
            best_wall[name] = min(best_wall.get(name, float("inf")), wall)
            best_cpu[name] = min(best_cpu.get(name, float("inf")), cpu)
            print(
                f"  round {r + 1}: {name:36s} {size_mb / wall:7.0f} MB/s wall "
                f"{size_mb / cpu:7.0f} MB/CPU-s",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(f"free-core check: {cpus} busy loops on {cpus} processes took {core_check(cpus)}")
    title = f"together {sdk_version} check_file" if sdk_version else "check_file (not installed)"
    print(
        f"\nbest of {args.rounds} rounds, {size_mb:.0f} MB; ratios are to {title}.\n"
        "wall MB/s is what a user waits for; MB per CPU-second is immune to other load on a\n"
        "shared machine (for the multi-process run it sums all workers, so it shows overhead,\n"
        "not the speed-up: read its wall column)."
    )
    print(f"  {'':36s} {'wall MB/s':>10s} {'ratio':>6s} {'MB/CPU-s':>10s} {'ratio':>6s}")
    for name in contenders:
        wall = size_mb / best_wall[name]
        cpu = size_mb / best_cpu[name]
        if have_sdk:
            rw = f"{wall / (size_mb / best_wall[sdk_name]):5.2f}x"
            rc = f"{cpu / (size_mb / best_cpu[sdk_name]):5.2f}x"
        else:
            rw = rc = "   n/a"
        print(f"  {name:36s} {wall:10.0f} {rw:>6s} {cpu:10.0f} {rc:>6s}")
    if not have_sdk:
        print(f"(no side env at {args.side_python}: see this script's docstring)")
    one = "prefnb.validate, 1 process"
    typed = "bare JSON decode: msgspec typed"
    print("\ngoals (one process, CPU time, so other load cancels out):")
    r_typed = best_cpu[typed] / best_cpu[one]
    print(f"  prefnb.validate vs msgspec typed decode: {r_typed:.2f}x (goal >= 0.7x)")
    if have_sdk:
        r_sdk = best_cpu[sdk_name] / best_cpu[one]
        print(f"  prefnb.validate vs {title}: {r_sdk:.2f}x (goal >= 3x)")
    raw = "raw line reading (binary)"
    many = f"prefnb.validate, {cpus} processes"
    print(
        f"  all {cpus} cores: {size_mb / best_wall[many]:.0f} MB/s wall vs raw line reading "
        f"{size_mb / best_wall[raw]:.0f} MB/s"
    )
    if args.breakdown:
        breakdown(path)


if __name__ == "__main__":
    main()
