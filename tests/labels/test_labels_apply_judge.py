"""apply_labels ignores judges unless fill_from_judge=True, then fills consistent verdicts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import prefnb
from prefnb.labels import LabelStore


def _frame() -> pd.DataFrame:
    return prefnb.pairs_frame(
        [{"prompt": f"q{i}", "response_a": f"a{i}", "response_b": f"b{i}"} for i in range(4)]
    )


def _store(tmp_path: Path, df: pd.DataFrame) -> Path:
    path = tmp_path / "labels.sqlite"
    verdicts = {0: ("a", "a"), 1: ("b", "b"), 2: ("a", "b"), 3: ("b", None)}
    rows = []
    for i, (ab, ba) in verdicts.items():
        pid = df.loc[i, "pair_id"]
        for shown, v in (("ab", ab), ("ba", ba)):
            rows.append(
                {
                    "pair_id": pid,
                    "content_key": pid,
                    "annotator": "judge:m",
                    "rubric_hash": "r",
                    "shown": shown,
                    "verdict": v,
                }
            )
    with LabelStore(path) as s:
        s.record_judge_verdicts(rows)
        s.record(pair_id=df.loc[1, "pair_id"], annotator="alice", kind="label", verdict="a")
    return path


def test_judges_are_ignored_unless_asked(tmp_path: Path) -> None:
    df = _frame()
    out = prefnb.apply_labels(df, _store(tmp_path, df))
    assert out["label"].tolist()[1] == "a"
    assert out["label"].isna().tolist() == [True, False, True, True]
    assert "label_source" not in out.columns


def test_fill_from_judge_uses_consistent_verdicts_only(tmp_path: Path) -> None:
    df = _frame()
    out = prefnb.apply_labels(df, _store(tmp_path, df), fill_from_judge=True)
    # 0: judge agreed in both orders; 1: a person's label wins; 2: orders disagree; 3: failed
    assert out["label"].tolist()[:2] == ["a", "a"]
    assert out["label"].isna().tolist()[2:] == [True, True]
    assert out["label_source"].tolist() == ["judge", "human", None, None]
    assert out["annotator"].tolist()[:2] == ["judge:m", "alice"]


def test_export_reports_rows_labeled_by_a_judge(tmp_path: Path) -> None:
    df = _frame()
    out = prefnb.apply_labels(df, _store(tmp_path, df), fill_from_judge=True)
    result = prefnb.export_dpo(out, tmp_path / "train.jsonl")
    assert result.n_written == 2
    assert result.from_judge == 1
    assert "1 written row(s) were labeled by an LLM judge" in result.summary()
    plain = prefnb.export_dpo(
        prefnb.apply_labels(df, tmp_path / "labels.sqlite"), tmp_path / "plain.jsonl"
    )
    assert plain.from_judge == 0
