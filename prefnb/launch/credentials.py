"""Where the API key comes from, and how it is kept out of everything prefnb shows or writes.

The key comes from an explicit ``together.Together`` client or from ``TOGETHER_API_KEY``
(which the SDK also reads). prefnb never stores it: not in the job ledger, widget state,
reprs, logs or exception text. :func:`redact` removes it from any text that might echo it.

Example:
    >>> import os
    >>> os.environ["TOGETHER_API_KEY"] = "tgp_v1_example-secret"
    >>> redact("header was Bearer tgp_v1_example-secret")
    'header was Bearer ***'
    >>> del os.environ["TOGETHER_API_KEY"]
"""

from __future__ import annotations

import os
import threading
from typing import Any

import together

__all__ = [
    "SIMULATED",
    "client_base_url",
    "redact",
    "register_simulator",
    "remember_secret",
    "resolve_client",
    "service_name",
]

#: What prefnb calls the service when it is talking to LocalTogether.
SIMULATED = "LocalTogether (simulated)"
#: Base URLs of LocalTogether servers started in this process.
_SIMULATORS: set[str] = set()

#: Keys seen in this process (from clients and the environment): redacted wherever text leaves.
_KNOWN: set[str] = set()
_LOCK = threading.Lock()


def remember_secret(key: str | None) -> None:
    """Add a secret (e.g. a W&B key) to those :func:`redact` removes."""
    _remember(key)


def _remember(key: str | None) -> None:
    # Short strings are not secrets worth redacting and would mangle ordinary text.
    if key and len(key) >= 8:
        with _LOCK:
            _KNOWN.add(key)


def redact(text: str) -> str:
    """``text`` with every known API key replaced by ``***``."""
    _remember(os.environ.get("TOGETHER_API_KEY"))
    with _LOCK:
        keys = sorted(_KNOWN, key=len, reverse=True)
    for key in keys:
        text = text.replace(key, "***")
    return text


def resolve_client(client: Any = None) -> Any:
    """``client`` if given, else a ``together.Together`` built from ``TOGETHER_API_KEY``.

    ``TOGETHER_BASE_URL`` (read by the SDK) points it elsewhere, e.g. at LocalTogether.
    """
    from prefnb.launch.errors import AuthenticationFailed

    if client is not None:
        _remember(getattr(client, "api_key", None))
        return client
    key = os.environ.get("TOGETHER_API_KEY", "").strip()
    if not key:
        raise AuthenticationFailed(
            "No Together API key: set the TOGETHER_API_KEY environment variable, or pass "
            "client=together.Together(api_key=...)."
        )
    _remember(key)
    return together.Together(api_key=key)


def client_base_url(client: Any) -> str:
    """The client's base URL without a trailing slash (jobs are recorded per server)."""
    return str(getattr(client, "base_url", "")).rstrip("/")


def register_simulator(base_url: str, *, running: bool = True) -> None:
    """Record (or forget) a LocalTogether base URL, so messages say it is simulated."""
    with _LOCK:
        (_SIMULATORS.add if running else _SIMULATORS.discard)(base_url.rstrip("/") + "/")


def service_name(client: Any = None, *ids: object) -> str:
    """``"LocalTogether (simulated)"`` when ``client`` talks to LocalTogether (a server of
    this process, or ids it minted: ``file-sim-…``, ``ft-sim-…``), else ``"Together"``.

    >>> service_name(None, "ft-sim-1a2b"), service_name(None, "ft-123")
    ('LocalTogether (simulated)', 'Together')
    """
    base = client_base_url(client).rstrip("/") + "/" if client is not None else ""
    with _LOCK:
        local = any(base.startswith(url) for url in _SIMULATORS) if base else False
    if local or any(str(i).startswith(("file-sim-", "ft-sim-")) for i in ids):
        return SIMULATED
    return "Together"
