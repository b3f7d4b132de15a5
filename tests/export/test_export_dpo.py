"""export_dpo: label handling, left-out counts, validation before writing, atomicity, split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import prefnb
from prefnb.export import ExportError, ExportResult, export_dpo, split_by_prompt
from prefnb.validation import validate


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _table(*rows: dict[str, Any]) -> pd.DataFrame:
    return prefnb.pairs_frame(rows)


@pytest.fixture
def mixed() -> pd.DataFrame:
    return _table(
        {"prompt": "2+2?", "response_a": "4", "response_b": "5", "label": "a"},
        {"prompt": "Capital of France?", "response_a": "Lyon", "response_b": "Paris", "label": "b"},
        {"prompt": "Best color?", "response_a": "Red", "response_b": "Blue", "label": "tie"},
        {"prompt": "Joke?", "response_a": "No.", "response_b": "Nope.", "label": "both_bad"},
        {"prompt": "Skip me", "response_a": "x", "response_b": "y", "label": "skip"},
        {"prompt": "Unlabeled", "response_a": "x", "response_b": "y", "label": None},
    )


def test_labels_map_to_preferred_and_left_out_reasons_are_counted(
    mixed: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "train.jsonl"
    result = export_dpo(mixed, out)
    assert isinstance(result, ExportResult)
    assert result.paths == {"train": out}
    assert result.rows_written == {"train": 2}
    assert result.left_out == {
        "tie": 1,
        "both_bad": 1,
        "skip": 1,
        "unlabeled": 1,
        "empty_output": 0,
        "invalid": 0,
    }
    rows = _rows(out)
    assert rows[0] == {
        "input": {"messages": [{"role": "user", "content": "2+2?"}]},
        "preferred_output": [{"role": "assistant", "content": "4"}],
        "non_preferred_output": [{"role": "assistant", "content": "5"}],
    }
    assert rows[1]["preferred_output"][0]["content"] == "Paris"
    assert rows[1]["non_preferred_output"][0]["content"] == "Lyon"
    assert result.report.ok
    assert validate(out).ok


def test_edited_preferred_replaces_the_preferred_text(tmp_path: Path) -> None:
    df = _table(
        {
            "prompt": "q1",
            "response_a": "old",
            "response_b": "bad",
            "label": "a",
            "edited_preferred": "new and better",
        },
        {
            "prompt": "q2",
            "response_a": "bad",
            "response_b": "kept",
            "label": "b",
            "edited_preferred": None,
        },
    )
    out = tmp_path / "t.jsonl"
    export_dpo(df, out)
    rows = _rows(out)
    assert rows[0]["preferred_output"][0]["content"] == "new and better"
    assert rows[0]["non_preferred_output"][0]["content"] == "bad"
    assert rows[1]["preferred_output"][0]["content"] == "kept"


def test_output_is_compact_utf8_jsonl_with_a_final_newline(tmp_path: Path) -> None:
    df = _table(
        {"prompt": "Grüße 👋", "response_a": '日本語\n"quoted"', "response_b": "", "label": "a"}
    )
    out = tmp_path / "t.jsonl"
    export_dpo(df, out)
    data = out.read_bytes()
    assert data.endswith(b"}\n")
    assert data.count(b"\n") == 1
    assert "Grüße 👋".encode() in data  # written as UTF-8, not \u-escaped
    assert b"\r" not in data
    assert not data.startswith(b"\xef\xbb\xbf")


def test_invalid_row_raises_naming_row_pair_and_path_and_writes_nothing(tmp_path: Path) -> None:
    df = _table(
        {"prompt": "fine", "response_a": "x", "response_b": "y", "label": "a"},
        # A prompt that ends with the assistant is rejected by Together's check.
        {
            "prompt": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
            "response_a": "x",
            "response_b": "y",
            "label": "a",
        },
    )
    bad_id = df.loc[1, "pair_id"]
    out = tmp_path / "t.jsonl"
    with pytest.raises(ExportError) as info:
        export_dpo(df, out)
    message = str(info.value)
    assert "row 1" in message
    assert bad_id in message
    assert "input.messages" in message
    assert "must not be from the assistant" in message
    assert "nothing was written" in message
    assert [f.pair_id for f in info.value.findings] == [bad_id]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind either


def test_invalid_row_leaves_an_existing_file_untouched(tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    out.write_bytes(b"previous content\n")
    df = _table(
        {
            "prompt": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
            "response_a": "x",
            "response_b": "y",
            "label": "b",
        }
    )
    with pytest.raises(ExportError, match="must not be from the assistant"):
        export_dpo(df, out)
    assert out.read_bytes() == b"previous content\n"


def test_drop_leaves_invalid_rows_out_and_counts_them(tmp_path: Path) -> None:
    df = _table(
        {"prompt": "fine", "response_a": "x", "response_b": "y", "label": "a"},
        {
            "prompt": [{"role": "narrator", "content": "42"}],
            "response_a": "x",
            "response_b": "y",
            "label": "a",
        },
        {"prompt": "also fine", "response_a": "x", "response_b": "y", "label": "tie"},
    )
    out = tmp_path / "t.jsonl"
    result = export_dpo(df, out, on_invalid="drop")
    assert result.rows_written == {"train": 1}
    assert result.left_out["invalid"] == 1
    assert result.left_out["tie"] == 1
    assert result.left_out_rows["invalid"] == [df.loc[1, "pair_id"]]
    assert _rows(out)[0]["input"]["messages"][0]["content"] == "fine"


def test_strict_profile_rejects_what_together_accepts(tmp_path: Path) -> None:
    df = _table({"prompt": "q", "response_a": "   ", "response_b": "y", "label": "a"})
    export_dpo(df, tmp_path / "together.jsonl")  # Together's check allows blank content
    with pytest.raises(ExportError, match="strict"):
        export_dpo(df, tmp_path / "strict.jsonl", profile="strict")
    assert not (tmp_path / "strict.jsonl").exists()


def test_unencodable_text_is_an_invalid_row_not_a_crash(tmp_path: Path) -> None:
    # A lone surrogate (e.g. from a badly decoded file) fits only an object-dtype frame.
    df = pd.DataFrame(
        {
            "pair_id": ["p0", "p1"],
            "prompt": [[{"role": "user", "content": "q"}], [{"role": "user", "content": "r"}]],
            "response_a": ["lone surrogate \ud800", "x"],
            "response_b": ["y", "y"],
            "label": ["a", "a"],
        },
        dtype=object,
    )
    with pytest.raises(ExportError, match=r"row 0 .*cannot be written as JSON"):
        export_dpo(df, tmp_path / "t.jsonl")
    result = export_dpo(df, tmp_path / "t.jsonl", on_invalid="drop")
    assert result.left_out["invalid"] == 1
    assert result.rows_written == {"train": 1}


def test_nothing_to_export_is_a_clear_error(tmp_path: Path) -> None:
    df = _table(
        {"prompt": "q", "response_a": "x", "response_b": "y", "label": "tie"},
        {"prompt": "r", "response_a": "x", "response_b": "y"},
    )
    with pytest.raises(ExportError, match=r"nothing to export.*1 tie, 1 unlabeled"):
        export_dpo(df, tmp_path / "t.jsonl")
    assert not (tmp_path / "t.jsonl").exists()


def test_schema_problems_are_reported_by_check_pairs(tmp_path: Path) -> None:
    df = _table({"prompt": "q", "response_a": "x", "response_b": "y", "label": "a"})
    df.loc[0, "label"] = "A"
    with pytest.raises(prefnb.PairSchemaError, match="label"):
        export_dpo(df, tmp_path / "t.jsonl")
    with pytest.raises(prefnb.PairSchemaError, match="response_b"):
        export_dpo(df.drop(columns=["response_b"]), tmp_path / "t.jsonl")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"val_fraction": 0.2}, "needs validation_path"),
        ({"validation_path": "v.jsonl"}, "needs val_fraction > 0"),
        ({"val_fraction": 1.0, "validation_path": "v.jsonl"}, r"in \[0, 1\)"),
        ({"val_fraction": -0.1, "validation_path": "v.jsonl"}, r"in \[0, 1\)"),
        ({"on_invalid": "ignore"}, "'raise' or 'drop'"),
    ],
)
def test_bad_arguments_are_refused_before_writing(
    mixed: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kwargs: dict[str, Any],
    match: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=match):
        export_dpo(mixed, tmp_path / "t.jsonl", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_target_must_be_jsonl_in_an_existing_directory(mixed: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"only \.jsonl"):
        export_dpo(mixed, tmp_path / "t.json")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export_dpo(mixed, tmp_path / "missing" / "t.jsonl")
    with pytest.raises(ValueError, match="same file"):
        export_dpo(
            mixed, tmp_path / "t.jsonl", validation_path=tmp_path / "t.jsonl", val_fraction=0.5
        )


def _many(n_prompts: int, per_prompt: int) -> pd.DataFrame:
    return _table(
        *(
            {
                "prompt": f"prompt {p}",
                "response_a": f"good {p}.{k}",
                "response_b": f"bad {p}.{k}",
                "label": "a" if k % 2 else "b",
            }
            for p in range(n_prompts)
            for k in range(per_prompt)
        )
    )


def _prompts(path: Path) -> set[str]:
    return {r["input"]["messages"][0]["content"] for r in _rows(path)}


def test_split_is_grouped_by_prompt_and_deterministic(tmp_path: Path) -> None:
    df = _many(20, 3)
    train, val = tmp_path / "train.jsonl", tmp_path / "val.jsonl"
    result = export_dpo(df, train, validation_path=val, val_fraction=0.25, seed=7)
    assert result.paths == {"train": train, "validation": val}
    assert result.rows_written["train"] + result.rows_written["validation"] == 60
    assert 15 <= result.rows_written["validation"] <= 18
    assert not _prompts(train) & _prompts(val)
    assert not any(
        f.code == "warning.prompt_in_train_and_validation" for f in result.report.findings
    )
    first = (train.read_bytes(), val.read_bytes())
    export_dpo(df, train, validation_path=val, val_fraction=0.25, seed=7)
    assert (train.read_bytes(), val.read_bytes()) == first
    # Row order does not change the split, only the seed does.
    export_dpo(df.iloc[::-1], train, validation_path=val, val_fraction=0.25, seed=7)
    assert _prompts(val) == {
        r["input"]["messages"][0]["content"] for r in (json.loads(x) for x in first[1].splitlines())
    }
    export_dpo(df, train, validation_path=val, val_fraction=0.25, seed=8)
    assert val.read_bytes() != first[1]


def test_split_needs_two_prompts(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="distinct prompt"):
        export_dpo(
            _many(1, 4),
            tmp_path / "t.jsonl",
            validation_path=tmp_path / "v.jsonl",
            val_fraction=0.5,
        )
    assert list(tmp_path.iterdir()) == []


def test_split_by_prompt_keeps_groups_together_and_both_sides_non_empty() -> None:
    keys = ["a"] * 5 + ["b"] * 1 + ["c"] * 2
    for seed in range(20):
        flags = split_by_prompt(keys, 0.01, seed)
        assert any(flags)
        assert not all(flags)
        for key in set(keys):
            assert len({f for k, f in zip(keys, flags, strict=True) if k == key}) == 1
    assert split_by_prompt(keys, 0.99, 0).count(False) >= 1


def test_unwritable_validation_target_leaves_both_files_untouched(
    mixed: pd.DataFrame, tmp_path: Path
) -> None:
    df = _many(10, 2)
    train, val = tmp_path / "train.jsonl", tmp_path / "val.jsonl"
    train.write_bytes(b"old train\n")
    val.mkdir()  # the validation target is a directory: refused before anything is written
    with pytest.raises(IsADirectoryError):
        export_dpo(df, train, validation_path=val, val_fraction=0.3)
    assert train.read_bytes() == b"old train\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.jsonl", "val.jsonl"]


def test_sample_dataset_exports_clean(tmp_path: Path) -> None:
    df = prefnb.load_sample()
    out, val = tmp_path / "train.jsonl", tmp_path / "val.jsonl"
    result = export_dpo(
        df, out, validation_path=val, val_fraction=0.2, profile="strict", on_invalid="drop"
    )
    assert result.rows_written["train"] > 0
    assert result.rows_written["validation"] > 0
    assert validate(out, "strict").ok
    assert validate(val, "strict").ok
    labeled = int(df["label"].isin(["a", "b"]).sum())
    assert result.n_written + result.left_out["invalid"] == labeled
    assert result.n_written + result.n_left_out == len(df)


def test_result_renders_for_humans_and_notebooks(mixed: pd.DataFrame, tmp_path: Path) -> None:
    result = export_dpo(mixed, tmp_path / "t.jsonl")
    text = repr(result)
    assert "train=" in text
    assert "(2 rows)" in text
    assert "'tie': 1" in text
    assert "left out 4 rows: 1 tie, 1 both_bad, 1 skip, 1 unlabeled" in result.summary()
    page = result._repr_html_()
    assert "<table>" in page
    assert "t.jsonl" in page
    assert "1 tie" in page


def _split_reference(keys: list[str], val_fraction: float, seed: int) -> list[bool]:
    # the split as first written (shuffling the keys themselves): it must not move
    import random

    counts: dict[str, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    groups = sorted(counts)
    random.Random(seed).shuffle(groups)
    target = val_fraction * len(keys)
    chosen: set[str] = set()
    n_val = 0
    for key in groups[:-1]:
        if chosen and n_val >= target:
            break
        chosen.add(key)
        n_val += counts[key]
    return [key in chosen for key in keys]


@pytest.mark.parametrize("seed", range(6))
def test_split_by_prompt_is_the_split_it_always_was(seed: int) -> None:
    import random

    rng = random.Random(seed)
    keys = [f"p{rng.randrange(40)}" for _ in range(300)]
    for fraction in (0.05, 0.2, 0.5):
        assert split_by_prompt(keys, fraction, seed) == _split_reference(keys, fraction, seed)
