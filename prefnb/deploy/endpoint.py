"""Deploy a fine-tuned model: a dedicated endpoint, or Together's serverless LoRA inference.

:func:`deploy` (also :meth:`prefnb.Job.deploy`) picks serverless LoRA when the job was a LoRA
fine-tune of a base model that offers it (no hourly bill: tokens are priced like the base);
otherwise it creates a dedicated endpoint (Together's ``POST /v1/endpoints``), shows the
hourly price before creating it, and waits for ``STARTED`` with a progress bar. The returned
:class:`Endpoint` says which in its repr, and has ``stop()``, ``start()``, ``delete()`` and
``with ... as ep:`` (stops on exit). Endpoints this kernel started and did not stop are
named in a warning at kernel exit (:mod:`prefnb.deploy.exit_warning`).

Together's 3.1.1 SDK exposes the newer project-scoped ``/v2`` endpoints API; prefnb calls
the documented v1 REST routes (``/v1/endpoints``, ``/v1/hardware``) through the SDK client's
generic ``get/post/patch/delete``, which is what Together's OpenAPI spec and docs describe.

Example:
    >>> ep = Endpoint({"id": "endpoint-1", "name": "me/m-1", "model": "me/m",
    ...                "hardware": "1x_nvidia_h100_80gb_sxm", "state": "STARTED"},
    ...               client=object(), usd_per_hour=3.36)
    >>> ep
    Endpoint('endpoint-1', dedicated, model='me/m', state='STARTED', $3.36/h)
"""

from __future__ import annotations

import html
import secrets
import time
from types import TracebackType
from typing import Any

from prefnb.deploy import exit_warning
from prefnb.generation.requests import model_name
from prefnb.launch.credentials import resolve_client
from prefnb.launch.errors import api_errors
from prefnb.launch.progress import ProgressLine
from prefnb.testing.hardware import LORA_SERVERLESS_BASES

__all__ = ["DeployError", "Endpoint", "create_endpoint", "deploy"]

_RUNNING_COLORS = {"STARTED": "#1a7f37", "STOPPED": "#6e7781", "ERROR": "#cf222e"}


class DeployError(RuntimeError):
    """The model cannot be deployed as asked (no hardware, an endpoint in ERROR...)."""


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    if hasattr(obj, "to_dict"):
        return dict(obj.to_dict())
    return dict(obj or {})


