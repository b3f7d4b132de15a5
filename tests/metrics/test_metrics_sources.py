"""trainer_state.json and W&B CSV parsing with real-shaped fixtures; the tidy form they share."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import prefnb
from prefnb.training_metrics import TIDY_COLUMNS, MetricsSourceError, metrics
from prefnb.training_metrics.sources import legend_labels

# Shaped like a real TRL DPOTrainer run (transformers 4.4x): train logs every 10 steps, eval every
# 20 with eval_ prefixes and runtime keys, and the closing summary entry.
TRAINER_STATE = {
    "best_metric": None,
    "epoch": 1.0,
    "eval_steps": 20,
    "global_step": 40,
    "log_history": [
        {
            "epoch": 0.25,
            "grad_norm": 12.5,
            "learning_rate": 5e-07,
            "logits/chosen": -2.71,
            "logits/rejected": -2.69,
            "logps/chosen": -310.2,
            "logps/rejected": -298.7,
            "loss": 0.6931,
            "rewards/accuracies": 0.0,
            "rewards/chosen": 0.0,
            "rewards/margins": 0.0,
            "rewards/rejected": 0.0,
            "step": 10,
        },
        {
            "epoch": 0.5,
            "grad_norm": 10.1,
            "learning_rate": 4e-07,
            "logps/chosen": -305.0,
            "logps/rejected": -301.0,
            "loss": 0.6712,
            "rewards/accuracies": 0.625,
            "rewards/chosen": 0.021,
            "rewards/margins": 0.045,
            "rewards/rejected": -0.024,
            "step": 20,
        },
        {
            "epoch": 0.5,
            "eval_logps/chosen": -300.1,
            "eval_loss": 0.6803,
            "eval_rewards/accuracies": 0.58,
            "eval_rewards/margins": 0.031,
            "eval_runtime": 12.34,
            "eval_samples_per_second": 8.1,
            "eval_steps_per_second": 1.01,
            "step": 20,
        },
        {"epoch": 0.75, "loss": float("nan"), "rewards/accuracies": 0.75, "step": 30},
        {"epoch": 1.0, "loss": 0.61, "rewards/accuracies": 0.8, "step": 40},
        {
            "epoch": 1.0,
            "step": 40,
            "total_flos": 0.0,
            "train_loss": 0.654,
            "train_runtime": 321.5,
            "train_samples_per_second": 3.2,
            "train_steps_per_second": 0.12,
        },
    ],
    "max_steps": 40,
    "trial_name": None,
}


@pytest.fixture
def trl_run(tmp_path: Path) -> Path:
    run = tmp_path / "dpo-qwen-beta0.1"
    (run / "checkpoint-20").mkdir(parents=True)
    (run / "checkpoint-40").mkdir()
    # json.dumps writes NaN as the bare token NaN, exactly as transformers does.
    (run / "trainer_state.json").write_text(json.dumps(TRAINER_STATE, indent=2))
    return run


def test_trainer_state_becomes_tidy(trl_run: Path) -> None:
    df = metrics(trl_run / "trainer_state.json")
    assert tuple(df.columns) == TIDY_COLUMNS
    assert set(df["job_id"]) == {"dpo-qwen-beta0.1"}
    loss = df[(df.metric == "loss") & (df.split == "train")]
    # the NaN logged at step 30 is kept (a diverged loss must show); train_loss stays out
    assert loss["step"].tolist() == [10, 20, 30, 40]
    np.testing.assert_array_equal(loss["value"], [0.6931, 0.6712, np.nan, 0.61])
    ev = df[df.split == "eval"]
    assert set(ev.metric) >= {"loss", "accuracy", "margin", "logp_chosen", "eval_runtime"}
    assert ev[ev.metric == "accuracy"]["value"].tolist() == [0.58]
    assert "train_loss" in set(df.metric)
    assert df[df.metric == "train_loss"]["raw_key"].tolist() == ["train_loss"]
    acc = df[(df.metric == "accuracy") & (df.split == "train")]
    assert acc["raw_key"].unique().tolist() == ["rewards/accuracies"]
    assert df["logged_at"].isna().all()
    assert str(df["logged_at"].dtype) == "datetime64[ns, UTC]"


def test_run_directory_and_checkpoint_dirs(trl_run: Path) -> None:
    df = metrics(trl_run)
    assert set(df.job_id) == {"dpo-qwen-beta0.1"}
    from prefnb.training_metrics.sources import checkpoint_steps, resolve

    assert checkpoint_steps(resolve(trl_run)[0]) == [20, 40]


def test_trainer_state_errors_name_the_file_and_entry(tmp_path: Path) -> None:
    bad = tmp_path / "trainer_state.json"
    bad.write_text('{"log_history": [{"loss": 1.0}]}')
    with pytest.raises(
        MetricsSourceError, match=r"trainer_state.json: log_history\[0\] has no 'step'"
    ):
        metrics(bad)
    bad.write_text("{not json")
    with pytest.raises(MetricsSourceError, match=r"trainer_state\.json: not valid JSON"):
        metrics(bad)
    with pytest.raises(MetricsSourceError, match="no such file"):
        metrics(tmp_path / "missing" / "trainer_state.json")


# A W&B run-history export of a Together DPO job (the keys Together's W&B integration logs).
WANDB_HISTORY = """\
_step,_runtime,_timestamp,train/global_step,train/loss,train/learning_rate,train/reward/accuracy,\
train/approx. KL/chosen,train/approx. KL/rejected,eval/loss,eval/reward/accuracy
0,10.5,1732700000.1,1,0.6931,1e-05,0.5,0.0,0.0,,
1,20.5,1732700010.2,2,0.65,1e-05,0.6,1.5,2.5,,
2,30.5,1732700020.3,3,0.61,9e-06,0.7,3.0,5.1,0.62,0.66
3,40.5,1732700030.4,4,,8e-06,,,,,
"""

# A W&B chart-panel export: Step plus "<run> - <key>" columns with __MIN/__MAX bands.
WANDB_CHART = """\
Step,beta-0.1 - train/loss,beta-0.1 - train/loss__MIN,beta-0.1 - train/loss__MAX,\
beta-0.5 - train/loss,beta-0.5 - train/loss__MIN,beta-0.5 - train/loss__MAX
1,0.69,0.69,0.69,0.69,0.69,0.69
2,0.60,0.59,0.61,0.66,0.65,0.67
3,0.52,0.50,0.55,,,
"""


def test_wandb_history_csv(tmp_path: Path) -> None:
    p = tmp_path / "together-run.csv"
    p.write_text(WANDB_HISTORY)
    df = metrics(p)
    assert set(df.job_id) == {"together-run"}
    assert df[(df.metric == "loss") & (df.split == "train")]["step"].tolist() == [1, 2, 3]
    assert df[(df.metric == "kl_rejected")]["value"].tolist() == [0.0, 2.5, 5.1]
    ev = df[df.split == "eval"]
    assert sorted(ev.metric.astype(str)) == ["accuracy", "loss"]
    assert ev["step"].unique().tolist() == [3]
    first = df[(df.metric == "loss") & (df.split == "train")]["logged_at"].iloc[0]
    assert abs(first - pd.Timestamp("2024-11-27 09:33:20.1", tz="UTC")) < pd.Timedelta("1ms")
    # _runtime is unknown: it comes through under its raw key
    assert "_runtime" in set(df.metric)


def test_wandb_chart_export_has_one_job_per_run(tmp_path: Path) -> None:
    p = tmp_path / "loss-chart.csv"
    p.write_text(WANDB_CHART)
    df = metrics(p)
    assert sorted(set(df.job_id)) == ["beta-0.1", "beta-0.5"]
    assert df[df.job_id == "beta-0.5"]["value"].tolist() == [0.69, 0.66]
    assert not df["raw_key"].str.contains("__M").any()


def test_local_run_and_csv_sit_in_one_table(tmp_path: Path, trl_run: Path) -> None:
    p = tmp_path / "together-run.csv"
    p.write_text(WANDB_HISTORY)
    df = prefnb.metrics([trl_run, p])
    assert set(df.job_id) == {"dpo-qwen-beta0.1", "together-run"}
    # TRL logs no times, the W&B export does: NaT and real times side by side
    assert df[df.job_id == "dpo-qwen-beta0.1"]["logged_at"].isna().all()
    times = df[df.job_id == "together-run"]["logged_at"]
    assert times.notna().all()
    assert times.min() == pd.Timestamp("2024-11-27 09:33:20.1", tz="UTC")
    assert set(df[df.metric == "accuracy"].job_id) == {"dpo-qwen-beta0.1", "together-run"}


def test_tidy_frame_passes_through() -> None:
    df = pd.DataFrame(
        {
            "job_id": ["a", "a"],
            "step": [1, 2],
            "split": ["train", "train"],
            "metric": ["loss", "loss"],
            "raw_key": ["loss", "loss"],
            "value": [1.0, np.inf],
            "logged_at": pd.to_datetime([None, None], utc=True),
        }
    )
    out = metrics(df)
    assert out["value"].tolist() == [1.0, np.inf]
    with pytest.raises(MetricsSourceError, match="missing the columns"):
        metrics(df.drop(columns=["raw_key"]))


def test_legend_names_what_differs() -> None:
    labels = legend_labels(
        {
            "ft-1": {"beta": 0.1, "lr": 1e-5, "model": "m"},
            "ft-2": {"beta": 0.5, "lr": 1e-5, "model": "m"},
            "ft-3": {"beta": 0.5, "lr": 2e-5, "model": "m"},
        }
    )
    assert labels == {
        "ft-1": "beta=0.1, lr=1e-05",
        "ft-2": "beta=0.5, lr=1e-05",
        "ft-3": "beta=0.5, lr=2e-05",
    }


def test_job_list_frame_means_job_ids() -> None:
    from prefnb.training_metrics.sources import resolve

    ledger = pd.DataFrame({"job_id": ["ft-2", "ft-1", "ft-2"], "status": ["running"] * 3})
    srcs = resolve(ledger, client=object())
    assert [(s.kind, s.job_id) for s in srcs] == [("api", "ft-2"), ("api", "ft-1")]


def test_api_rows_with_nulls_and_strings_fall_back_to_pandas() -> None:
    from prefnb.training_metrics.sources import _columns
    from prefnb.training_metrics.tidy import rows_columns, series_from_wide

    rows = [
        {"train/global_step": 1, "train/loss": 0.7, "timestamp": "2024-11-27T09:33:20Z"},
        {"train/global_step": 2, "train/loss": None, "timestamp": "2024-11-27T09:33:21Z"},
        {"train/global_step": 3, "train/loss": 0.5, "timestamp": "2024-11-27T09:33:22Z"},
    ]
    with pytest.raises(ValueError, match="could not convert string to float"):
        rows_columns(rows)
    cols, present = _columns(rows)
    (loss,) = series_from_wide(cols, "ft-x", present=present)
    assert loss.step.tolist() == [1, 3]  # null: nothing logged
    assert loss.value.tolist() == [0.7, 0.5]
    assert loss.time.tolist() == [1732700000.0, 1732700002.0]


def test_a_logged_nan_is_a_value_a_missing_key_is_not(tmp_path: Path) -> None:
    from prefnb.training_metrics.sources import _columns
    from prefnb.training_metrics.tidy import build_frame, series_from_wide

    nan = float("nan")
    rows = [
        {"train/global_step": 1, "train/loss": 0.7},
        {"train/global_step": 2, "train/loss": nan},  # diverged
        {"train/global_step": 2, "eval/loss": 0.9},  # eval row: no train/loss key
        {"train/global_step": 3, "train/loss": 0.5},
    ]
    cols, present = _columns(rows)
    df = build_frame(series_from_wide(cols, "ft-x", present=present))
    train = df[df.split == "train"]
    assert train["step"].tolist() == [1, 2, 3]
    np.testing.assert_array_equal(train["value"], [0.7, np.nan, 0.5])
    assert df[df.split == "eval"]["step"].tolist() == [2]
    # every row with the same keys (no masks needed): the NaN still stays
    same = [{"step": i, "loss": nan if i == 2 else 1.0} for i in range(4)]
    cols, present = _columns(same)
    (loss,) = series_from_wide(cols, "ft-y", present=present)
    assert loss.step.tolist() == [0, 1, 2, 3]
    # W&B CSV: an empty cell is missing, "NaN" is logged
    csv = tmp_path / "run.csv"
    csv.write_text("_step,train/loss,eval/loss\n1,0.7,\n2,NaN,0.9\n3,0.5,\n")
    df = metrics(csv)
    np.testing.assert_array_equal(df[df.split == "train"]["value"], [0.7, np.nan, 0.5])
    assert df[df.split == "eval"]["step"].tolist() == [2]
