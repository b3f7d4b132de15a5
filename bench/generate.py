"""prefnb.generate throughput against LocalTogether with 200 ms simulated model latency.

Figures, measured in one run beside their baselines:

- online wall time for ``--prompts`` × n=2 completions at ``--concurrency`` requests in
  flight, against the concurrency ideal (requests × latency ÷ concurrency; target ≤ 1.25×);
- a sequential baseline (concurrency 1) on ``--sequential`` requests, per request and
  extrapolated to the whole run;
- a cached re-run's wall time (everything from the SQLite cache, no request);
- kernel memory per 1,000 completions: the RSS the run added and the returned frame's size.

LocalTogether runs in its own process (as Together is remote), so the kernel's figures are
the kernel's. The machine load is printed with the figures.

Run:
    .venv/bin/python bench/generate.py                   # 5,000 prompts × n=2, concurrency 32
    .venv/bin/python bench/generate.py --prompts 500     # a quick look
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import together

from prefnb.generation import generate

MODEL = "openai/gpt-oss-20b"


def _server(latency: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefnb.testing", "--latency", str(latency)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--prompts", type=int, default=5000)
    ap.add_argument("--n", type=int, default=2)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--sequential", type=int, default=40, help="requests in the baseline")
    args = ap.parse_args()
    prompts = [
        f"Bench prompt {i}: explain concept {i % 97} with an example." for i in range(args.prompts)
    ]
    requests = args.prompts * args.n
    proc, base_url = _server(args.latency)
    try:
        client = together.Together(api_key="sim-local-key", base_url=base_url)
        with tempfile.TemporaryDirectory(prefix="prefnb-bench-gen-") as tmp:
            cache = Path(tmp) / "generations.sqlite"
            # sequential baseline: same code path, one request in flight
            t0 = time.perf_counter()
            generate(prompts[: args.sequential // args.n], model=MODEL, n=args.n, seed=99,
                     cache=Path(tmp) / "seq.sqlite", client=client, concurrency=1,
                     progress=False)  # fmt: skip
            seq = (time.perf_counter() - t0) / (args.sequential // args.n * args.n)
            rss0 = _rss_mb()
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            frame = generate(prompts, model=MODEL, n=args.n, cache=cache, client=client,
                             concurrency=args.concurrency, progress=False)  # fmt: skip
            online = time.perf_counter() - t0
            cpu = time.process_time() - cpu0
            rss = _rss_mb() - rss0
            assert frame.attrs["failures"].empty, frame.attrs["failures"].head()
            assert len(frame) == args.prompts * args.n * (args.n - 1) // 2
            frame_mb = frame.memory_usage(deep=True).sum() / 1e6
            del frame
            t0 = time.perf_counter()
            again = generate(prompts, model=MODEL, n=args.n, cache=cache, client=client,
                             progress=False)  # fmt: skip
            cached = time.perf_counter() - t0
            # what a kernel keeps: the returned pair table, measured object by object
            gc.collect()
            tracemalloc.start()
            kept = generate(prompts, model=MODEL, n=args.n, cache=cache, client=client,
                            progress=False)  # fmt: skip
            gc.collect()
            retained_mb = tracemalloc.get_traced_memory()[0] / 1e6
            tracemalloc.stop()
            del kept
            assert again.attrs["generation"]["cached"] == requests
    finally:
        proc.terminate()
        proc.wait(10)
    ideal = requests * args.latency / args.concurrency
    load = os.getloadavg()
    print(f"prefnb.generate: {args.prompts:,} prompts × n={args.n} = {requests:,} completions, "
          f"{args.latency * 1000:.0f} ms latency, concurrency {args.concurrency}")  # fmt: skip
    print(f"  online wall time        {online:8.1f} s   ideal {ideal:.1f} s   "
          f"ratio {online / ideal:.2f}× (target ≤ 1.25×)")  # fmt: skip
    print(f"  sequential baseline     {seq * 1000:8.1f} ms/request → {seq * requests:,.0f} s for "
          f"the run ({seq * requests / online:.0f}× the online wall time)")  # fmt: skip
    print(f"  kernel CPU              {cpu / requests * 1e6:8.0f} µs per completion")
    print(f"  cached re-run           {cached:8.2f} s   ({online / cached:.0f}× faster than "
          "the first run; 0 requests)")  # fmt: skip
    per_k = 1000 / requests
    print(f"  kernel memory           {rss * per_k:8.2f} MB RSS per 1,000 completions "
          f"(high-water); the returned table keeps {retained_mb * per_k:.2f} MB per 1,000 "
          f"(tracemalloc; pandas' deep size says {frame_mb * per_k:.2f})")  # fmt: skip
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    print(f"  machine load (1/5/15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on "
          f"{os.cpu_count()} cores; max RSS {max_rss:.0f} MB")  # fmt: skip
    return 0 if online / ideal <= 1.25 else 1


if __name__ == "__main__":
    raise SystemExit(main())
