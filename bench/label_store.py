"""Label store commit latency: synchronous=NORMAL vs FULL, side by side in one run.

What it measures is the store's share of the issue's budget "keypress → label committed in
SQLite: p95 ≤ 50 ms": the wall time of one ``LabelStore.record()`` call, which returns only
after COMMIT. Both modes write the same events into fresh stores in the same directory, in
alternating rounds, so background load hits both alike.

With ``--writers K`` (default 4) it also runs K processes labelling the same FULL store at
once (several kernels on one file) and prints their commit latency beside one writer alone.

Run:
    .venv/bin/python bench/label_store.py            # 600 labels per mode, 4 writers
    .venv/bin/python bench/label_store.py --n 2000 --writers 0 --dir /path/on/the/real/disk
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from prefnb.labels import LabelStore

BUDGET_MS = 50.0

# One contending writer: waits for the start file, records with a little think time (so the
# writers interleave as kernels would), prints its commit latencies in ms.
_WRITER = textwrap.dedent(
    """
    import os, random, sys, time
    from prefnb.labels import LabelStore
    path, worker, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    store = LabelStore(path, timeout=60)
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.001)
    out = []
    for i in range(n):
        time.sleep(random.random() * 0.002)
        t0 = time.perf_counter()
        store.record(pair_id=f"{worker}-{i}", annotator=worker, kind="label", verdict="a")
        out.append((time.perf_counter() - t0) * 1000)
    print(" ".join(f"{x:.4f}" for x in out))
    """
)


def _contended(directory: Path, writers: int, n: int) -> list[float]:
    path, go = directory / "shared.sqlite", directory / "go"
    LabelStore(path).close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), f"w{k}", str(n), str(go)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(writers)
    ]
    for proc in procs:  # start only when every writer has imported and opened the store
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"writer exited before opening the store: {proc.wait()}")
    go.touch()
    times: list[float] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"writer failed with exit code {proc.returncode}")
        times += [float(x) for x in out.split()]
    return times


def _event(i: int) -> dict[str, object]:
    event: dict[str, object] = {
        "pair_id": f"pair-{i:07d}",
        "annotator": "bench",
        "kind": "label",
        "verdict": ("a", "b", "tie", "both_bad")[i % 4],
        "shown": "ab" if i % 3 else "ba",
        "strength": "clear",
        "duration_ms": 1234.0,
    }
    if i % 10 == 0:  # now and then a label carries a rewritten ~4 KB response
        event["edited_preferred"] = "rewritten answer " * 240
    return event


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600, help="labels per mode (default 600)")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds (default 6)")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the stores")
    parser.add_argument("--writers", type=int, default=4, help="concurrent writers (0: skip)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        modes = ("NORMAL", "FULL")
        stores = {m: LabelStore(Path(tmp) / f"{m.lower()}.sqlite", synchronous=m) for m in modes}
        times: dict[str, list[float]] = {m: [] for m in modes}
        per_round = max(1, args.n // args.rounds)
        i = 0
        for _ in range(args.rounds):
            for mode in modes:
                for k in range(per_round):
                    event = _event(i + k)
                    t0 = time.perf_counter()
                    stores[mode].record(**event)  # type: ignore[arg-type]
                    times[mode].append((time.perf_counter() - t0) * 1000)
            i += per_round
        for store in stores.values():
            store.close()
        contended = _contended(Path(tmp), args.writers, args.n // 2) if args.writers else []

    print(
        f"label store commit latency (ms), {len(times['FULL'])} labels per mode, "
        f"{os.cpu_count()} CPUs"
    )
    _table({"NORMAL": times["NORMAL"], "FULL": times["FULL"]})
    p95 = _pct(times["FULL"], 0.95)
    verdict = "within" if p95 <= BUDGET_MS else "OVER"
    print(f"FULL p95 {p95:.2f} ms is {verdict} the {BUDGET_MS:.0f} ms keypress→committed budget")
    if contended:
        print()
        print(f"FULL, 1 writer vs {args.writers} processes writing one store at once")
        _table({"1 writer": times["FULL"], f"{args.writers} writers": contended})
        p95 = _pct(contended, 0.95)
        verdict = "within" if p95 <= BUDGET_MS else "OVER"
        print(f"contended p95 {p95:.2f} ms is {verdict} the {BUDGET_MS:.0f} ms budget")


def _table(columns: dict[str, list[float]]) -> None:
    (base_name, base), (name, other) = columns.items()
    print(f"{'':>6} {base_name:>10} {name:>10} {'ratio':>8}")
    stats = [
        ("p50", statistics.median),
        ("p95", lambda v: _pct(v, 0.95)),
        ("p99", lambda v: _pct(v, 0.99)),
        ("max", max),
        ("mean", statistics.fmean),
    ]
    for label, fn in stats:
        a, b = fn(base), fn(other)
        print(f"{label:>6} {a:>10.2f} {b:>10.2f} {b / a:>7.1f}x")


if __name__ == "__main__":
    main()
