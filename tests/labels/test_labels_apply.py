"""apply_labels: latest and majority policies, unknown pairs, schema checks."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import prefnb
from prefnb.labels import LabelStore, LabelStoreError, UnknownPairsWarning, apply_labels
from prefnb.pairs import PairSchemaError, check_pairs, pairs_frame


@pytest.fixture
def df() -> pd.DataFrame:
    return pairs_frame(
        [
            {"prompt": f"q{i}", "response_a": f"a{i}", "response_b": f"b{i}", "extra": i}
            for i in range(5)
        ]
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LabelStore]:
    with LabelStore(tmp_path / "labels.sqlite") as s:
        yield s


def _label(store: LabelStore, pid: str, who: str, verdict: str, **kw: object) -> None:
    store.record(pair_id=pid, annotator=who, kind="label", verdict=verdict, **kw)  # type: ignore[arg-type]


def test_latest_fills_columns_and_leaves_input_alone(df: pd.DataFrame, store: LabelStore) -> None:
    p = df["pair_id"].tolist()
    _label(store, p[0], "al", "a", strength="clear", note="fine")
    _label(store, p[0], "bo", "b")  # later: wins under "latest"
    _label(store, p[1], "al", "tie")
    store.record(pair_id=p[2], annotator="al", kind="label", verdict="b")
    store.record(pair_id=p[2], annotator="al", kind="edit", verdict="b", edited_preferred="B2!")
    before = df.copy(deep=True)

    out = apply_labels(df, store)

    pd.testing.assert_frame_equal(df, before)
    check_pairs(out)
    assert out["label"].tolist() == ["b", "tie", "b", None, None]
    assert out["annotator"].tolist() == ["bo", "al", "al", None, None]
    assert out["edited_preferred"].tolist() == [None, None, "B2!", None, None]
    assert out["extra"].tolist() == [0, 1, 2, 3, 4]
    assert list(out.index) == list(df.index)


def test_latest_for_one_annotator(df: pd.DataFrame, store: LabelStore) -> None:
    p = df["pair_id"].tolist()
    _label(store, p[0], "al", "a", strength="clear", note="fine")
    _label(store, p[0], "bo", "b")
    out = apply_labels(df, store, annotator="al")
    assert out.loc[0, ["label", "annotator", "strength", "note"]].tolist() == [
        "a",
        "al",
        "clear",
        "fine",
    ]


def test_rows_without_stored_labels_keep_their_values(df: pd.DataFrame, store: LabelStore) -> None:
    df.loc[3, "label"] = "a"
    _label(store, df.loc[0, "pair_id"], "al", "b")
    out = apply_labels(df, store)
    assert out["label"].tolist() == ["b", None, None, "a", None]


def test_undone_labels_are_not_applied(df: pd.DataFrame, store: LabelStore) -> None:
    pid = df.loc[0, "pair_id"]
    _label(store, pid, "al", "a")
    store.record(pair_id=pid, annotator="al", kind="undo")
    assert apply_labels(df, store)["label"].tolist() == [None] * 5


def test_majority_policy_votes_ties_and_agreement(df: pd.DataFrame, store: LabelStore) -> None:
    p = df["pair_id"].tolist()
    for who, v in [("al", "a"), ("bo", "a"), ("cy", "b")]:  # 2 vs 1
        _label(store, p[0], who, v, strength="strong" if who == "bo" else None)
    for who, v in [("al", "a"), ("bo", "b")]:  # a vs b split
        _label(store, p[1], who, v)
    for who, v in [("al", "both_bad"), ("bo", "skip")]:  # skip is not a vote
        _label(store, p[2], who, v)
    _label(store, p[3], "al", "skip")  # only skips
    store.record(pair_id=p[0], annotator="cy", kind="note", note="b is shorter")

    out = apply_labels(df, store, policy="majority")

    assert out["label"].tolist() == ["a", "tie", "both_bad", "skip", None]
    assert out["n_votes"].tolist() == [3, 2, 1, 0, 0]
    assert out["n_votes"].dtype == "int64"
    agreement = out["agreement"].tolist()
    assert agreement[:3] == [pytest.approx(2 / 3), 0.5, 1.0]
    assert all(math.isnan(x) for x in agreement[3:])
    assert out.loc[0, "annotator"] == "al,bo,cy"
    assert out.loc[0, "strength"] == "strong"  # from a vote for the winning verdict
    assert out.loc[0, "note"] == "cy: b is shorter"
    assert out.loc[1, "strength"] is None
    check_pairs(out)


def test_majority_edit_comes_from_a_winning_vote(df: pd.DataFrame, store: LabelStore) -> None:
    pid = df.loc[0, "pair_id"]
    _label(store, pid, "al", "a", edited_preferred="A by al")
    _label(store, pid, "bo", "a")
    _label(store, pid, "cy", "b", edited_preferred="B by cy")
    out = apply_labels(df, store, policy="majority")
    assert out.loc[0, "edited_preferred"] == "A by al"


def test_unknown_pairs_warn_with_count_and_ids(df: pd.DataFrame, store: LabelStore) -> None:
    _label(store, df.loc[0, "pair_id"], "al", "a")
    for i in range(7):
        _label(store, f"gone-{i}", "al", "b")
    with pytest.warns(UnknownPairsWarning, match=r"7 labeled pair\(s\) are not in") as rec:
        out = apply_labels(df, store)
    message = str(rec[0].message)
    assert str(store.path) in message
    assert "gone-0, gone-1, gone-2, gone-3, gone-4, ..." in message
    assert out.loc[0, "label"] == "a"


def test_unknown_pairs_raise_with_strict(df: pd.DataFrame, store: LabelStore) -> None:
    _label(store, "gone", "al", "b")
    with pytest.raises(LabelStoreError, match=r"1 labeled pair\(s\) by 'al' are not in.*gone"):
        apply_labels(df, store, annotator="al", strict=True)


def test_dataframe_is_checked(df: pd.DataFrame, store: LabelStore) -> None:
    with pytest.raises(PairSchemaError, match="response_b"):
        apply_labels(df.drop(columns=["response_b"]), store)
    with pytest.raises(ValueError, match="policy must be 'latest', 'majority' or 'adjudicated'"):
        apply_labels(df, store, policy="vote")  # type: ignore[arg-type]


def test_accepts_a_path_and_is_exported_from_prefnb(df: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    with prefnb.LabelStore(path) as s:
        _label(s, df.loc[4, "pair_id"], "al", "b")
    out = prefnb.apply_labels(df, path)
    assert out["label"].tolist() == [None, None, None, None, "b"]
