"""Judging 10,000 pairs with the chat backend against LocalTogether at 100 ms per request.

LocalTogether runs in its own process (so its HTTP handling does not share the kernel's
GIL or CPU clock), answering every chat completion after ``--latency`` seconds. In one run:

- prefnb.judge, chat backend, ``--concurrency`` requests in flight, both orders: wall time
  against the ideal (requests × latency ÷ concurrency; target ≤ 1.25×) and kernel CPU per
  pair (this process's CPU time, which includes the SDK's HTTP client and the label store);
- the same call again, every verdict now in the store: wall time, requests sent (0);
- the sequential baseline: the same judge, one request at a time, on ``--baseline-pairs``
  pairs, extrapolated to the full set;
- the floor: the same requests from a plain thread pool calling the SDK, with nothing stored
  or parsed (what any client pays on this machine; prefnb's own overhead is the difference).

Run:
    .venv/bin/python bench/judge.py [--pairs 10000] [--latency 0.1] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import together
from _synth import text as _text

import prefnb
from prefnb.judge import judge
from prefnb.judge.prompt import DEFAULT_RUBRIC, judge_messages, prompt_text

MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"


def make_pairs(n: int, seed: int = 0) -> pd.DataFrame:
    rng = random.Random(seed)
    return prefnb.pairs_frame(
        {
            "prompt": f"question {i}: {_text(rng, 12)}",
            "response_a": _text(rng, rng.randint(20, 120)),
            "response_b": _text(rng, rng.randint(20, 120)),
        }
        for i in range(n)
    )


def start_server(latency: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefnb.testing",
            "--latency",
            str(latency),
            "--speed",
            "100",
            "--judge",
            '{"position_bias": 0.2, "noise": 0.05}',
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    base_url = proc.stdout.readline().strip()
    return proc, base_url


def timed(fn: object) -> tuple[float, float, object]:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    out = fn()  # type: ignore[operator]
    return time.perf_counter() - wall0, time.process_time() - cpu0, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=10_000)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--baseline-pairs", type=int, default=100)
    args = ap.parse_args()

    df = make_pairs(args.pairs)
    proc, base_url = start_server(args.latency)
    try:
        client = together.Together(api_key="sim-local-key", base_url=base_url)
        with tempfile.TemporaryDirectory() as tmp:
            store = Path(tmp) / "labels.sqlite"
            load0 = os.getloadavg()[0]
            wall, cpu, run = timed(
                lambda: judge(
                    df,
                    MODEL,
                    store=store,
                    backend="chat",
                    client=client,
                    concurrency=args.concurrency,
                    progress=False,
                )
            )
            requests = 2 * args.pairs
            ideal = requests * args.latency / args.concurrency
            re_wall, re_cpu, rerun = timed(
                lambda: judge(
                    df,
                    MODEL,
                    store=store,
                    backend="chat",
                    client=client,
                    concurrency=args.concurrency,
                    progress=False,
                )
            )
            base = df.head(args.baseline_pairs)
            b_wall, b_cpu, _ = timed(
                lambda: judge(
                    base,
                    MODEL,
                    store=Path(tmp) / "seq.sqlite",
                    backend="chat",
                    client=client,
                    concurrency=1,
                    progress=False,
                )
            )
            msgs = [
                judge_messages(DEFAULT_RUBRIC, prompt_text(p), a, b)
                for p, a, b in zip(df["prompt"], df["response_a"], df["response_b"], strict=True)
            ]
            quiet = client.with_options(max_retries=0)

            def ask(m: list[dict[str, str]]) -> object:
                return quiet.chat.completions.with_raw_response.create(
                    model=MODEL, messages=m, temperature=0.0, max_tokens=512
                ).http_response.json()

            def floor() -> None:
                with cf.ThreadPoolExecutor(args.concurrency) as pool:
                    list(pool.map(ask, msgs + msgs))

            f_wall, f_cpu, _ = timed(floor)
            load1 = os.getloadavg()[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    scale = args.pairs / args.baseline_pairs
    ratio = wall / ideal
    print(
        f"prefnb.judge, chat backend: {args.pairs:,} pairs × 2 orders = {requests:,} requests, "
        f"{args.latency * 1000:.0f} ms each, concurrency {args.concurrency}"
    )
    print(f"{'':34} {'wall s':>9} {'vs ideal':>9} {'CPU µs/pair':>12} {'requests':>9}")
    print(f"{'ideal (requests×latency÷conc.)':34} {ideal:9.1f} {1.0:9.2f} {'':>12} {requests:9,}")
    print(
        f"{'prefnb.judge (chat)':34} {wall:9.1f} {ratio:9.2f} "
        f"{1e6 * cpu / args.pairs:12.0f} {run.requests:9,}"
    )  # type: ignore[attr-defined]
    print(
        f"{'re-run, all cached':34} {re_wall:9.2f} {re_wall / ideal:9.3f} "
        f"{1e6 * re_cpu / args.pairs:12.0f} {rerun.requests:9,}"
    )  # type: ignore[attr-defined]
    print(
        f"{'floor: the SDK in a thread pool':34} {f_wall:9.1f} {f_wall / ideal:9.2f} "
        f"{1e6 * f_cpu / args.pairs:12.0f} {requests:9,}"
    )
    print(
        f"{'sequential baseline (extrapolated)':34} {b_wall * scale:9.1f} "
        f"{b_wall * scale / ideal:9.2f} {1e6 * b_cpu / args.baseline_pairs:12.0f} "
        f"{2 * args.pairs:9,}   (measured {b_wall:.1f} s on {args.baseline_pairs} pairs)"
    )
    print(
        f"speed-up over sequential: {b_wall * scale / wall:.1f}×; target wall ≤ 1.25× ideal: "
        f"{'met' if ratio <= 1.25 else 'NOT met'}"
    )
    print(f"prefnb over the SDK floor: {wall / f_wall:.2f}× wall, {cpu / f_cpu:.2f}× CPU")
    print(f"machine: {os.cpu_count()} CPUs, load average {load0:.1f} → {load1:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
