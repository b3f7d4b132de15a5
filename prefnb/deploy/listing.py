"""``prefnb.endpoints()``: the account's dedicated endpoints with price and cost so far.

Example:
    >>> from prefnb.testing import LocalTogether
    >>> with LocalTogether() as api:
    ...     endpoints(client=api.client()).columns[:3].tolist()
    ['id', 'name', 'model']
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from prefnb.deploy.endpoint import _as_dict
from prefnb.launch.credentials import resolve_client
from prefnb.launch.errors import api_errors

__all__ = ["endpoints"]

COLUMNS = ["id", "name", "model", "state", "hardware", "replicas", "usd_per_hour",
           "created_at", "hours_since_created", "cost_so_far_usd"]  # fmt: skip


def endpoints(client: Any = None) -> pd.DataFrame:
    """One row per dedicated endpoint of the account: state, hardware, USD/hour and the cost
    so far. Together's API does not report an endpoint's bill, so ``cost_so_far_usd`` is an
    estimate: the hourly price × hours since creation for an endpoint not STOPPED now, and
    missing (unknown) for a stopped one."""
    client = resolve_client(client)
    with api_errors(what="listing endpoints"):
        listing = _as_dict(client.get("/v1/endpoints", cast_to=object,
                                      options={"params": {"type": "dedicated"}}))  # fmt: skip
        prices = {
            h["id"]: float(h["pricing"]["cents_per_minute"]) * 60 / 100
            for h in _as_dict(client.get("/v1/hardware", cast_to=object)).get("data") or []
        }
        rows = []
        now = datetime.now(UTC)
        for item in listing.get("data") or []:
            full = _as_dict(client.get(f"/v1/endpoints/{item['id']}", cast_to=object))
            scaling = full.get("autoscaling") or {}
            replicas = max(int(scaling.get("min_replicas") or 0), 1)
            per_hour = prices.get(str(full.get("hardware")))
            created = pd.Timestamp(str(full.get("created_at")))
            hours = (now - created.to_pydatetime()).total_seconds() / 3600
            usd = per_hour * replicas if per_hour is not None else None
            rows.append({
                "id": full.get("id"), "name": full.get("name"), "model": full.get("model"),
                "state": full.get("state"), "hardware": full.get("hardware"),
                "replicas": f"{scaling.get('min_replicas')}-{scaling.get('max_replicas')}",
                "usd_per_hour": usd, "created_at": created, "hours_since_created": hours,
                "cost_so_far_usd": (usd * hours if usd is not None and full.get("state")
                                    != "STOPPED" else None),
            })  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)
