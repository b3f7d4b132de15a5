"""Tests for the pair-table schema (prefnb.pairs)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from prefnb.pairs import (
    FULL_CHECK_MAX_ROWS,
    PairSchemaError,
    check_pairs,
    pair_id,
    pairs_frame,
    validate_frame,
)


def _frame() -> pd.DataFrame:
    return pairs_frame(
        [
            {"prompt": "2+2?", "response_a": "4", "response_b": "5", "label": "a"},
            {
                "prompt": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Capital of France?"},
                ],
                "response_a": "Paris",
                "response_b": "Lyon",
                "custom": 7,
            },
        ]
    )


def test_pairs_frame_normalizes_and_passes_unknown_columns() -> None:
    df = _frame()
    assert list(df.columns) == ["pair_id", "prompt", "response_a", "response_b", "label", "custom"]
    assert df.loc[0, "prompt"] == [{"role": "user", "content": "2+2?"}]
    assert df.loc[1, "label"] is None
    assert df.loc[1, "custom"] == 7
    check_pairs(df)


def test_pair_id_is_stable_and_content_derived() -> None:
    assert pair_id("q", "a", "b") == pair_id([{"role": "user", "content": "q"}], "a", "b")
    assert pair_id("q", "a", "b") != pair_id("q", "b", "a")
    msgs = [{"role": "user", "content": "q", "name": "x"}]
    assert pair_id(msgs, "a", "b") == pair_id("q", "a", "b")
    assert len(pair_id("q", "a", "b")) == 16


@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [
        ("response_a", 3, "'response_a' must hold strings"),
        ("prompt", math.nan, "'prompt' must hold non-empty lists"),
        ("label", "left", "'label' must be one of"),
    ],
)
def test_check_pairs_names_column_and_rows(column: str, value: object, needle: str) -> None:
    df = _frame()
    df[column] = df[column].astype(object)
    df.at[1, column] = value
    with pytest.raises(PairSchemaError, match=needle) as info:
        check_pairs(df)
    assert info.value.column == column
    assert info.value.rows == [1]
    assert "rows 1" in str(info.value)


def test_check_pairs_missing_column() -> None:
    with pytest.raises(PairSchemaError, match="missing required column 'label'") as info:
        check_pairs(_frame().drop(columns=["label"]))
    assert info.value.column == "label"


def test_check_pairs_optional_columns() -> None:
    df = _frame()
    df["strength"] = ["clear", "huge"]
    with pytest.raises(PairSchemaError, match="'strength' must be one of") as info:
        check_pairs(df)
    assert info.value.rows == [1]


def test_duplicate_pair_ids_rejected() -> None:
    df = pd.concat([_frame(), _frame()], ignore_index=True)
    with pytest.raises(PairSchemaError, match="unique") as info:
        check_pairs(df)
    assert info.value.rows == [0, 1, 2, 3]


def test_pair_id_accepts_lone_surrogates() -> None:
    assert pair_id("q\ud800", "a", "b") != pair_id("q", "a", "b")


def _big_frame(n: int) -> pd.DataFrame:
    """A valid pair table of ``n`` rows, built column-wise (pairs_frame is per row)."""
    ids = [f"{i:016x}" for i in range(n)]
    prompt = [[{"role": "user", "content": "q"}]] * n
    return pd.DataFrame(
        {"pair_id": ids, "prompt": prompt, "response_a": ["x"] * n, "response_b": ["y"] * n,
         "label": [None] * n}
    )  # fmt: skip


def test_validate_frame_checks_small_frames_row_by_row() -> None:
    df = pairs_frame([{"prompt": "q", "response_a": "x", "response_b": "y"}] * 1)
    validate_frame(df)
    df["label"] = ["maybe"]
    with pytest.raises(PairSchemaError, match=r"'label' must be one of .*\(rows 0\)"):
        validate_frame(df)


def test_validate_frame_large_frames_vectorized_and_still_named() -> None:
    df = _big_frame(FULL_CHECK_MAX_ROWS + 5)
    validate_frame(df)
    df.at[FULL_CHECK_MAX_ROWS + 2, "response_a"] = None
    with pytest.raises(
        PairSchemaError, match=rf"'response_a' must hold strings \(rows {FULL_CHECK_MAX_ROWS + 2}\)"
    ):
        validate_frame(df)
