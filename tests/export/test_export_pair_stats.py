"""prefnb.stats: counts, labels, annotators, lengths, length bias, duplicates, renderings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import prefnb
from prefnb.pair_stats import LengthSummary, PairStats, stats

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_PAIRS = ROOT / "prefnb" / "data" / "sample_pairs.jsonl"


def test_counts_labels_annotators_and_duplicates() -> None:
    df = prefnb.pairs_frame(
        [
            {
                "prompt": "q",
                "response_a": "x",
                "response_b": "yy",
                "label": "a",
                "annotator": "ann",
            },
            {
                "prompt": "q",
                "response_a": "yy",
                "response_b": "x",
                "label": "b",
                "annotator": "bob",
            },
            {
                "prompt": [
                    {"role": "system", "content": "sys"},
                    {"role": "user", "content": "u1"},
                    {"role": "assistant", "content": "a1"},
                    {"role": "user", "content": "u2"},
                ],
                "response_a": "same",
                "response_b": " same ",
                "label": "tie",
                "annotator": "ann",
            },
            {"prompt": "r", "response_a": "1", "response_b": "2", "label": None, "annotator": None},
        ]
    )
    s = stats(df)
    assert s.n_pairs == 4
    assert s.n_prompts == 3
    assert s.labels == {"a": 1, "b": 1, "tie": 1, "both_bad": 0, "skip": 0, "unlabeled": 1}
    assert s.n_labeled == 2
    assert s.annotators == {"ann": 2, "bob": 1}
    assert s.duplicate_pairs == 1  # the second row swaps the first one's responses
    assert s.duplicate_pair_ids == [df.loc[1, "pair_id"]]
    assert s.identical_responses == 1
    assert s.multi_turn_prompts == 1
    assert s.system_prompts == 1
    assert s.prompt_chars == LengthSummary.of([1, 1, 3 + 2 + 2 + 2, 1])
    assert s.preferred_chars.mean == 1.0
    assert s.rejected_chars.mean == 2.0


def test_length_bias_uses_the_validators_measure() -> None:
    rows = [
        {
            "prompt": f"q{i}",
            "response_a": "long answer " * (i + 2),
            "response_b": "short",
            "label": "a",
        }
        for i in range(25)
    ]
    s = stats(prefnb.pairs_frame(rows))
    assert s.length_bias is not None
    assert s.length_bias["share_preferred_longer"] == 1.0
    assert s.length_bias["strong"] is True
    assert "STRONG" in s.text()
    assert (
        stats(
            prefnb.pairs_frame([{"prompt": "q", "response_a": "x", "response_b": "y"}])
        ).length_bias
        is None
    )


def test_length_summary_and_token_estimate() -> None:
    summary = LengthSummary.of(list(range(1, 101)))
    assert (summary.min, summary.median, summary.p95, summary.max) == (1, 50.5, 95.0, 100)
    assert summary.tokens_max == 25
    assert LengthSummary.of([]).text() == "—"


def test_sample_file_text_json_and_html() -> None:
    s = stats(SAMPLE_PAIRS)
    assert isinstance(s, PairStats)
    assert s.source == str(SAMPLE_PAIRS)
    assert s.n_pairs == len(prefnb.read_pairs(SAMPLE_PAIRS)) >= 50
    doc = json.loads(json.dumps(s.to_dict()))  # JSON-ready: no NaN, no numpy types
    assert doc["n_pairs"] == s.n_pairs
    assert set(doc["lengths"]) == {"prompt", "response", "preferred", "rejected"}
    text = str(s)
    assert text.startswith(f"PairStats of {SAMPLE_PAIRS}")
    assert "labels" in text
    assert "length bias" in text
    page = s._repr_html_()
    assert "<table>" in page
    assert f"{s.n_pairs} pairs" in page


def test_html_escapes_hostile_annotator_names() -> None:
    df = prefnb.pairs_frame(
        [
            {
                "prompt": "q",
                "response_a": "x",
                "response_b": "y",
                "label": "a",
                "annotator": "<img src=x onerror=alert(1)>",
            }
        ]
    )
    page = stats(df)._repr_html_()
    assert "<img" not in page
    assert "&lt;img" in page


def test_missing_columns_are_named() -> None:
    df = prefnb.pairs_frame([{"prompt": "q", "response_a": "x", "response_b": "y"}])
    with pytest.raises(ValueError, match="response_b"):
        stats(df.drop(columns=["response_b"]))


def test_duplicates_dropped_by_the_reader_are_still_counted(tmp_path: Path) -> None:
    line = (
        '{"input": {"messages": [{"role": "user", "content": "q"}]}, '
        '"preferred_output": [{"role": "assistant", "content": "x"}], '
        '"non_preferred_output": [{"role": "assistant", "content": "y"}]}\n'
    )
    swapped = line.replace('"x"', '"TMP"').replace('"y"', '"x"').replace('"TMP"', '"y"')
    f = tmp_path / "dups.jsonl"
    f.write_text(line * 3 + swapped, encoding="utf-8")
    s = stats(f, format="together")
    assert s.n_pairs == 2  # the reader keeps one copy of the exact repeats
    assert s.duplicate_pairs == 3  # two exact repeats + one with the responses swapped
