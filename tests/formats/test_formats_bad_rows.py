"""read_pairs(on_bad_rows=…), one tolerant decoding, CSV/Parquet round-trips."""

from __future__ import annotations

import gzip
import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import prefnb
from prefnb.formats import FormatError, read_pairs
from prefnb.formats.read import BadRowsWarning, read_report

HUMAN = "\n\nHuman: "
ASSISTANT = "\n\nAssistant: "


def hh(*turns: str) -> str:
    return "".join((HUMAN if i % 2 == 0 else ASSISTANT) + t for i, t in enumerate(turns))


def write_lines(path: Path, rows: list[Any], newline: str = "\n") -> Path:
    path.write_text("".join(json.dumps(r) + newline for r in rows), encoding="utf-8")
    return path


def _hh_file(tmp_path: Path) -> Path:
    good = {"chosen": hh("hi", "hello"), "rejected": hh("hi", "go away")}
    # two Assistant turns in a row, as in the published HH test splits
    doubled = {
        "chosen": hh("hi", "hello") + ASSISTANT + "again",
        "rejected": hh("hi", "nope"),
    }
    rows = [
        good,
        doubled,
        {"chosen": hh("q2", "a"), "rejected": hh("q2", "b")},
        {"chosen": 3, "rejected": hh("q", "b")},
    ]
    return write_lines(tmp_path / "hh.jsonl", rows)


def test_error_lists_every_bad_row_with_line_field_and_reason(tmp_path: Path) -> None:
    path = _hh_file(tmp_path)
    with pytest.raises(FormatError) as info:
        read_pairs(path)
    message = str(info.value)
    assert "hh.jsonl: 2 bad rows (2 good)" in message
    assert "hh.jsonl line 2: after the 1 messages" in message
    assert "hh.jsonl line 4: 'chosen' must be" in message
    assert "on_bad_rows='skip'" in message
    assert [(b.line, b.field) for b in info.value.bad_rows] == [(2, "chosen"), (4, "chosen")]


def test_skip_and_warn_return_the_good_rows_and_keep_the_bad_ones(tmp_path: Path) -> None:
    path = _hh_file(tmp_path)
    df = read_pairs(path, on_bad_rows="skip")
    assert len(df) == 2
    assert [b["line"] for b in df.attrs["prefnb_bad_rows"]] == [2, 4]
    report = read_report(df)
    assert report.n_skipped == 2
    assert str(report).startswith("hh.jsonl: read 2 rows, skipped 2 bad rows")
    assert "line 4" in report._repr_html_()
    with pytest.warns(BadRowsWarning, match=r"skipped 2 bad rows[\s\S]*hh\.jsonl line 2"):
        assert len(read_pairs(path, on_bad_rows="warn")) == 2
    with pytest.raises(ValueError, match="on_bad_rows must be one of"):
        read_pairs(path, on_bad_rows="drop")  # type: ignore[arg-type]


def test_bad_json_lines_are_bad_rows_too(tmp_path: Path) -> None:
    ok = json.dumps({"prompt": "q", "chosen": "x", "rejected": "y"})
    path = tmp_path / "t.jsonl"
    path.write_bytes((ok + "\n{broken\n[1]\n" + ok.replace("q", "q2") + "\n").encode())
    df = read_pairs(path, on_bad_rows="skip")
    assert len(df) == 2
    reasons = {b["line"]: b["reason"] for b in df.attrs["prefnb_bad_rows"]}
    assert reasons[2].startswith("invalid JSON")
    assert reasons[3] == "expected a JSON object, got an array"


def test_conflicting_labels_and_schema_errors_are_bad_rows(tmp_path: Path) -> None:
    cand = {"prompt": "q", "response_a": "x", "response_b": "y"}
    rows = [
        {**cand, "label": "a"},
        {**cand, "label": "b"},
        {**cand, "prompt": "q2", "strength": "huge"},
    ]
    df = read_pairs(rows, on_bad_rows="skip")
    assert len(df) == 1
    assert [(b["line"], b["field"]) for b in df.attrs["prefnb_bad_rows"]] == [
        (1, "label"),
        (2, "strength"),
    ]


