"""Multi-completion rows → long frame → pairs, for every strategy, with ties and margins."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from prefnb import binarize, read_pairs
from prefnb.formats import FormatError
from prefnb.pairs import check_pairs

DATA = Path(__file__).parent / "data"


def long_frame() -> pd.DataFrame:
    return read_pairs(
        [
            {"prompt": "p1", "responses": ["a", "b", "c", "d"], "scores": [1, 4, 4, 2.5]},
            {"prompt": "p2", "responses": ["x", "y"], "scores": [3, 3]},  # a tie: no pair
            {"prompt": "p3", "responses": ["only"], "scores": [5]},
            {"prompt": "p4", "responses": ["s", "t", "u"], "scores": [None, 2, 1]},
        ]
    )


def as_tuples(df: pd.DataFrame) -> list[tuple[str, str, str, float, float]]:
    return [
        (p[-1]["content"], a, b, sa, sb)
        for p, a, b, sa, sb in zip(
            df["prompt"],
            df["response_a"],
            df["response_b"],
            df["score_a"],
            df["score_b"],
            strict=True,
        )
    ]


def test_long_frame_shape() -> None:
    df = long_frame()
    assert df.attrs["prefnb_format"] == "multi"
    assert list(df.columns[:4]) == ["group", "prompt", "response", "score"]
    assert df["group"].tolist() == [0, 0, 0, 0, 1, 1, 2, 3, 3, 3]
    assert pd.isna(df.loc[7, "score"])


def test_best_vs_worst_skips_ties_single_completions_and_missing_scores() -> None:
    pairs = binarize(long_frame(), strategy="best_vs_worst")
    check_pairs(pairs)
    # Among the equal best scores ("b" and "c" at 4) the first listed wins.
    assert as_tuples(pairs) == [("p1", "b", "a", 4.0, 1.0), ("p4", "t", "u", 2.0, 1.0)]
    assert set(pairs["label"]) == {"a"}


def test_all_pairs_and_min_margin() -> None:
    pairs = binarize(long_frame(), strategy="all_pairs")
    assert as_tuples(pairs) == [
        ("p1", "b", "a", 4.0, 1.0),
        ("p1", "b", "d", 4.0, 2.5),
        ("p1", "c", "a", 4.0, 1.0),
        ("p1", "c", "d", 4.0, 2.5),
        ("p1", "d", "a", 2.5, 1.0),
        ("p4", "t", "u", 2.0, 1.0),
    ]
    wide = binarize(long_frame(), strategy="all_pairs", min_margin=1.5)  # a gap of 1.5 counts
    assert len(wide) == 5
    wider = binarize(long_frame(), strategy="all_pairs", min_margin=2)
    assert as_tuples(wider) == [("p1", "b", "a", 4.0, 1.0), ("p1", "c", "a", 4.0, 1.0)]
    assert binarize(long_frame(), strategy="best_vs_worst", min_margin=3.0)[
        "response_a"
    ].tolist() == ["b"]
    assert len(binarize(long_frame(), min_margin=10)) == 0


def test_best_vs_random_is_seeded_and_respects_margin() -> None:
    frame = read_pairs(
        [
            {"prompt": f"p{i}", "responses": list("abcdef"), "scores": [6, 5, 4, 3, 2, 1]}
            for i in range(30)
        ]
    )
    first = binarize(frame, strategy="best_vs_random", seed=1)
    again = binarize(frame, strategy="best_vs_random", seed=1)
    other = binarize(frame, strategy="best_vs_random", seed=2)
    pd.testing.assert_frame_equal(first, again)
    assert first["response_b"].tolist() != other["response_b"].tolist()
    assert set(first["response_a"]) == {"a"}
    assert set(first["response_b"]) == set("bcdef")  # 30 draws over 5 partners
    margin = binarize(frame, strategy="best_vs_random", min_margin=4, seed=3)
    assert set(margin["response_b"]) <= {"e", "f"}
    # The partner of a group does not depend on the other groups in the frame.
    alone = binarize(frame[frame["group"] == 7], strategy="best_vs_random", seed=1)
    assert alone["response_b"].tolist() == first["response_b"].tolist()[7:8]


def test_ultrafeedback_like_file() -> None:
    frame = read_pairs(DATA / "ultrafeedback_like.jsonl")
    assert frame["model"].tolist() == ["m1", "m2", "m3", "m4", "m1", "m2"]
    assert frame["source"].tolist() == ["evol"] * 6
    pairs = binarize(frame)
    check_pairs(pairs)
    assert len(pairs) == 1  # the all-tied row gives nothing
    row = pairs.iloc[0]
    assert (row["response_a"], row["response_b"], row["model_a"], row["model_b"]) == (
        "7",
        "9",
        "m1",
        "m2",
    )
    assert row["prompt"] == [{"role": "user", "content": "Name a prime."}]
    assert row["source"] == "evol"
    assert pairs.attrs["prefnb_format"] == "binarized:best_vs_worst"


def test_identical_texts_and_duplicate_groups_make_no_extra_pairs() -> None:
    frame = read_pairs(
        [
            {"prompt": "p", "responses": ["same", "same", "low"], "scores": [3, 2, 1]},
            {"prompt": "p", "responses": ["same", "same", "low"], "scores": [3, 2, 1]},
        ]
    )
    pairs = binarize(frame, strategy="all_pairs")
    assert as_tuples(pairs) == [("p", "same", "low", 3.0, 1.0)]


def test_bad_arguments_and_inputs() -> None:
    with pytest.raises(ValueError, match=r"unknown strategy 'best'; choose one of best_vs_worst"):
        binarize(long_frame(), strategy="best")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"min_margin must be a number >= 0"):
        binarize(long_frame(), min_margin=-1)
    with pytest.raises(ValueError, match=r"missing: group, response, score.*format='multi'"):
        binarize(pd.DataFrame({"prompt": ["q"]}))
    with pytest.raises(
        FormatError, match=r"record 0: 'scores' must be a list as long as 'responses'"
    ):
        read_pairs([{"prompt": "q", "responses": ["a", "b"], "scores": [1]}])
    with pytest.raises(
        FormatError, match=r"record 0: scores\[1\] must be a number, got str 'high'"
    ):
        read_pairs([{"prompt": "q", "responses": ["a", "b"], "scores": [1, "high"]}])
    with pytest.raises(FormatError, match=r"completions\[0\] has no text .*keys: model, score"):
        read_pairs([{"instruction": "q", "completions": [{"model": "m", "score": 1}]}])


def test_csv_scores_arrive_as_text_and_still_work(tmp_path: Path) -> None:
    frame = pd.DataFrame({"prompt": ["q"], "responses": [["good", "bad"]], "scores": [["9", "1"]]})
    pairs = binarize(read_pairs(frame))
    assert (pairs.loc[0, "response_a"], pairs.loc[0, "score_a"]) == ("good", 9.0)
