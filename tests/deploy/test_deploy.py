"""Deploy, chat, stop, start and delete with the real together client against LocalTogether."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import together

import prefnb
from prefnb.deploy import DeployError, Endpoint, exit_warning
from prefnb.deploy.exit_warning import running_message
from prefnb.launch.launcher import launch_sft
from prefnb.testing import LocalTogether

DEDICATED_BASE = "meta-llama/Llama-3.2-1B-Instruct"  # no serverless LoRA: needs an endpoint
LORA_BASE = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"  # offers serverless LoRA
CHAT = "POST /v1/chat/completions"

# Every test: its own ledger and export cache, no real key (see the root conftest).
pytestmark = pytest.mark.usefixtures("prefnb_home")


@pytest.fixture
def api() -> Iterator[LocalTogether]:
    with LocalTogether(speed=500) as server:
        yield server
    # endpoints a test left running die with its server: no exit warning for them
    for ep_id in list(exit_warning._STARTED):
        exit_warning.unregister(ep_id)


def sft(api: LocalTogether, base: str) -> Any:
    return launch_sft(prefnb.load_sample(), model=base, client=api.client(), wait=True,
                      progress=False)  # fmt: skip


def test_deploy_chat_stop_start_delete_a_dedicated_endpoint(
    api: LocalTogether, capsys: pytest.CaptureFixture[str]
) -> None:
    job = sft(api, DEDICATED_BASE)
    # not served before it is deployed: Together asks for a dedicated endpoint
    with pytest.raises(together.BadRequestError, match="dedicated endpoint"):
        prefnb.chat(job, "hi", client=api.client(), display=False)
    ep = job.deploy(progress=False)
    out = capsys.readouterr().out
    assert "$2.58/hour" in out  # the cheapest hardware's price, shown before creating
    assert ep.state == "STARTED"
    assert ep.hardware == "1x_nvidia_a100_80gb_sxm"
    assert "dedicated" in repr(ep)
    assert "$2.58/h" in repr(ep)
    html = ep._repr_html_()
    assert "dedicated endpoint" in html
    assert "STARTED" in html
    (create,) = api.requests_to("POST /v1/endpoints")
    assert create.body["model"] == job.model_output_name
    assert create.body["autoscaling"] == {"min_replicas": 1, "max_replicas": 1}
    # chat streams (the endpoint's name is the model to call)
    text = prefnb.chat(ep, "Explain DPO in two sentences.", display=True)
    streamed = capsys.readouterr().out
    assert text
    assert text in streamed
    assert api.requests_to(CHAT)[-1].body["stream"] is True
    assert prefnb.chat(job, "again", client=api.client(), display=False, stream=False)
    ep.stop()
    assert ep.state == "STOPPING"
    api.advance(30)
    assert ep.refresh()["state"] == "STOPPED"
    with pytest.raises(together.BadRequestError):
        prefnb.chat(ep, "hi", display=False)
    ep.start(progress=False)
    assert ep.state == "STARTED"
    listed = prefnb.endpoints(client=api.client())
    assert listed["id"].tolist() == [ep.id]
    assert listed.loc[0, "usd_per_hour"] == pytest.approx(2.58)
    assert listed.loc[0, "cost_so_far_usd"] > 0
    ep.delete()
    assert prefnb.endpoints(client=api.client()).empty
    assert api.state.deleted_endpoints[str(ep.id)].state_at(api.clock.now()) == "STOPPED"


def test_with_block_stops_the_endpoint(api: LocalTogether) -> None:
    job = sft(api, DEDICATED_BASE)
    with job.deploy(hardware="1x_nvidia_h100_80gb_sxm", progress=False) as ep:
        assert ep.hardware == "1x_nvidia_h100_80gb_sxm"
        assert ep.chat("hello", display=False)
    assert ep.state == "STOPPING"
    assert api.requests_to("PATCH /v1/endpoints/*")[-1].body == {"state": "STOPPED"}
    with pytest.raises(DeployError, match="not offered"):
        job.deploy(hardware="8x_imaginary_gpu", progress=False)


def test_serverless_lora_where_the_base_offers_it(api: LocalTogether) -> None:
    job = sft(api, LORA_BASE)
    ep = job.deploy(progress=False)
    assert ep.serverless
    assert "serverless LoRA" in repr(ep)
    assert "serverless LoRA" in ep._repr_html_()
    assert api.requests_to("POST /v1/endpoints") == []
    assert prefnb.chat(ep, "hi", display=False)
    ep.stop()  # nothing to stop
    dedicated = job.deploy(serverless=False, progress=False)
    assert not dedicated.serverless
    dedicated.delete()
    other = sft(api, DEDICATED_BASE)
    with pytest.raises(DeployError, match="serverless LoRA inference is not offered"):
        other.deploy(serverless=True, progress=False)


def test_endpoint_create_is_never_sent_twice_after_a_dropped_answer(api: LocalTogether) -> None:
    job = sft(api, DEDICATED_BASE)
    real = api._dispatch
    lost: list[object] = []

    def dispatch(req):  # type: ignore[no-untyped-def]
        resp = real(req)
        if req.method == "POST" and req.path == "/v1/endpoints" and not lost:
            lost.append(resp)
            return None  # created, but the answer never arrives
        return resp

    api._dispatch = dispatch  # type: ignore[method-assign]
    ep = job.deploy(progress=False)
    assert lost
    assert len(api.requests_to("POST /v1/endpoints")) == 1
    assert list(api.state.endpoints) == [ep.id]


def test_faults_on_the_endpoint_routes_are_retried_or_named(api: LocalTogether) -> None:
    job = sft(api, DEDICATED_BASE)
    api.inject("GET /v1/endpoints/*", status=503, times=1)
    ep = job.deploy(progress=False)  # a GET is retried by the client
    assert ep.state == "STARTED"
    api.inject("PATCH /v1/endpoints/*", status=404, times=1, message="no such endpoint")
    with pytest.raises(Exception, match="no such endpoint"):
        ep.stop()
    api.inject("GET /v1/hardware", status=500, times=None)
    with pytest.raises(Exception, match="hardware"):
        job.deploy(progress=False)


_CHILD = textwrap.dedent(
    """
    import sys
    import together
    from prefnb.deploy import deploy
    client = together.Together(api_key="sim-local-key", base_url=sys.argv[1])
    ep = deploy(sys.argv[2], client=client, progress=False)
    if sys.argv[3] == "stop":
        ep.stop()
    print("exiting", ep.id)
    """
)


@pytest.mark.parametrize("then", ["leave", "stop"])
def test_exit_warning_names_a_running_endpoint(api: LocalTogether, then: str) -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, api.base_url, DEDICATED_BASE, then],
        cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (ep_id,) = list(api.state.endpoints)
    if then == "leave":
        assert f"{ep_id} ({DEDICATED_BASE}) is STARTED" in done.stderr
        assert "still running and billing" in done.stderr
    else:
        assert "still running" not in done.stderr


def test_running_message_and_repr_without_requests() -> None:
    text = running_message([("e-1", "m", "STARTED", 3.36), ("e-2", "n", "STARTING", None)])
    assert "2 dedicated endpoints" in text
    assert "~$3.36/hour" in text
    ep = Endpoint({"id": "e", "model": "m", "state": "STOPPED"}, client=object())
    assert "hourly price unknown" in repr(ep)


def test_stop_can_wait_until_billing_ends(api: LocalTogether) -> None:
    job = sft(api, DEDICATED_BASE)
    ep = job.deploy(progress=False)
    ep.stop(wait=True, poll=0.01)
    assert ep.state == "STOPPED"
