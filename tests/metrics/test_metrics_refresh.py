"""The incremental store: appends only new steps, re-reads a growing file, keeps order."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from prefnb.training_metrics import MetricsStore, Refresher
from prefnb.training_metrics.tidy import series_from_wide


def test_store_appends_only_new_steps_and_updates_repeated_last() -> None:
    store = MetricsStore()
    w1 = pd.DataFrame({"step": [1, 2, 3], "loss": [0.7, 0.6, 0.5]})
    assert store.add(series_from_wide(w1, "r")) == 3
    w2 = pd.DataFrame({"step": [3, 4], "loss": [0.55, 0.4], "eval_loss": [0.58, None]})
    assert store.add(series_from_wide(w2, "r")) == 2  # step 4 train + step 3 eval
    df = store.frame()
    train = df[df.split == "train"]
    assert train["step"].tolist() == [1, 2, 3, 4]
    assert train["value"].tolist() == [0.7, 0.6, 0.55, 0.4]  # last step re-read → updated
    assert df[df.split == "eval"]["step"].tolist() == [3]
    assert store.last_step("r") == 4


def test_store_growth_keeps_values() -> None:
    store = MetricsStore()
    for start in range(0, 10_000, 100):
        steps = np.arange(start, start + 100)
        store.add(series_from_wide(pd.DataFrame({"step": steps, "loss": steps * 0.5}), "r"))
    df = store.frame()
    assert len(df) == 10_000
    assert (df["value"].to_numpy() == np.arange(10_000) * 0.5).all()


def test_series_sharing_axes_never_write_through_each_other() -> None:
    # Every train key of a job arrives sharing one step/time array; the store keeps one copy
    # for them, so a write to one series must not show in another.
    store = MetricsStore()
    w1 = pd.DataFrame({"step": [1, 2, 3], "time": [10.0, 20.0, 30.0], "loss": [0.7, 0.6, 0.5],
                       "accuracy": [0.5, 0.6, 0.7]})  # fmt: skip
    store.add(series_from_wide(w1, "r"))
    loss = store.series[("r", "train", "loss", "loss")]
    acc = store.series[("r", "train", "accuracy", "accuracy")]
    assert loss.step is acc.step or np.shares_memory(loss.step, acc.step)
    assert not np.shares_memory(loss.step, w1["step"].to_numpy())  # never the caller's memory
    # the last step re-read for one key only (new time), then new steps for the other
    store.add(series_from_wide(pd.DataFrame({"step": [3], "time": [31.0], "loss": [0.45]}), "r"))
    store.add(series_from_wide(pd.DataFrame({"step": [4], "time": [40.0], "accuracy": [0.8]}), "r"))
    assert loss.time.tolist() == [10.0, 20.0, 31.0]
    assert loss.value.tolist() == [0.7, 0.6, 0.45]
    assert acc.time.tolist() == [10.0, 20.0, 30.0, 40.0]
    assert acc.step.tolist() == [1, 2, 3, 4]
    assert loss.step.tolist() == [1, 2, 3]
    w1.loc[0, "loss"] = 99.0  # the caller's frame is not the store's memory either
    assert loss.value[0] == 0.7


def test_arrays_made_for_the_store_are_kept_not_copied() -> None:
    from prefnb.training_metrics.tidy import rows_columns

    rows = [{"step": i, "loss": 1.0 / (i + 1), "acc": 0.5} for i in range(5)]
    cols = rows_columns(rows)
    store = MetricsStore()
    store.add(series_from_wide(cols, "r", owned=True))
    loss = store.series[("r", "train", "loss", "loss")]
    assert np.shares_memory(loss.value, cols["loss"])  # given away: no copy
    store.add(series_from_wide(rows_columns([{"step": 4, "loss": 9.0, "acc": 0.1}]), "r"))
    assert loss.value.tolist()[-1] == 9.0  # the re-read last step still updates
    assert store.series[("r", "train", "acc", "acc")].value.tolist()[-1] == 0.1
    assert loss.step.tolist() == [0, 1, 2, 3, 4]


def test_refresher_rereads_a_growing_trainer_state(tmp_path: Path) -> None:
    p = tmp_path / "run" / "trainer_state.json"
    p.parent.mkdir()
    hist = [{"step": s, "loss": 1.0 / s} for s in range(1, 6)]
    p.write_text(json.dumps({"log_history": hist}))
    r = Refresher(p)
    assert r.refresh() == 5
    assert r.refresh() == 0  # unchanged file: nothing read
    hist += [{"step": s, "loss": 1.0 / s} for s in range(6, 9)]
    p.write_text(json.dumps({"log_history": hist}))
    os.utime(p, (1, 1))  # a distinct mtime even on coarse-grained filesystems
    assert r.refresh() == 3
    assert r.store.frame()["step"].tolist() == list(range(1, 9))
    assert r.done()
