"""export_sft: prompt + preferred answer as Together conversational lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import prefnb
from prefnb.export import ExportError, export_sft
from prefnb.validation import validate


def test_prompt_plus_preferred_becomes_one_conversation(tmp_path: Path) -> None:
    df = prefnb.pairs_frame(
        [
            {
                "prompt": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hi"},
                ],
                "response_a": "Hello!",
                "response_b": "Greetings, human.",
                "label": "a",
            },
            {
                "prompt": "2+2?",
                "response_a": "5",
                "response_b": "4",
                "label": "b",
                "edited_preferred": "4.",
            },
            {"prompt": "tied", "response_a": "x", "response_b": "y", "label": "tie"},
        ]
    )
    out = tmp_path / "sft.jsonl"
    result = export_sft(df, out)
    assert result.rows_written == {"train": 2}
    assert result.left_out["tie"] == 1
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert rows == [
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
            ]
        },
        {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4."}]},
    ]
    report = validate(out)
    assert report.ok, report
    assert "SFT" in result.summary()


def test_conversational_rules_apply(tmp_path: Path) -> None:
    # prompt ends with an assistant turn: the SFT line would hold two assistants in a row,
    # which Together's role-alternation rule rejects.
    df = prefnb.pairs_frame(
        [
            {
                "prompt": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
                "response_a": "x",
                "response_b": "y",
                "label": "a",
            },
            {"prompt": "fine", "response_a": "x", "response_b": "y", "label": "a"},
        ]
    )
    out = tmp_path / "sft.jsonl"
    with pytest.raises(ExportError, match=r"row 0 .*messages\[2\]\.role.*alternate"):
        export_sft(df, out)
    assert not out.exists()
    result = export_sft(df, out, on_invalid="drop")
    assert result.left_out["invalid"] == 1
    assert result.rows_written == {"train": 1}


def test_sft_split_is_grouped_by_prompt(tmp_path: Path) -> None:
    df = prefnb.pairs_frame(
        [
            {"prompt": f"p{i % 7}", "response_a": f"a{i}", "response_b": f"b{i}", "label": "a"}
            for i in range(40)
        ]
    )
    train, val = tmp_path / "sft_train.jsonl", tmp_path / "sft_val.jsonl"
    result = export_sft(df, train, validation_path=val, val_fraction=0.3, seed=3)

    def prompts(p: Path) -> set[str]:
        return {json.loads(x)["messages"][0]["content"] for x in p.read_text().splitlines()}

    assert not prompts(train) & prompts(val)
    assert result.rows_written["train"] + result.rows_written["validation"] == 40
