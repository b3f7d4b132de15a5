"""Queue rules of the Labeler: shuffle, resume, unlabeled-only windows, audits, 1M rows."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from prefnb.labeler.window import (
    AUDIT_MAX_DELAY,
    AUDIT_MIN_DELAY,
    FULL_CHECK_MAX_ROWS,
    LabelWindow,
    validate_frame,
)
from prefnb.pairs import PairSchemaError, pairs_frame


def frame(n: int) -> pd.DataFrame:
    return pairs_frame(
        [
            {"prompt": f"question {i}", "response_a": f"a{i}", "response_b": f"b{i}"}
            for i in range(n)
        ]
    )


def big_frame(n: int) -> pd.DataFrame:
    prompt = [{"role": "user", "content": "q"}]
    return pd.DataFrame(
        {
            "pair_id": [f"{i:016x}" for i in range(n)],
            "prompt": [prompt] * n,
            "response_a": ["left answer"] * n,
            "response_b": ["right answer"] * n,
            "label": [None] * n,
        }
    )


def test_shuffle_is_reproducible_per_pair_and_depends_on_seed() -> None:
    df = frame(200)
    w1 = LabelWindow(df, seed=7)
    w2 = LabelWindow(df.iloc[::-1].reset_index(drop=True), seed=7)  # other order, same pairs
    w3 = LabelWindow(df, seed=8)
    ids = df["pair_id"].tolist()
    shown1 = [w1.shown(p) for p in ids]
    assert shown1 == [w2.shown(p) for p in ids]
    assert shown1 != [w3.shown(p) for p in ids]
    share = shown1.count("ba") / len(ids)
    assert 0.35 < share < 0.65
    assert {LabelWindow(df, seed=7, shuffle=False).shown(p) for p in ids} == {"ab"}


def test_item_puts_sides_in_shown_order() -> None:
    df = frame(50)
    w = LabelWindow(df, seed=1)
    for pos in range(50):
        item = w.item(pos)
        if item["shown"] == "ab":
            assert (item["left"], item["right"]) == (f"a{pos}", f"b{pos}")
        else:
            assert (item["left"], item["right"]) == (f"b{pos}", f"a{pos}")
        assert item["prompt"] == [{"role": "user", "content": f"question {pos}"}]
    audit = w.item(3, audit_shown="ba")
    assert audit["audit"] is True
    assert audit["left"] == "b3"
    assert audit["label"] is None


def test_resume_at_first_unlabeled_and_unlabeled_only_windows() -> None:
    df = frame(10)
    ids = df["pair_id"].tolist()
    labeled = {ids[0]: "a", ids[1]: "b", ids[3]: "tie", "not-in-frame": "a"}
    w = LabelWindow(df, labeled=labeled)
    assert w.first_unlabeled() == 2
    assert w.stats() == {
        "labeled": 3,
        "imported": 0,
        "total": 10,
        "counts": {"a": 1, "b": 1, "tie": 1, "both_bad": 0, "skip": 0},
    }
    assert w.positions(anchor=-1, direction=1, count=3, unlabeled_only=True) == ([2, 4, 5], 6)
    assert w.positions(anchor=-1, direction=1, count=3, unlabeled_only=False) == ([0, 1, 2], 3)
    assert w.positions(anchor=8, direction=1, count=5, unlabeled_only=False) == ([9], 10)
    assert w.positions(anchor=5, direction=-1, count=5, unlabeled_only=True) == ([4, 2], -1)
    assert w.positions(anchor=5, direction=-1, count=2, unlabeled_only=False) == ([4, 3], 2)
    assert w.item(0)["label"] == "a"


def test_imported_labels_count_apart_and_are_done_for_resume_and_filter() -> None:
    df = frame(6)
    df.loc[[0, 2, 3], "label"] = ["a", "tie", "b"]
    ids = df["pair_id"].tolist()
    w = LabelWindow(df, seed=1, labeled={ids[3]: "a"})  # this annotator overruled row 3
    assert w.stats()["labeled"] == 1
    assert w.stats()["imported"] == 2  # rows 0 and 2: imported and not labeled here
    assert w.first_unlabeled() == 0  # imported labels are there to review: resume at row 0
    assert w.positions(anchor=-1, direction=1, count=6, unlabeled_only=True) == ([1, 4, 5], 6)
    assert w.item(0)["imported"] == "a"
    assert w.item(0)["label"] is None
    assert w.item(3)["imported"] == "b"
    assert w.item(3)["label"] == "a"
    assert w.item(1)["imported"] is None
    assert w.item(0, audit_shown="ba")["imported"] is None  # a swap-replay shows no hint
    w.set_label(0, {"label": "b"})  # overruling moves the pair from imported to labeled
    assert (w.stats()["labeled"], w.stats()["imported"]) == (2, 1)
    w.set_label(0, None)  # undo: the imported label counts again
    assert (w.stats()["labeled"], w.stats()["imported"]) == (1, 2)
    assert w.positions(anchor=-1, direction=1, count=6, unlabeled_only=True) == ([1, 4, 5], 6)


def test_labels_and_undo_update_mask_and_counts() -> None:
    df = frame(4)
    w = LabelWindow(df)
    w.set_label(0, {"label": "a"})
    w.set_label(1, {"label": "skip"})
    assert w.first_unlabeled() == 2
    w.set_label(0, {"label": "b"})  # relabel replaces, never double counts
    assert w.stats()["counts"] == {"a": 0, "b": 1, "tie": 0, "both_bad": 0, "skip": 1}
    assert w.stats()["labeled"] == 2
    w.set_label(0, None)
    assert w.first_unlabeled() == 0
    assert w.stats()["labeled"] == 1
    w.set_label(0, None)  # undoing an unlabeled row changes nothing
    assert w.stats()["labeled"] == 1
    for pos in range(4):
        w.set_label(pos, {"label": "tie"})
    assert w.first_unlabeled() == 4  # all labeled: the cursor is past the end
    assert w.stats()["labeled"] == 4 == int(w._labeled.sum())


def test_audit_schedule_is_seeded_and_near_the_rate() -> None:
    df = frame(2000)
    ids = df["pair_id"].tolist()
    w = LabelWindow(df, seed=5, audit_rate=0.05)
    delays = [w.audit_delay(p) for p in ids]
    picked = [d for d in delays if d is not None]
    assert 0.03 < len(picked) / len(ids) < 0.07
    assert all(AUDIT_MIN_DELAY <= d <= AUDIT_MAX_DELAY for d in picked)
    assert delays == [LabelWindow(df, seed=5, audit_rate=0.05).audit_delay(p) for p in ids]
    assert delays != [LabelWindow(df, seed=6, audit_rate=0.05).audit_delay(p) for p in ids]
    assert all(LabelWindow(df, audit_rate=0.0).audit_delay(p) is None for p in ids)
    assert all(LabelWindow(df, audit_rate=1.0).audit_delay(p) is not None for p in ids)


def test_find_by_pair_id_and_row_number() -> None:
    df = frame(5)
    w = LabelWindow(df)
    assert w.find(df["pair_id"][3]) == 3
    assert w.find("#1") == 0
    with pytest.raises(KeyError, match="no pair with pair_id 'nope'"):
        w.find("nope")
    with pytest.raises(KeyError, match=r"outside 1\.\.5"):
        w.find("#9")


def test_bad_prompt_in_a_large_frame_is_reported_on_its_item() -> None:
    df = frame(3)
    df.at[1, "prompt"] = [{"content": "no role"}]
    item = LabelWindow(df).item(1)
    assert item["error"] is not None
    assert "row 1, column 'prompt'" in item["error"]


def test_validate_frame_names_column_and_rows() -> None:
    df = frame(4)
    df["response_b"] = df["response_b"].astype(object)
    df.at[2, "response_b"] = 3
    with pytest.raises(PairSchemaError, match=r"'response_b' must hold strings \(rows 2\)"):
        validate_frame(df)


def test_validate_large_frame_vectorized_still_names_rows() -> None:
    df = big_frame(FULL_CHECK_MAX_ROWS + 10)
    validate_frame(df)
    df.at[FULL_CHECK_MAX_ROWS + 3, "prompt"] = float("nan")
    with pytest.raises(PairSchemaError, match=rf"'prompt'.*rows {FULL_CHECK_MAX_ROWS + 3}\)"):
        validate_frame(df)
    df = big_frame(FULL_CHECK_MAX_ROWS + 10)
    df.at[5, "pair_id"] = df.at[6, "pair_id"]
    with pytest.raises(PairSchemaError, match=r"'pair_id' must be unique.*rows 5, 6"):
        validate_frame(df)


@pytest.mark.slow
def test_million_rows_construct_with_little_memory() -> None:
    df = big_frame(1_000_000)
    ids = df["pair_id"].to_numpy()
    labeled = {str(p): "a" for p in ids[:1000]}
    tracemalloc.start()
    w = LabelWindow(df, seed=1, audit_rate=0.05, labeled=labeled)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert w.first_unlabeled() == 1000
    assert peak < 40_000_000, peak  # a bool mask + hashing the labeled ids, not a copy of df
    positions, end = w.positions(anchor=-1, direction=1, count=10, unlabeled_only=True)
    assert positions == list(range(1000, 1010))
    assert end == 1010
    assert np.asarray(w.positions(anchor=999_995, direction=1, count=10, unlabeled_only=True)[0])[
        -1
    ] == (999_999)
