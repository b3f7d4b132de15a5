"""Adjudication on both backends: disagreements, provenance, apply_labels(policy="adjudicated")."""

from __future__ import annotations

import pytest

import prefnb
from prefnb.labels import LabelStore, LabelStoreError, apply_labels


def test_adjudication_keeps_provenance_and_wins_in_apply_labels(any_store_target: str) -> None:
    df = prefnb.pairs_frame(
        [{"prompt": f"q{i}", "response_a": "x", "response_b": "y"} for i in range(3)]
    )
    p0, p1, _p2 = df["pair_id"]
    with LabelStore(any_store_target) as s:
        s.record(pair_id=p0, annotator="al", kind="label", verdict="a", note="A cites")
        s.record(pair_id=p0, annotator="bo", kind="label", verdict="b", strength="slight")
        s.record(pair_id=p1, annotator="al", kind="label", verdict="a")
        s.record(pair_id=p1, annotator="bo", kind="label", verdict="a")
        dis = s.disagreements()
        assert dis[["pair_id", "annotator", "label", "strength", "note"]].to_dict("records") == [
            {"pair_id": p0, "annotator": "al", "label": "a", "strength": None, "note": "A cites"},
            {"pair_id": p0, "annotator": "bo", "label": "b", "strength": "slight", "note": None},
        ]
        assert dis["adjudicated"].isna().all()
        first = s.adjudicate(p0, "lead", "b", strength="clear", note="B is safer")
        second = s.adjudicate(p0, "lead", "a", note="on reflection, A")
        assert second > first
        # Later relabels do not change what the decision was made over.
        s.record(pair_id=p0, annotator="bo", kind="label", verdict="tie")
        adj = s.adjudications()
        assert len(adj) == 1
        assert adj["id"].iloc[0] == second
        basis = adj["basis"].iloc[0]
        assert {k: v[0] for k, v in basis.items()} == {"al": "a", "bo": "b"}
        assert len(s.adjudications(latest=False)) == 2
        assert s.disagreements()["adjudicated"].tolist() == ["a", "a"]
        out = apply_labels(df, s, policy="adjudicated")
    assert out["label"].tolist()[:2] == ["a", "a"]
    assert out.loc[0, "annotator"] == "lead"
    assert out.loc[0, "note"] == "on reflection, A"
    assert out["adjudicated"].tolist() == [True, False, False]
    assert out.loc[1, "annotator"] == "al,bo"  # majority where nobody adjudicated


def test_adjudicate_validates_like_record(any_store_target: str) -> None:
    with LabelStore(any_store_target) as s:
        with pytest.raises(LabelStoreError, match="verdict"):
            s.adjudicate("p", "lead", "maybe")  # type: ignore[arg-type]
        with pytest.raises(LabelStoreError, match="adjudicator"):
            s.adjudicate("p", "", "a")
        assert s.adjudications().empty
