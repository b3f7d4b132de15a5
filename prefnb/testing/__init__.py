"""``prefnb.testing``: LocalTogether, a local simulated Together API for offline runs and tests.

The real ``together`` client talks to it over HTTP, unmodified::

    from prefnb.testing import LocalTogether

    with LocalTogether(speed=60) as api:     # a small job completes in ~0.5 s
        client = api.client()                # together.Together(base_url=api.base_url, ...)
        ...
        api.requests                         # every request body that reached the server
        api.inject("POST /v1/fine-tunes", status=429, times=2)   # faults per route

``api.base_url`` has no ``/v1``: the SDK puts ``/v1/...`` in every request path. Run it as a
process for the demo with ``python -m prefnb.testing --port 8765``. Where the SDK and Together's
OpenAPI spec disagree, LocalTogether follows the SDK; ``SPEC_DIFFERENCES.md`` lists each case.

Example:
    >>> api = LocalTogether(speed=60).start()
    >>> api.base_url.startswith("http://127.0.0.1:")
    True
    >>> api.stop()
"""

from __future__ import annotations

from prefnb.testing.faults import Fault
from prefnb.testing.models import FINE_TUNING_MODELS, FineTuneModel
from prefnb.testing.server import REJECTED_KEY, SIMULATED_KEY, LocalTogether, RecordedRequest

__all__ = [
    "FINE_TUNING_MODELS",
    "REJECTED_KEY",
    "SIMULATED_KEY",
    "Fault",
    "FineTuneModel",
    "LocalTogether",
    "RecordedRequest",
]
