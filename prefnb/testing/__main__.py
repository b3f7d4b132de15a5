"""Run LocalTogether as a process: ``python -m prefnb.testing --port 8765 [--speed 1]``."""

from __future__ import annotations

import argparse
import json
import threading

from prefnb.testing.server import LocalTogether


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m prefnb.testing", description="A local simulated Together API."
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated clock speed-up")
    parser.add_argument("--strict-spec", action="store_true", help="500 on spec violations")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds each chat completion takes"
    )
    parser.add_argument(
        "--judge", default="{}", help='simulated judge options as JSON, e.g. {"noise": 0.1}'
    )
    args = parser.parse_args(argv)
    api = LocalTogether(
        port=args.port, speed=args.speed, strict_spec=args.strict_spec,
        latency=args.latency, judge=json.loads(args.judge),
    ).start()  # fmt: skip
    print(api.base_url, flush=True)
    print(
        f"LocalTogether (simulated Together API) at {api.base_url} — "
        f"use together.Together(base_url={api.base_url!r}, api_key='sim-local-key'). Ctrl-C stops.",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
