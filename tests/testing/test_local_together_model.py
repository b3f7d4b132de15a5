"""LocalTogether's clock, job plan, curves and spec checker, without HTTP."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from prefnb.testing.curves import CurveParams, eval_row, learning_rate, train_row
from prefnb.testing.simulator import Clock, plan_job
from prefnb.testing.spec import OVERRIDES, SUBSET_PATH, Spec

SPEC_YAML = Path(__file__).resolve().parents[3] / "shared" / "together-openapi.yaml"


def test_a_small_job_takes_about_30_simulated_seconds() -> None:
    job = plan_job("ft-sim-a", {"n_epochs": 1, "batch_size": 8}, n_lines=60, now=100.0)
    assert job.completes_at() - 100.0 == pytest.approx(30.0)
    statuses = [job.status_at(100.0 + t) for t in (0, 3, 5, 25, 28, 30)]
    assert statuses == ["pending", "queued", "running", "compressing", "uploading", "completed"]


def test_big_jobs_take_longer_at_half_a_second_per_step() -> None:
    job = plan_job("ft-sim-b", {"n_epochs": 2, "batch_size": 8}, n_lines=800, now=0.0)
    assert job.total_steps == 200
    assert job.end_of_training() - job.train_start == pytest.approx(100.0)


def test_speed_scales_real_time_and_advance_skips() -> None:
    clock = Clock(speed=60)
    clock.advance(30)
    assert 30 <= clock.now() < 31
    assert clock.wall(60) - clock.wall(0) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="speed must be > 0"):
        Clock(speed=0)


def test_checkpoints_and_evals_are_spread_over_training() -> None:
    req = {"n_epochs": 1, "batch_size": 8, "n_checkpoints": 4, "n_evals": 3}
    job = plan_job("ft-sim-c", req, n_lines=96, now=0.0, has_validation=True)
    assert job.checkpoint_steps == [3, 6, 9, 12]
    assert job.eval_steps == [4, 8, 12]
    no_val = plan_job("ft-sim-d", req, n_lines=96, now=0.0, has_validation=False)
    assert no_val.eval_steps == []


def test_cancel_freezes_progress() -> None:
    job = plan_job("ft-sim-e", {"batch_size": 8}, n_lines=64, now=0.0)
    job.cancelled_at = 12.0
    assert job.status_at(12.5) == "cancel_requested"
    assert job.status_at(50.0) == "cancelled"
    assert job.steps_at(50.0) == job.steps_at(12.0) < job.total_steps
    assert job.checkpoints_at(50.0) == []


def test_the_first_step_is_exactly_the_untrained_policy() -> None:
    row = train_row(CurveParams(), step=1, total_steps=50, steps_per_epoch=50, seed="s")
    assert row["train/loss"] == pytest.approx(math.log(2))
    assert row["train/reward/accuracy"] == pytest.approx(0.5)
    assert row["train/approx. KL/chosen"] == row["train/approx. KL/rejected"] == 0.0


def final(p: CurveParams, split: str = "train") -> dict[str, float]:
    if split == "eval":
        return eval_row(p, step=50, total_steps=50, seed="s")
    return train_row(p, step=50, total_steps=50, steps_per_epoch=25, seed="s")


def test_curves_respond_to_the_dpo_knobs() -> None:
    base = final(CurveParams(dpo_beta=0.1))
    assert final(CurveParams(dpo_beta=0.05))["train/loss"] < base["train/loss"]
    assert final(CurveParams(dpo_beta=0.5))["train/loss"] > base["train/loss"]
    assert (
        final(CurveParams(dpo_beta=0.05))["train/approx. KL/rejected"]
        > base["train/approx. KL/rejected"]
    )

    rpo = final(CurveParams(dpo_beta=0.1, rpo_alpha=1.0))
    assert rpo["train/loss"] > base["train/loss"] + 0.5  # the NLL term is added
    assert rpo["train/nll_loss"] > 0
    assert rpo["train/approx. KL/chosen"] < base["train/approx. KL/chosen"]

    simpo_start = train_row(CurveParams(simpo_gamma=1.0), step=1, total_steps=50,
                            steps_per_epoch=50, seed="s")  # fmt: skip
    assert simpo_start["train/loss"] == pytest.approx(math.log1p(math.e))  # softplus(γ=1)

    normalized = final(CurveParams(dpo_beta=0.1, normalize_by_length=True))
    plain, norm = (
        train_row(p, step=10, total_steps=50, steps_per_epoch=50, seed="s")["train/loss"]
        for p in (CurveParams(), CurveParams(normalize_by_length=True))
    )
    assert norm > plain
    assert normalized["train/loss"] < 0.693


def test_eval_rows_use_eval_keys_and_a_small_gap() -> None:
    ev = final(CurveParams(), "eval")
    assert set(ev) == {"eval/loss", "eval/reward/accuracy", "eval/approx. KL/chosen",
                       "eval/approx. KL/rejected", "train/global_step"}  # fmt: skip
    assert ev["eval/loss"] > final(CurveParams())["train/loss"] - 0.05


def test_curves_are_deterministic_per_seed_and_noisy_across_seeds() -> None:
    p = CurveParams()
    a = train_row(p, step=30, total_steps=50, steps_per_epoch=50, seed="ft-sim-1")
    assert a == train_row(p, step=30, total_steps=50, steps_per_epoch=50, seed="ft-sim-1")
    assert a != train_row(p, step=30, total_steps=50, steps_per_epoch=50, seed="ft-sim-2")


def test_learning_rate_schedule() -> None:
    p = CurveParams(learning_rate=1e-5, warmup_ratio=0.1, min_lr_ratio=0.1)
    assert learning_rate(p, 5, 100) == pytest.approx(5e-6)
    assert learning_rate(p, 10, 100) == pytest.approx(1e-5)
    assert learning_rate(p, 100, 100) == pytest.approx(1e-6)
    linear = CurveParams(learning_rate=1e-5, scheduler="linear")
    assert learning_rate(linear, 50, 100) == pytest.approx(5e-6)


def test_spec_subset_records_its_source_and_checks_shapes() -> None:
    spec = Spec.load()
    assert spec.source["commit"] == "090263aa0fde006d9cd958bef52719958079bbc4"
    assert spec.check_request("POST /v1/fine-tunes", {"training_file": 3}) == [
        "request.training_file: expected string, got int 3"
    ]
    bad_method = {"training_file": "f", "model": "m", "training_method": {"method": "ppo"}}
    (reason,) = spec.check_request("POST /v1/fine-tunes", bad_method)
    assert "matches none of ['TrainingMethodSFT', 'TrainingMethodDPO']" in reason
    assert spec.check_response("GET /v1/fine-tunes/{id}", 200, {"id": "x", "status": "done"}) == [
        "response.status: 'done' is not one of ['pending', 'queued', 'running', 'compressing', "
        "'uploading', 'cancel_requested', 'cancelled', 'error', 'completed', 'user_error']"
    ]


def test_every_override_changes_the_spec_it_names() -> None:
    raw = json.loads(SUBSET_PATH.read_text(encoding="utf-8"))
    patched = Spec.load()
    for where, _patch, why in OVERRIDES:
        assert why
        if where.startswith("schemas/"):
            name = where.removeprefix("schemas/")
            assert raw["schemas"][name] != patched.schemas[name], where
        else:
            op, _, part = where.rpartition("/")
            assert raw["operations"][op][part] != patched.operations[op][part], where


@pytest.mark.skipif(not SPEC_YAML.exists(), reason="Together's spec is not beside the repo")
def test_committed_subset_matches_the_spec_beside_the_repo() -> None:
    yaml = pytest.importorskip("yaml")
    from prefnb.testing.extract_spec import extract

    raw = json.loads(SUBSET_PATH.read_text(encoding="utf-8"))
    fresh = extract(yaml.safe_load(SPEC_YAML.read_bytes()))
    assert fresh["operations"] == raw["operations"]
    assert fresh["schemas"] == raw["schemas"]
