"""LocalTogether's dedicated endpoints (``/v1/endpoints``) and hardware (``/v1/hardware``).

The shapes are Together's v1 REST API (``CreateEndpointRequest``, ``DedicatedEndpoint``,
``ListEndpoint``, ``HardwareWithStatus`` in its OpenAPI spec). An endpoint's life runs on the
server's simulated clock:

==================  ===============================================================
simulated seconds   state
==================  ===============================================================
0                   ``PENDING``
2                   ``STARTING``
60                  ``STARTED`` (answers chat completions by its name or its model)
stop                ``STOPPING``, then ``STOPPED`` 10 s later
start               ``PENDING`` → ``STARTING`` → ``STARTED`` as on creation
==================  ===============================================================

Billing is hardware price × replicas for every simulated second not ``STOPPED``
(:meth:`EndpointRecord.cost_usd`).

Example:
    >>> ep = EndpointRecord("endpoint-sim-1", "me/m-1", "m", "m", "1x_nvidia_h100_80gb_sxm",
    ...                     1, 1, 0.0, [(0.0, "PENDING"), (2.0, "STARTING"), (60.0, "STARTED")])
    >>> ep.state_at(1.0), ep.state_at(61.0)
    ('PENDING', 'STARTED')
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prefnb.testing.hardware import HARDWARE
from prefnb.testing.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from prefnb.testing.state import State

STARTING_S, READY_S, STOPPING_S = 2.0, 60.0, 10.0
OWNER = "simulated-user"


@dataclass
class EndpointRecord:
    id: str
    name: str
    model: str
    display_name: str
    hardware: str
    min_replicas: int
    max_replicas: int
    created: float
    phases: list[tuple[float, str]] = field(default_factory=list)

    def state_at(self, now: float) -> str:
        state = "PENDING"
        for at, name in self.phases:
            if now >= at:
                state = name
        return state

    def cost_usd(self, now: float) -> float:
        """Simulated bill so far: every second not STOPPED, at the hardware's price."""
        price = HARDWARE[self.hardware].cents_per_minute / 100 / 60 * self.min_replicas
        total, running_since = 0.0, None
        for at, name in [*self.phases, (now, "NOW")]:
            if at > now:
                break
            if running_since is not None:
                total += (at - running_since) * price
                running_since = None
            if name not in ("STOPPED", "NOW"):
                running_since = at
        return total


def _iso(state: State, sim: float) -> str:
    return datetime.fromtimestamp(state.clock.wall(sim), UTC).isoformat().replace("+00:00", "Z")


def endpoint_json(state: State, ep: EndpointRecord) -> dict[str, Any]:
    return {
        "object": "endpoint",
        "id": ep.id,
        "name": ep.name,
        "display_name": ep.display_name,
        "model": ep.model,
        "hardware": ep.hardware,
        "type": "dedicated",
        "owner": OWNER,
        "state": ep.state_at(state.clock.now()),
        "autoscaling": {"min_replicas": ep.min_replicas, "max_replicas": ep.max_replicas},
        "created_at": _iso(state, ep.created),
    }


def _endpoint(state: State, endpoint_id: str) -> EndpointRecord:
    found = state.endpoints.get(endpoint_id)
    if found is None:
        raise ApiError(404, f"Endpoint {endpoint_id} not found", param="endpointId")
    return found


def _known_model(state: State, model: str) -> bool:
    from prefnb.testing.limits import MODELS
    from prefnb.testing.serverless_models import SERVERLESS_MODELS

    if model in MODELS or model in SERVERLESS_MODELS:
        return True
    return any(
        model == r.model_output_name and r.job.status_at(state.clock.now()) == "completed"
        for r in state.jobs.values()
    )