def test_python_json_extras_decode_like_the_validator(tmp_path: Path) -> None:
    # NaN, Infinity and 1e400 are what Python's json (and Together's check) accept
    path = tmp_path / "t.jsonl"
    path.write_bytes(
        b'{"prompt": "q", "chosen": "x", "rejected": "y", "score": NaN}\n'
        b'{"prompt": "q2", "chosen": "x", "rejected": "y", "score": 1e400}\n'
        b'{"prompt": "q3", "chosen": "x", "rejected": "y", "score": -Infinity}\n'
    )
    df = read_pairs(path)
    assert pd.isna(df.loc[0, "score"])
    assert df.loc[1, "score"] == float("inf")
    assert df.loc[2, "score"] == float("-inf")
    report = prefnb.validate(path)
    assert report.n_rows == 3


def test_lone_surrogate_is_a_bad_row_naming_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(
        b'{"prompt": "q", "chosen": "x", "rejected": "y"}\n'
        b'{"prompt": [{"role": "user", "content": "bad \\ud800"}], '
        b'"chosen": [{"role": "assistant", "content": "x"}], '
        b'"rejected": [{"role": "assistant", "content": "y"}]}\n'
    )
    with pytest.raises(FormatError, match=r"t\.jsonl line 2: 'prompt\[0\]\.content' holds a lone"):
        read_pairs(path)
    df = read_pairs(path, on_bad_rows="skip")
    assert len(df) == 1
    # in-memory sources are checked too (pyarrow would raise UnicodeEncodeError otherwise)
    rows = [{"prompt": "q", "chosen": "x\ud800", "rejected": "y"}]
    with pytest.raises(FormatError, match=r"record 0: 'response_a' holds a lone surrogate"):
        read_pairs(rows)


def test_lone_cr_line_ends_split_lines_as_together_does(tmp_path: Path) -> None:
    rows = [{"prompt": f"q{i}", "chosen": "x", "rejected": "y"} for i in range(3)]
    path = write_lines(tmp_path / "cr.jsonl", rows, newline="\r")
    df = read_pairs(path)
    assert df["prompt"].map(lambda p: p[0]["content"]).tolist() == ["q0", "q1", "q2"]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(
        b"".join(
            json.dumps(r).encode() + e for r, e in zip(rows, [b"\r\n", b"\r", b"\n"], strict=False)
        )
    )
    assert len(read_pairs(mixed)) == 3


def test_gzip_jsonl_streams(tmp_path: Path) -> None:
    rows = [{"prompt": f"q{i}", "chosen": "x", "rejected": "y"} for i in range(5)]
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    assert len(read_pairs(path)) == 5


def test_jsonl_decodes_in_blocks_and_keeps_line_numbers(tmp_path: Path) -> None:
    from prefnb.validation import lines

    rows = [{"prompt": f"q{i}", "chosen": "x" * 50, "rejected": "y"} for i in range(20_000)]
    rows[15_000]["chosen"] = 5
    path = write_lines(tmp_path / "big.jsonl", rows)
    assert path.stat().st_size > 2 * lines.BLOCK_BYTES  # several blocks
    with pytest.raises(FormatError, match=r"big\.jsonl line 15001: 'chosen' must be"):
        read_pairs(path)


def test_csv_round_trip_of_a_pair_table(tmp_path: Path) -> None:
    df = prefnb.pairs_frame(
        [
            {"prompt": "2+2?", "response_a": "4", "response_b": "", "label": "a"},
            {
                "prompt": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "hi"},
                ],
                "response_a": 'hello, "friend"\nbye',
                "response_b": "[not json",
            },
        ]
    )
    df.to_csv(tmp_path / "t.csv", index=False)
    back = read_pairs(tmp_path / "t.csv")
    assert back.attrs["prefnb_format"] == "pairs"
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    df.to_parquet(tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(read_pairs(tmp_path / "t.parquet"), df, check_dtype=False)


def test_no_warning_without_bad_rows(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = read_pairs([{"prompt": "q", "chosen": "x", "rejected": "y"}], on_bad_rows="warn")
    assert read_report(df).n_skipped == 0
