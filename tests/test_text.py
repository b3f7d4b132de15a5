"""prefnb.text: one flattener, one token estimate, one row iterator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prefnb.text import estimate_tokens, records, text_length, text_of


def test_text_of_strings_parts_and_arrays() -> None:
    parts = [
        {"type": "text", "text": "ab"},
        {"type": "image_url", "image_url": {}},
        {"type": "text", "text": "c"},
    ]
    assert text_of("plain") == "plain"
    assert text_of(parts) == "ab\nc"
    assert text_of(parts, "") == "abc"
    assert text_of(np.array(parts, dtype=object)) == "ab\nc"
    assert text_of(None) == ""
    assert text_length(parts) == 3


def test_estimate_tokens_rounds_up() -> None:
    assert [estimate_tokens("x" * n) for n in (0, 1, 4, 5)] == [0, 1, 1, 2]


def test_records_keep_order_and_handle_duplicate_columns() -> None:
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert records(df) == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.warns(UserWarning, match="not unique"):  # pandas keeps one of them
        assert len(records(dup)) == 1