def _autoscaling(body: dict[str, Any]) -> tuple[int, int]:
    scaling = body.get("autoscaling")
    if not isinstance(scaling, dict):
        raise ApiError(400, "autoscaling is required: {min_replicas, max_replicas}",
                       param="autoscaling")  # fmt: skip
    lo, hi = scaling.get("min_replicas"), scaling.get("max_replicas")
    for name, v in (("min_replicas", lo), ("max_replicas", hi)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ApiError(400, f"autoscaling.{name} must be a non-negative integer",
                           param=f"autoscaling.{name}")  # fmt: skip
    assert isinstance(lo, int)
    assert isinstance(hi, int)
    if hi < max(lo, 1):
        raise ApiError(400, "autoscaling.max_replicas must be ≥ min_replicas and ≥ 1",
                       param="autoscaling.max_replicas")  # fmt: skip
    return lo, hi


def _start_phases(now: float) -> list[tuple[float, str]]:
    return [(now, "PENDING"), (now + STARTING_S, "STARTING"), (now + READY_S, "STARTED")]


def post_endpoints(state: State, req: Request) -> Response:
    body = req.json()
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    model, hardware = body.get("model"), body.get("hardware")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "model is required", param="model")
    if not isinstance(hardware, str) or hardware not in HARDWARE:
        raise ApiError(400, f"hardware must be one of {', '.join(HARDWARE)} (GET /v1/hardware)",
                       param="hardware")  # fmt: skip
    if not _known_model(state, model):
        raise ApiError(404, f"Model {model} not found or not ready for deployment", param="model")
    lo, hi = _autoscaling(body)
    wanted = body.get("state", "STARTED")
    if wanted not in ("STARTED", "STOPPED"):
        raise ApiError(400, "state must be STARTED or STOPPED", param="state")
    now = state.clock.now()
    ep_id = f"endpoint-sim-{secrets.token_hex(6)}"
    ep = EndpointRecord(
        id=ep_id,
        name=f"{OWNER}/{model.rsplit('/', 1)[-1]}-{ep_id[-6:]}",
        model=model,
        display_name=str(body.get("display_name") or model),
        hardware=hardware,
        min_replicas=lo,
        max_replicas=hi,
        created=now,
        phases=_start_phases(now) if wanted == "STARTED" else [(now, "STOPPED")],
    )
    state.endpoints[ep_id] = ep
    return Response(200, endpoint_json(state, ep))


def get_endpoints(state: State, req: Request) -> Response:
    kind = req.query.get("type")
    if kind not in (None, "dedicated", "serverless"):
        raise ApiError(400, "type must be dedicated or serverless", param="type")
    data = []
    if kind != "serverless":
        for ep in state.endpoints.values():
            full = endpoint_json(state, ep)
            keys = ("object", "id", "name", "model", "type", "owner", "state", "created_at")
            data.append({k: full[k] for k in keys})
    return Response(200, {"object": "list", "data": data})


def get_endpoint(state: State, req: Request, endpoint_id: str) -> Response:
    return Response(200, endpoint_json(state, _endpoint(state, endpoint_id)))


def patch_endpoint(state: State, req: Request, endpoint_id: str) -> Response:
    ep = _endpoint(state, endpoint_id)
    body = req.json()
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    now = state.clock.now()
    if "display_name" in body:
        ep.display_name = str(body["display_name"])
    if "autoscaling" in body:
        ep.min_replicas, ep.max_replicas = _autoscaling(body)
    wanted = body.get("state")
    if wanted is not None:
        current = ep.state_at(now)
        if wanted == "STOPPED" and current not in ("STOPPING", "STOPPED"):
            ep.phases = [p for p in ep.phases if p[0] <= now]
            ep.phases += [(now, "STOPPING"), (now + STOPPING_S, "STOPPED")]
        elif wanted == "STARTED" and current in ("STOPPED", "ERROR"):
            ep.phases = [p for p in ep.phases if p[0] <= now] + _start_phases(now)
        elif wanted == "STARTED" and current == "STOPPING":
            raise ApiError(409, f"Endpoint {endpoint_id} is stopping; start it once STOPPED")
        elif wanted not in ("STARTED", "STOPPED"):
            raise ApiError(400, "state must be STARTED or STOPPED", param="state")
    return Response(200, endpoint_json(state, ep))


def delete_endpoint(state: State, req: Request, endpoint_id: str) -> Response:
    ep = _endpoint(state, endpoint_id)
    now = state.clock.now()
    if ep.state_at(now) not in ("STOPPED",):
        ep.phases = [p for p in ep.phases if p[0] <= now] + [(now, "STOPPED")]
    state.deleted_endpoints[endpoint_id] = state.endpoints.pop(endpoint_id)
    return Response(204, None)


def get_hardware(state: State, req: Request) -> Response:
    model = req.query.get("model")
    if model is not None and not _known_model(state, model):
        raise ApiError(404, f"Model {model} not found", param="model")
    data = [
        {
            "object": "hardware",
            "id": h.id,
            "pricing": {"cents_per_minute": h.cents_per_minute},
            "specs": {
                "gpu_type": h.gpu_type,
                "gpu_link": h.gpu_link,
                "gpu_memory": h.gpu_memory,
                "gpu_count": h.gpu_count,
            },
            **({"availability": {"status": "available"}} if model else {}),
            "updated_at": _iso(state, 0.0),
        }
        for h in HARDWARE.values()
    ]
    return Response(200, {"object": "list", "data": data})
