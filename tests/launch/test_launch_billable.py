"""Never two paid jobs: a create whose reply is lost is reconciled, never blindly resent."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from launch_support import MODEL

from prefnb.launch import launch_dpo
from prefnb.launch.billable import Intent, create_once
from prefnb.launch.ledger import Ledger
from prefnb.testing import LocalTogether


def posts(api: LocalTogether) -> list[int]:
    return [r.status for r in api.requests_to("POST /v1/fine-tunes")]


@pytest.mark.parametrize("fault", [{"drop": True}, {"status": 502}, {"status": 500}])
def test_a_create_reply_lost_after_the_job_exists_adopts_that_job(
    api: LocalTogether,
    client: Any,
    dpo_file: Path,
    fault: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    api.inject("POST /v1/fine-tunes", after=True, **fault)
    job = launch_dpo(dpo_file, model=MODEL, dpo_beta=0.2, client=client, progress=False)
    assert len(api.state.jobs) == 1
    assert job.id == next(iter(api.state.jobs))
    assert len(posts(api)) == 1  # sent once: the SDK's own retry would have sent it again
    assert "nothing was sent twice" in capsys.readouterr().out
    # The adopted job is in the ledger: the same launch returns it.
    again = launch_dpo(dpo_file, model=MODEL, dpo_beta=0.2, client=client, progress=False)
    assert again.id == job.id
    assert len(api.state.jobs) == 1


def test_a_create_that_failed_before_acting_is_resent_once_confirmed_absent(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    api.inject("POST /v1/fine-tunes", status=503, times=1)  # before acting: nothing created
    job = launch_dpo(dpo_file, model=MODEL, client=client, progress=False)
    assert posts(api) == [503, 200]
    assert list(api.state.jobs) == [job.id]
    # Reconciling listed the account's jobs before the resend.
    methods = [f"{r.method} {r.path}" for r in api.requests]
    first, second = [i for i, m in enumerate(methods) if m == "POST /v1/fine-tunes"]
    assert "GET /v1/fine-tunes" in methods[first:second]


def test_the_sdks_own_create_would_have_paid_twice(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    """The failure this guards against, shown with the SDK alone (its default retries)."""
    launch_dpo(dpo_file, model=MODEL, client=client, progress=False)
    file_id = api.requests_to("POST /v1/fine-tunes")[0].body["training_file"]
    api.inject("POST /v1/fine-tunes", after=True, drop=True)
    client.fine_tuning.create(training_file=file_id, model=MODEL, training_method="dpo")
    assert len(api.state.jobs) == 3  # the first launch, plus two from one SDK call


def test_a_kernel_killed_mid_create_is_reconciled_on_rerun(
    api: LocalTogether, dpo_file: Path, prefnb_home: Path
) -> None:
    # The job is created, then the reply hangs; the "kernel" is killed while it waits.
    api.inject("POST /v1/fine-tunes", after=True, drop=True, delay=30)
    script = textwrap.dedent(
        f"""
        import together, prefnb
        client = together.Together(api_key="sim-local-key", base_url={api.base_url!r})
        prefnb.launch_dpo({str(dpo_file)!r}, model={MODEL!r}, dpo_beta=0.3, client=client,
                          progress=False)
        """
    )
    env = {**os.environ, "PREFNB_HOME": str(prefnb_home)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 60
        while not api.state.jobs and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(api.state.jobs) == 1
    finally:
        proc.kill()
        proc.wait(timeout=10)
    [made] = api.state.jobs
    job = launch_dpo(dpo_file, model=MODEL, dpo_beta=0.3, client=api.client(), progress=False)
    assert job.id == made
    assert len(api.state.jobs) == 1
    assert len(api.requests_to("POST /v1/fine-tunes")) == 1


def test_the_helper_is_generic(tmp_path: Path) -> None:
    """Any billable kind (evaluations, batches, endpoints) uses the same rule."""
    import together

    ledger = Ledger(tmp_path / "l.sqlite")
    server: list[dict[str, Any]] = []
    sent = 0

    def send() -> dict[str, Any]:
        nonlocal sent
        sent += 1
        server.append({"id": f"eval-{sent}", "model": "m", "created_at": time.time()})
        raise together.APITimeoutError(request=__import__("httpx").Request("POST", "http://x"))

    intent = Intent(kind="evaluation", key="k1", base_url="http://x", match={"model": "m"})
    got = create_once(
        ledger=ledger, intent=intent, send=send, listing=lambda: server, adopt=dict,
        object_id=lambda d: str(d["id"]), say=lambda _: None,
    )  # fmt: skip
    assert got["id"] == "eval-1"
    assert sent == 1
    assert "eval-1" in ledger.known_ids("http://x")


def test_messages_name_localtogether_as_simulated(
    api: LocalTogether, client: Any, dpo_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    launch_dpo(dpo_file, model=MODEL, client=client)
    captured = capsys.readouterr()
    assert "(LocalTogether (simulated))." in captured.out
    assert "on LocalTogether (simulated)" in captured.err  # the upload line
    assert "on Together" not in captured.out + captured.err


def test_an_intent_matches_on_the_fields_a_listing_shows() -> None:
    intent = Intent(kind="fine-tune", key="k", base_url="http://x",
                    match={"training_file": "file-1", "model": "m", "suffix": "s"})  # fmt: skip
    now = time.time()
    assert intent.matches({"training_file": "file-1", "model": "m", "created_at": now}, since=now)
    assert not intent.matches({"training_file": "file-2", "model": "m"}, since=now)
    assert not intent.matches({"training_file": "file-1", "suffix": "other"}, since=now)
    assert not intent.matches({"id": "ft-1"}, since=now)  # nothing to recognise it by
    assert not intent.matches({"training_file": "file-1", "created_at": now - 3600}, since=now)
