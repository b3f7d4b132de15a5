"""ShareGPT, OpenAI-style messages, pairwise judgments and rated multi-completion files."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import prefnb
from prefnb.formats import FormatError, binarize, detect_format, read_pairs
from prefnb.formats.pairwise import preference_label

DATA = Path(__file__).parent / "data"


def test_sharegpt_llama_factory_layout(caplog: pytest.LogCaptureFixture) -> None:
    path = DATA / "sharegpt_dpo.json"
    with pytest.raises(FormatError, match=r"item 4: 'conversations' must end with the turn"):
        read_pairs(path)
    with caplog.at_level(logging.INFO, logger="prefnb.formats"):
        df = read_pairs(path, on_bad_rows="skip")
    assert "read as 'sharegpt'" in caplog.text
    assert "saw keys 'conversations', 'chosen', 'rejected'" in df.attrs["prefnb_detected"]
    assert df.attrs["prefnb_format"] == "sharegpt"
    assert len(df) == 4
    assert df.loc[1, "prompt"] == [
        {"role": "system", "content": "You are a cheerful assistant."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Tell me a joke."},
    ]
    tool = df.loc[2]
    assert [m["role"] for m in tool["prompt"]] == ["user", "assistant", "tool"]
    assert tool["tools"].startswith('[{"name": "weather"')
    assert (df.loc[3, "response_a"], df.loc[3, "response_b"]) == ("Bonjour", "Hola")
    assert df.loc[3, "prompt"] == [{"role": "user", "content": "Say hi in French"}]
    assert set(df["label"]) == {"a"}


def test_openai_messages_with_chosen_and_rejected() -> None:
    path = DATA / "openai_messages.jsonl"
    assert detect_format(path) == "messages"
    with pytest.raises(FormatError, match=r"line 4: 'chosen' must hold exactly one message"):
        read_pairs(path)
    df = read_pairs(path, on_bad_rows="skip")
    assert df["response_a"].tolist() == ["4", "Blue", "ok"]
    assert df.loc[1, "response_b"] == "Dog"
    assert df.loc[1, "id"] == "x2"
    assert df.loc[0, "prompt"][0] == {"role": "system", "content": "Be terse."}


def test_pairwise_judgments_alpaca_eval() -> None:
    path = DATA / "alpaca_eval_annotations.json"
    assert detect_format(path) == "pairwise"
    with pytest.raises(FormatError, match=r"item 7: 'preference' must be 1 .* got int 3"):
        read_pairs(path)
    df = read_pairs(path, on_bad_rows="skip")
    assert df["label"].tolist() == ["a", "b", "tie", "a", "b", "tie", None]
    assert df.loc[0, "model_a"] == "gpt4"
    assert df.loc[0, "model_b"] == "text_davinci_003"
    assert df.loc[1, "prompt"] == [
        {"role": "user", "content": "Translate to German\n\nGood morning"}
    ]
    assert df.loc[3, "preference"] == pytest.approx(1.1834)
    prefnb.check_pairs(df)
    stats = prefnb.stats(df)
    assert stats.labels["tie"] == 2


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (1, "a"),
        (2, "b"),
        (0, "tie"),
        (1.5, "tie"),
        (1.49, "a"),
        (1.51, "b"),
        ("2", "b"),
        (None, None),
    ],
)
def test_preference_values(value: object, label: str | None) -> None:
    assert preference_label(value, "row 1") == label


@pytest.mark.parametrize("value", [3, -1, 0.5, "x", True, float("inf")])
def test_bad_preference_values(value: object) -> None:
    with pytest.raises(FormatError, match="'preference' must be"):
        preference_label(value, "row 1")


def test_pairwise_cli_keys(tmp_path: Path) -> None:
    rows = [{"question": "q", "a1": "x", "a2": "y", "winner": 2}]
    df = read_pairs(
        rows,
        format="pairwise",
        prompt_key="question",
        output_1_key="a1",
        output_2_key="a2",
        preference_key="winner",
    )
    assert df.loc[0, "label"] == "b"


def test_ultrafeedback_raw_annotations_feed_binarize() -> None:
    long = read_pairs(DATA / "ultrafeedback_raw.jsonl")
    assert long.attrs["prefnb_format"] == "multi"
    assert "UltraFeedback" in long.attrs["prefnb_detected"]
    # overall_score wins when present; otherwise the mean of the numeric ratings
    assert long["score"].tolist()[:3] == [9.0, 6.0, 1.0]
    assert long["score"].tolist()[3:] == [5.0, pytest.approx(5 / 3)]
    pairs = binarize(long)
    assert pairs["response_a"].tolist() == ["def rev(s): return s[::-1]", "56"]
    assert pairs.loc[0, "response_b"] == ""  # the empty completion is the worst: kept, visible
    assert pairs.loc[0, "model_b"] == "pythia-12b"


def test_nectar_ranks_and_transcript_prompts() -> None:
    long = read_pairs(DATA / "nectar.jsonl")
    assert "Nectar" in long.attrs["prefnb_detected"]
    assert long.loc[0, "prompt"] == [
        {"role": "user", "content": "What's a good name for a goldfish?"}
    ]
    assert [m["role"] for m in long.loc[3, "prompt"]] == ["user", "assistant", "user"]
    pairs = binarize(long)
    assert pairs[["response_a", "response_b"]].values.tolist() == [
        ["Bubbles", "I cannot help with that."],
        ["1, 2, 3", "one two"],
    ]
    assert pairs[["model_a", "model_b"]].values.tolist()[0] == ["gpt-4", "llama-2-7b-chat"]


def test_per_response_score_columns_in_csv() -> None:
    long = read_pairs(DATA / "score_columns.csv")
    assert long.attrs["prefnb_format"] == "multi"
    assert long["response"].tolist() == ["A dog", "A cat", "A rock", "hi", "hello there", ""]
    assert long["score"].tolist()[:2] == [7.0, 8.0]
    pairs = binarize(long, strategy="all_pairs")
    assert pairs[["response_a", "response_b"]].values.tolist() == [
        ["A cat", "A dog"],
        ["hi", "hello there"],
        ["hi", ""],
        ["hello there", ""],
    ]


def test_hh_rows_with_non_alternating_turns(tmp_path: Path) -> None:
    path = DATA / "hh_nonalternating.jsonl"
    with pytest.raises(FormatError, match=r"line 2: .*'chosen' must continue with exactly one"):
        read_pairs(path)
    df = read_pairs(path, on_bad_rows="skip")
    assert len(df) == 3
    # A prompt with two user turns in a row reads, and stats counts exactly what export
    # writes: Together's current format accepts repeated roles (the `together` profile), so
    # both keep it; the together-1.5.34 rules refuse it.
    stats = prefnb.stats(df)
    assert stats.n_labeled == 3
    assert (
        stats.n_exportable == prefnb.export_dpo(df, tmp_path / "t.jsonl").rows_written["train"] == 3
    )
    old = prefnb.export_dpo(df, tmp_path / "o.jsonl", profile="together-1.5.34", on_invalid="drop")
    assert old.rows_written["train"] == 2
