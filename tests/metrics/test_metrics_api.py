"""Metrics of Together jobs through the real SDK against LocalTogether (over HTTP)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import prefnb
from prefnb.launch import Job
from prefnb.testing import LocalTogether
from prefnb.training_metrics import Refresher
from prefnb.training_metrics.sources import job_status

SAMPLE = Path(__file__).resolve().parents[2] / "prefnb" / "data" / "sample_dpo.jsonl"


@pytest.fixture
def api() -> Iterator[LocalTogether]:
    with LocalTogether(speed=600) as server:
        yield server


def launch(api: LocalTogether, beta: float, *, wait: bool = True, **kw: Any) -> str:
    client = api.client()
    f = client.files.upload(str(SAMPLE), purpose="fine-tune", check=False)
    while client.files.retrieve(f.id).processing_status != "COMPLETED":
        time.sleep(0.02)
    params = {"n_epochs": 4, "n_evals": 4, "batch_size": 8, "n_checkpoints": 2, **kw}
    job = client.fine_tuning.create(
        training_file=f.id,
        validation_file=f.id,
        model=api.models[0],
        training_method="dpo",
        dpo_beta=beta,
        **params,
    )
    while wait and job_status(client, job.id) != "completed":
        time.sleep(0.02)
    return str(job.id)


def total_steps(client: Any, job: str) -> int:
    return int(client.fine_tuning.retrieve(job).total_steps)


def test_job_metrics_are_tidy_with_train_and_eval(api: LocalTogether) -> None:
    job = launch(api, 0.1)
    df = prefnb.metrics(job, client=api.client())
    n = total_steps(api.client(), job)
    assert tuple(df.columns) == (
        "job_id", "step", "split", "metric", "raw_key", "value", "logged_at",
    )  # fmt: skip
    train = df[df.split == "train"]
    assert sorted(set(train.metric)) == [
        "accuracy", "epoch", "kl_chosen", "kl_rejected", "learning_rate", "loss",
    ]  # fmt: skip
    assert train[train.metric == "loss"]["step"].tolist() == list(range(1, n + 1))
    assert set(train[train.metric == "kl_chosen"].raw_key) == {"train/approx. KL/chosen"}
    ev = df[df.split == "eval"]
    assert set(ev.raw_key) == {
        "eval/loss", "eval/reward/accuracy", "eval/approx. KL/chosen", "eval/approx. KL/rejected",
    }  # fmt: skip
    assert len(ev[ev.metric == "loss"]) == 4
    assert df["logged_at"].notna().all()
    per_key = df.groupby("raw_key", observed=True)["logged_at"]
    assert per_key.apply(lambda s: s.is_monotonic_increasing).all()


def test_resolution_and_step_range_reach_the_api(api: LocalTogether) -> None:
    job = launch(api, 0.1)
    client = api.client()
    df = prefnb.metrics(job, client=client, resolution=5)
    loss = df[(df.metric == "loss") & (df.split == "train")]
    assert len(loss) == 5
    assert loss["step"].iloc[0] == 1
    assert loss["step"].iloc[-1] == total_steps(client, job)
    assert len(df[(df.metric == "loss") & (df.split == "eval")]) == 4  # eval rows not thinned
    df = prefnb.metrics(job, client=client, step_range=(6, 10))
    assert sorted(set(df["step"])) == [6, 7, 8, 9, 10]
    q = api.requests_to("GET /v1/fine-tunes/*/metrics")[-1].query
    assert (q["global_step_from"], q["global_step_to"]) == ("6", "10")


def test_refresh_fetches_only_new_steps(api: LocalTogether) -> None:
    job = launch(api, 0.1)
    r = Refresher(job, api.client())
    first = r.refresh()
    assert first > 0
    assert r.refresh() == 0  # the last step is re-read (late eval rows) but nothing is new
    q = api.requests_to("GET /v1/fine-tunes/*/metrics")[-1].query
    assert q == {"global_step_from": str(total_steps(api.client(), job))}
    assert r.done()


def test_job_objects_and_legend_from_hyperparameters(api: LocalTogether) -> None:
    client = api.client()
    jobs = [Job(launch(api, b), client=client) for b in (0.1, 0.5)]
    df = prefnb.metrics(jobs)
    assert set(df.job_id) == {j.id for j in jobs}
    fig = prefnb.plot_metrics(jobs, smoothing=0.5, theme="light")
    assert [t.name for t in fig.data if t.showlegend] == ["beta=0.1", "beta=0.5"]


def test_live_figure_follows_a_running_job_and_stops(api: LocalTogether) -> None:
    with LocalTogether(speed=30) as slow:
        c = slow.client()
        job = launch(slow, 0.2, wait=False)
        # Freeze the job a few steps into training (a whole job is ~1 s at speed=30, which a
        # loaded machine can miss entirely), so the figure surely draws a partial curve first.
        slow.hold()
        slow.advance(10)
        fig = prefnb.plot_metrics(job, client=c, live=True, metrics=("loss",), interval=0.1)
        seen: list[int] = []

        def drawn() -> int:
            bold = [t for t in fig.data if t.name and "(eval)" not in t.name]
            return len(bold[0].x) if bold and bold[0].x is not None else 0

        deadline = time.monotonic() + 120
        while fig.live and time.monotonic() < deadline:
            seen.append(drawn())
            if seen[-1]:  # a partial curve is on the figure: let the job finish
                slow.release()
            time.sleep(0.05)
        assert not fig.live, "live loop did not stop at the terminal status"
        assert fig.live_error is None
        assert job_status(c, job) == "completed"
        final = next(t for t in fig.data if t.name == job)  # one job: legend is its id
        n = total_steps(c, job)
        assert len(final.x) == n
        # it drew while the job ran: at least one intermediate length
        assert any(0 < k < n for k in seen), seen


def test_unreachable_client_needs_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    with pytest.raises(ValueError, match="TOGETHER_API_KEY"):
        prefnb.metrics("ft-123")
