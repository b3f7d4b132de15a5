"""Team labeling on one store: SQLite beside PostgreSQL in the same run.

N annotator processes (default 8) label concurrently for S seconds (default 60) with
overlap 2: each claims a batch of pairs (``LabelStore.claim``, limit 10), labels each
claimed pair (one ``record()`` per pair, timed: keypress → committed), and claims again,
reading the frame from just after its last claim, as a Labeler does. PostgreSQL runs in a
throwaway cluster on 127.0.0.1 (Debian's server; as the ``postgres`` user under root),
through a non-superuser labeling role; SQLite is one WAL file on local disk.

Two phases: saturated (no think time: throughput, and latency under an overload no team
produces) and paced (``--think-ms``, default 500 ms per pair, itself faster than any human:
the keypress → committed latency annotators feel). Printed per backend and phase: commit
p50/p95/max (ms), claims/s, labels/s, and the two invariants
counted from the store afterwards: over-assigned pairs (more distinct annotators than
overlap, plus one for a disagreeing pair) and lost labels (acknowledged by ``record()`` but
missing from the store). The issue's goal: p95 ≤ 20 ms on PostgreSQL over loopback.

Run:
    .venv/bin/python bench/team_store.py                 # 8 annotators, 60 s per backend
    .venv/bin/python bench/team_store.py --seconds 10 --annotators 4
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from prefnb.labels import LabelStore
from prefnb.testing.pg_cluster import INSTALL_HINT, PgCluster, find_pg_bin

OVERLAP = 2
BOOST = 1
GOAL_P95_MS = 20.0


def _annotator(
    target: str, who: str, n_pairs: int, seconds: float, think: float, go: Any, out: Any
) -> None:
    rng = random.Random(who)
    ids = [f"pair-{i:06d}" for i in range(n_pairs)]
    where = {pid: i for i, pid in enumerate(ids)}
    latencies: list[float] = []
    stored: list[tuple[str, int]] = []
    claims = 0
    with LabelStore(target, timeout=60) as store:
        go.wait()
        end = time.monotonic() + seconds
        start = 0
        while time.monotonic() < end:
            batch = store.claim(who, ids[start:], overlap=OVERLAP, limit=10, boost=BOOST)
            claims += 1
            if not batch:
                break
            start = where[batch[-1]] + 1
            for pid in batch:
                if time.monotonic() >= end:
                    break
                if think:
                    time.sleep(think * rng.uniform(0.5, 1.5))  # reading the pair
                # Most annotators agree; about one label in five is the other verdict.
                verdict = "a" if (hash(pid) % 5 != 0) ^ (rng.random() < 0.2) else "b"
                t0 = time.perf_counter()
                eid = store.record(pair_id=pid, annotator=who, kind="label", verdict=verdict)
                latencies.append((time.perf_counter() - t0) * 1000)
                stored.append((pid, eid))
        store.release(who)
    out.put({"who": who, "latencies": latencies, "stored": stored, "claims": claims})


def _pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[int(q) - 1] if len(xs) > 1 else 0.0


def run(target: str, annotators: int, seconds: float, n_pairs: int, think: float) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    names = [f"ann{i}" for i in range(annotators)]
    procs = [
        ctx.Process(target=_annotator, args=(target, n, n_pairs, seconds, think, go, out))
        for n in names
    ]
    for p in procs:
        p.start()
    time.sleep(2.0)  # every process imported and connected
    t0 = time.monotonic()
    go.set()
    results = [out.get(timeout=seconds + 300) for _ in procs]
    wall = time.monotonic() - t0
    for p in procs:
        p.join(timeout=60)
    lat = [x for r in results for x in r["latencies"]]
    acked = {(pid, r["who"], eid) for r in results for pid, eid in r["stored"]}
    with LabelStore(target) as store:
        ev = store.events()
        have = set(zip(ev["pair_id"], ev["annotator"], ev["id"].astype(int), strict=True))
        cur = store.current()
    lost = len(acked - have)
    per_pair = cur.groupby("pair_id")["label"].agg(["count", "nunique"])
    quota = OVERLAP + BOOST * (per_pair["nunique"] > 1)
    over = int((per_pair["count"] > quota).sum())
    return {
        "p50": statistics.median(lat) if lat else 0.0,
        "p95": _pct(lat, 95),
        "max": max(lat, default=0.0),
        "claims_s": sum(r["claims"] for r in results) / wall,
        "labels_s": len(lat) / wall,
        "labels": len(lat),
        "pairs": len(per_pair),
        "over": over,
        "lost": lost,
    }


def _table(title: str, rows: dict[str, dict[str, Any]]) -> None:
    print(title)
    print(
        f"  {'backend':<11} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'claims/s':>9} "
        f"{'labels/s':>9} {'labels':>7} {'pairs':>6} {'over':>5} {'lost':>5}"
    )
    for name, r in rows.items():
        print(
            f"  {name:<11} {r['p50']:7.2f} {r['p95']:7.2f} {r['max']:7.1f} {r['claims_s']:9.1f} "
            f"{r['labels_s']:9.1f} {r['labels']:7d} {r['pairs']:6d} {r['over']:5d} {r['lost']:5d}"
        )
    lite, pgr = rows["sqlite"], rows["postgresql"]
    print(
        f"  PostgreSQL / SQLite: p95 ×{pgr['p95'] / max(lite['p95'], 1e-9):.2f}, "
        f"labels/s ×{pgr['labels_s'] / max(lite['labels_s'], 1e-9):.2f}; "
        f"goal p95 ≤ {GOAL_P95_MS:g} ms on PostgreSQL: "
        f"{'met' if pgr['p95'] <= GOAL_P95_MS else 'NOT met'}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--annotators", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--pairs", type=int, default=50_000)
    ap.add_argument(
        "--think-ms",
        type=float,
        default=500.0,
        help="the paced phase's mean time per pair before the keypress (0: skip the phase)",
    )
    args = ap.parse_args()
    if find_pg_bin() is None:
        raise SystemExit(INSTALL_HINT)
    phases = [("saturated: no think time", 0.0)]
    if args.think_ms > 0:
        phases.append((f"paced: {args.think_ms:g} ms think time per pair", args.think_ms / 1000))
    results: list[tuple[str, dict[str, dict[str, Any]]]] = []
    with PgCluster() as pg:
        for k, (title, think) in enumerate(phases):
            with tempfile.TemporaryDirectory() as tmp:
                targets = {
                    "sqlite": str(Path(tmp) / "team.sqlite"),
                    "postgresql": pg.label_store_url(f"team{k}"),
                }
                rows = {}
                for name, target in targets.items():
                    LabelStore(target).close()
                    rows[name] = run(target, args.annotators, args.seconds, args.pairs, think)
            results.append((title, rows))
    load = os.getloadavg()
    print(
        f"{args.annotators} annotator processes × {args.seconds:g} s per backend and phase, "
        f"overlap {OVERLAP} (+{BOOST} on disagreement), claim batches of 10; "
        f"load average {load[0]:.1f} / {load[1]:.1f} (1 / 5 min) on {os.cpu_count()} cores"
    )
    for title, rows in results:
        _table(title, rows)


if __name__ == "__main__":
    main()