class Endpoint:
    """A deployed model: a dedicated endpoint (billed by the hour) or serverless LoRA."""

    def __init__(
        self,
        info: dict[str, Any],
        client: Any,
        *,
        kind: str = "dedicated",
        usd_per_hour: float | None = None,
    ) -> None:
        self.client = client
        self.kind = kind
        self.usd_per_hour = usd_per_hour
        self._info = dict(info)

    # -- identity ----------------------------------------------------------------------------
    @property
    def id(self) -> str | None:
        return self._info.get("id")

    @property
    def model(self) -> str:
        return str(self._info.get("model"))

    @property
    def name(self) -> str:
        """What to send as ``model`` in a chat request (the endpoint's name, or the model)."""
        return str(self._info.get("name") or self.model)

    @property
    def hardware(self) -> str | None:
        return self._info.get("hardware")

    @property
    def state(self) -> str | None:
        """The state seen at the last fetch (no request)."""
        return self._info.get("state")

    @property
    def serverless(self) -> bool:
        return self.kind == "serverless-lora"

    # -- API ---------------------------------------------------------------------------------
    def refresh(self, *, quick: bool = False) -> dict[str, Any]:
        """Fetch the endpoint (``GET /v1/endpoints/{id}``); ``quick``: one try, 5 s."""
        if self.serverless:
            return self._info
        client = self.client.with_options(max_retries=0, timeout=5.0) if quick else self.client
        with api_errors(what=f"reading endpoint {self.id}"):
            self._info = _as_dict(client.get(f"/v1/endpoints/{self.id}", cast_to=object))
        return self._info

    def wait(
        self, progress: bool = True, *, poll: float = 2.0, timeout: float | None = None
    ) -> Endpoint:
        """Block until the endpoint is ``STARTED`` (raises :class:`DeployError` on ``ERROR``)."""
        if self.serverless:
            return self
        bar = ProgressLine("Endpoint", 3, enabled=progress)
        steps = {"PENDING": 0, "STARTING": 1, "STARTED": 3}
        t0 = time.monotonic()
        while True:
            state = str(self.refresh().get("state"))
            bar.update(steps.get(state, 0), f"{self.name}: {state}")
            if state == "STARTED":
                bar.close(f"{self.name}: STARTED ({self._price_text()})")
                return self
            if state in ("ERROR", "STOPPED", "STOPPING"):
                bar.close(f"{self.name}: {state}", ok=False)
                raise DeployError(f"endpoint {self.id} is {state}, not starting")
            if timeout is not None and time.monotonic() - t0 > timeout:
                bar.close(f"{self.name}: still {state}", ok=False)
                raise TimeoutError(f"endpoint {self.id} still {state} after {timeout} s")
            time.sleep(poll)

    def _set_state(self, state: str) -> None:
        with api_errors(what=f"setting endpoint {self.id} to {state}"):
            self._info = _as_dict(
                self.client.patch(f"/v1/endpoints/{self.id}", body={"state": state}, cast_to=object)
            )

    def stop(
        self, wait: bool = False, *, poll: float = 2.0, timeout: float | None = 600
    ) -> Endpoint:
        """Stop the endpoint (billing stops once it is STOPPED); ``wait`` blocks until it is.
        No-op for serverless LoRA."""
        if self.serverless:
            return self
        self._set_state("STOPPED")
        exit_warning.unregister(str(self.id))
        t0 = time.monotonic()
        while wait and self.state != "STOPPED":
            if timeout is not None and time.monotonic() - t0 > timeout:
                raise TimeoutError(f"endpoint {self.id} still {self.state} after {timeout} s")
            time.sleep(poll)
            self.refresh()
        return self

    def start(self, wait: bool = True, progress: bool = True) -> Endpoint:
        """Start a stopped endpoint again (and by default wait until it is STARTED)."""
        if self.serverless:
            return self
        self._set_state("STARTED")
        exit_warning.register(self)
        return self.wait(progress) if wait else self

    def delete(self) -> None:
        """Delete the endpoint (it stops billing). No-op for serverless LoRA."""
        if self.serverless:
            return
        with api_errors(what=f"deleting endpoint {self.id}"):
            self.client.delete(f"/v1/endpoints/{self.id}", cast_to=object)
        self._info["state"] = "DELETED"
        exit_warning.unregister(str(self.id))

    def chat(self, message: Any, **kwargs: Any) -> str:
        """:func:`prefnb.chat` with this deployment."""
        from prefnb.deploy.chat import chat

        return chat(self, message, client=self.client, **kwargs)

    def __enter__(self) -> Endpoint:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        if not self.serverless and self.state not in ("STOPPED", "DELETED"):
            self.stop()

    # -- display -----------------------------------------------------------------------------
    def _price_text(self) -> str:
        if self.serverless:
            return "serverless LoRA: billed per token, no hourly cost"
        if self.usd_per_hour is None:
            return "hourly price unknown"
        return f"${self.usd_per_hour:,.2f}/h"

    def __repr__(self) -> str:
        if self.serverless:
            return f"Endpoint(serverless LoRA, model={self.model!r})"
        return (
            f"Endpoint({self.id!r}, dedicated, model={self.model!r}, state={self.state!r}, "
            f"{self._price_text()})"
        )

    def _repr_html_(self) -> str:
        e = html.escape
        if self.serverless:
            badge, state, color = "serverless LoRA", "ready", "#1a7f37"
            detail = "per-token price, nothing to stop"
        else:
            badge, state = "dedicated endpoint", str(self.state)
            color = _RUNNING_COLORS.get(state, "#9a6700")
            detail = f"{e(str(self.hardware))} · {e(self._price_text())} · {e(str(self.id))}"
        return (
            "<div class='prefnb-endpoint' style='font:13px system-ui,sans-serif;"
            "display:flex;gap:8px;align-items:center;flex-wrap:wrap'>"
            f"<span style='color:{color}'>●</span><b>{e(self.model)}</b>"
            f"<span style='border:1px solid #d0d7de;border-radius:10px;padding:0 6px'>{badge}"
            f"</span><span>{e(state)}</span><span style='color:#57606a'>{detail}</span></div>"
        )


