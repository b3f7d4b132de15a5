"""A warning at kernel exit naming the dedicated endpoints this kernel started that still run.

A dedicated endpoint bills by the hour until it is stopped, and a notebook closed for the night
is the classic way to pay for one. Every endpoint :func:`prefnb.deploy.endpoint.deploy` starts
is registered here; at interpreter exit (a kernel shutdown or restart runs ``atexit``) each one
not known to be stopped is asked for its state once (no retries, short timeout) and the ones
still running are named on stderr with their price and how to stop them.

Example:
    >>> running_message([("endpoint-1", "me/m", "STARTED", 3.36)])[:36]
    'prefnb: 1 dedicated endpoint started'
"""

from __future__ import annotations

import atexit
import sys
import threading
from typing import Any

__all__ = ["register", "running_message", "unregister", "warn_running"]

_LOCK = threading.Lock()
_STARTED: dict[str, Any] = {}  # endpoint id -> Endpoint
_HOOKED = False


def register(endpoint: Any) -> None:
    """Remember ``endpoint`` (started by this kernel) until it is stopped or deleted."""
    global _HOOKED
    with _LOCK:
        _STARTED[str(endpoint.id)] = endpoint
        if not _HOOKED:
            atexit.register(warn_running)
            _HOOKED = True


def unregister(endpoint_id: str) -> None:
    with _LOCK:
        _STARTED.pop(endpoint_id, None)


def running_message(rows: list[tuple[str, str, str, float | None]]) -> str:
    """The warning text for (id, model, state, USD/hour) rows."""
    n = len(rows)
    lines = [
        f"prefnb: {n} dedicated endpoint{'s' if n != 1 else ''} started in this kernel "
        f"{'are' if n != 1 else 'is'} still running and billing:"
    ]
    for ep_id, model, state, usd in rows:
        price = f", ~${usd:,.2f}/hour" if usd is not None else ""
        lines.append(f"  {ep_id} ({model}) is {state}{price}")
    lines.append(
        "Stop them with Endpoint.stop() / prefnb.endpoints(), or "
        "`together endpoints stop <id>` from a shell."
    )
    return "\n".join(lines)


def warn_running() -> None:
    """Print :func:`running_message` for registered endpoints that still run."""
    with _LOCK:
        started = list(_STARTED.values())
    rows = []
    for ep in started:
        try:
            state = ep.refresh(quick=True).get("state", "UNKNOWN")
        except Exception:  # the server may be gone at exit: assume it still runs
            state = f"{ep.state or 'UNKNOWN'} (could not check)"
        if state != "STOPPED":
            rows.append((str(ep.id), str(ep.model), str(state), ep.usd_per_hour))
    if rows:
        sys.stderr.write(running_message(rows) + "\n")
        sys.stderr.flush()