def create_endpoint(client: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Create one dedicated endpoint, never twice, through
    :func:`prefnb.launch.billable.create_once` (intent in the job ledger, no SDK retries;
    after a timeout, a dropped connection or a 5xx the account's endpoints are listed and the
    one with this request's unique ``display_name`` adopted before anything is sent again)."""
    from prefnb.launch.billable import Intent, create_once
    from prefnb.launch.credentials import client_base_url, service_name
    from prefnb.launch.ledger import Ledger

    quiet = client.with_options(max_retries=0)

    def listing() -> list[dict[str, Any]]:
        found = _as_dict(quiet.get("/v1/endpoints", cast_to=object,
                                   options={"params": {"type": "dedicated"}}))  # fmt: skip
        out = []
        for item in found.get("data") or []:
            if item.get("model") != body["model"]:
                continue
            # the listing leaves display_name out: read each candidate whole
            out.append(_as_dict(quiet.get(f"/v1/endpoints/{item['id']}", cast_to=object)))
        return out

    return create_once(
        ledger=Ledger(),
        intent=Intent(
            kind="endpoint",
            key=str(body["display_name"]),
            base_url=client_base_url(client),
            match={"display_name": body["display_name"], "model": body["model"]},
        ),
        send=lambda: _as_dict(quiet.post("/v1/endpoints", body=body, cast_to=object)),
        listing=listing,
        adopt=dict,
        object_id=lambda d: str(d["id"]),
        service=service_name(client),
    )


def _hardware(client: Any, model: str) -> list[dict[str, Any]]:
    with api_errors(what=f"listing hardware for {model}"):
        data = _as_dict(client.get("/v1/hardware", cast_to=object,
                                   options={"params": {"model": model}}))  # fmt: skip
    return list(data.get("data") or [])


def _job_base(target: Any) -> tuple[str | None, bool]:
    info = getattr(target, "_info", None)
    if not isinstance(info, dict) or not info:
        refresh = getattr(target, "refresh", None)
        info = refresh() if callable(refresh) else {}
    ttype = (info or {}).get("training_type") or {}
    lora = str(ttype.get("type", "Lora")).lower() == "lora" if isinstance(ttype, dict) else True
    base = (info or {}).get("model")
    return (str(base) if base else None), lora


def deploy(
    target: Any,
    hardware: str | None = None,
    min_replicas: int = 1,
    max_replicas: int = 1,
    *,
    serverless: bool | None = None,
    display_name: str | None = None,
    client: Any = None,
    wait: bool = True,
    progress: bool = True,
) -> Endpoint:
    """Serve a fine-tuned model (a :class:`~prefnb.launch.job.Job` or a model name).

    ``serverless=None`` uses serverless LoRA when the job's base model offers it, else a
    dedicated endpoint on ``hardware`` (default: the cheapest available for the model) with
    ``min_replicas``..``max_replicas``; the hourly price is printed before the endpoint is
    created. ``wait`` blocks with a progress bar until it is STARTED.

    Example:
        >>> with job.deploy() as ep:          # doctest: +SKIP
        ...     prefnb.chat(ep, "Explain DPO in two sentences.")
    """
    client = resolve_client(client if client is not None else getattr(target, "client", None))
    model = model_name(target)
    base, lora = _job_base(target) if not isinstance(target, str) else (None, False)
    offered = base in LORA_SERVERLESS_BASES and lora
    if serverless is True and not offered:
        raise DeployError(
            f"{model}: serverless LoRA inference is not offered for "
            f"{base or 'this model'} (LoRA fine-tunes of {', '.join(LORA_SERVERLESS_BASES)}); "
            "deploy a dedicated endpoint (serverless=False)"
        )
    if offered and serverless is not False:
        ep = Endpoint({"model": model, "name": model, "state": "READY"}, client,
                      kind="serverless-lora")  # fmt: skip
        if progress:
            print(f"{model}: served by Together's serverless LoRA inference (per-token price, "
                  "no endpoint to start or stop).")  # fmt: skip
        return ep
    if not max_replicas >= 1 or min_replicas > max_replicas or min_replicas < 0:
        raise ValueError(f"deploy: need 0 ≤ min_replicas ≤ max_replicas, max ≥ 1; got "
                         f"{min_replicas}..{max_replicas}")  # fmt: skip
    options = _hardware(client, model)
    available = [
        h
        for h in options
        if (h.get("availability") or {}).get("status", "available") == "available"
    ]
    if hardware is None:
        if not available:
            raise DeployError(f"{model}: no hardware is available for a dedicated endpoint now")
        chosen = min(available, key=lambda h: float(h["pricing"]["cents_per_minute"]))
    else:
        found = [h for h in options if h.get("id") == hardware]
        if not found:
            names = ", ".join(str(h.get("id")) for h in options)
            raise DeployError(f"hardware {hardware!r} is not offered for {model}; one of {names}")
        chosen = found[0]
    per_hour = float(chosen["pricing"]["cents_per_minute"]) * 60 / 100
    replicas = (
        f"{min_replicas}" if min_replicas == max_replicas else f"{min_replicas}-{max_replicas}"
    )
    print(f"Deploying {model} on {chosen['id']}: ${per_hour:,.2f}/hour per replica × {replicas} "
          f"replica(s), billed until you stop it (ep.stop()).")  # fmt: skip
    body = {
        "model": model,
        "hardware": chosen["id"],
        "autoscaling": {"min_replicas": min_replicas, "max_replicas": max_replicas},
        "display_name": display_name
        or f"{model.rsplit('/', 1)[-1]} (prefnb {secrets.token_hex(3)})",
    }
    info = create_endpoint(client, body)
    ep = Endpoint(info, client, usd_per_hour=per_hour * max(min_replicas, 1))
    exit_warning.register(ep)
    return ep.wait(progress) if wait else ep
