"""Streaming conversion between line formats (prefnb.formats.convert)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from prefnb.formats import FormatError, read_pairs
from prefnb.formats.convert import convert_lines, streams
from prefnb.validation import validate


def _lines(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _hh(q: str, good: str, bad: str) -> dict[str, str]:
    head = f"\n\nHuman: {q}\n\nAssistant: "
    return {"chosen": head + good, "rejected": head + bad}


def test_streamed_dpo_equals_the_in_memory_export(tmp_path: Path) -> None:
    rows = [_hh(f"q{i}", f"good {i}", f"bad {i}") for i in range(5000)]
    rows[10] = rows[3]  # a duplicate pair: dropped, as read_pairs drops it
    rows[20] = {"chosen": "\n\nHuman: x\n\nAssistant: a\n\nAssistant: b", "rejected": "no"}
    src = _lines(tmp_path / "hh.jsonl", rows)
    assert streams(src) == "hh"
    out = tmp_path / "out.jsonl"
    with pytest.raises(FormatError, match=r"hh\.jsonl line 21: "):
        convert_lines(src, out)
    assert not out.exists()
    result = convert_lines(src, out, on_bad_rows="skip")
    assert result.duplicates == 1
    assert [b.line for b in result.bad_rows] == [21]
    assert result.written == 4998
    assert "wrote 4998 DPO lines" in result.summary()
    assert validate(out).ok
    expected = read_pairs(src, on_bad_rows="skip")
    back = read_pairs(out)
    assert back["response_a"].tolist() == expected["response_a"].tolist()
    assert back["prompt"].tolist() == expected["prompt"].tolist()


def test_invalid_lines_raise_or_are_dropped(tmp_path: Path) -> None:
    ok = {"prompt": "q", "chosen": "x", "rejected": "y"}
    # a prompt ending with the assistant: readable, but Together refuses the line
    bad = {
        "prompt": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
        "chosen": [{"role": "assistant", "content": "c"}],
        "rejected": [{"role": "assistant", "content": "d"}],
    }
    src = _lines(tmp_path / "t.jsonl", [ok, bad, ok | {"prompt": "q2"}, bad | {"x": 1}])
    out = tmp_path / "o.jsonl"
    with pytest.raises(FormatError, match=r"converted row 2 would be an invalid DPO line"):
        convert_lines(src, out, format="trl_conversational")
    result = convert_lines(src, out, format="trl", on_invalid="drop")
    assert (result.written, result.invalid) == (2, 2)
    assert len(out.read_text().splitlines()) == 2
    trl = convert_lines(src, tmp_path / "t2.jsonl", to="trl")
    assert (trl.written, trl.duplicates) == (3, 1)  # the last row repeats the second pair


def test_not_streamable_inputs(tmp_path: Path) -> None:
    pairwise = _lines(
        tmp_path / "p.jsonl",
        [{"instruction": "q", "output_1": "a", "output_2": "b", "preference": 2}],
    )
    assert streams(pairwise) is None
    assert streams(tmp_path / "x.csv") is None
    with pytest.raises(FormatError, match="does not convert as a stream"):
        convert_lines(pairwise, tmp_path / "o.jsonl")


def _trl_rows(n: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(n):
        # prompts repeat (groups of rows), some pairs repeat, one has identical outputs
        rows.append({"prompt": f"q{i % 37}", "chosen": f"good {i % 211}", "rejected": f"bad {i}"})
    rows[5] = rows[4]
    rows[9] = {"prompt": "same", "chosen": "x", "rejected": "x"}
    return rows


@pytest.mark.parametrize(("to", "seed"), [("dpo", 0), ("dpo", 7), ("sft", 3)])
def test_streamed_validation_split_equals_the_in_memory_export(
    tmp_path: Path, to: str, seed: int
) -> None:
    from prefnb.export import export_dpo, export_sft

    src = _lines(tmp_path / "trl.jsonl", _trl_rows(800))
    out, val = tmp_path / "t.jsonl", tmp_path / "v.jsonl"
    result = convert_lines(src, out, to=to, validation_path=val, val_fraction=0.2, seed=seed)
    assert result.duplicates == 1
    assert result.written + result.written_validation == 799
    assert result.written_validation >= 0.2 * 799
    assert f"(train)\nwrote {result.written_validation} {to.upper()} lines to {val}" in (
        result.summary()
    )
    export = export_dpo if to == "dpo" else export_sft
    df = read_pairs(src)
    mem_out, mem_val = tmp_path / "mt.jsonl", tmp_path / "mv.jsonl"
    export(df, mem_out, validation_path=mem_val, val_fraction=0.2, seed=seed)
    assert out.read_bytes() == mem_out.read_bytes()
    assert val.read_bytes() == mem_val.read_bytes()
    # the warnings name each file and its own lines
    codes = {(f.code, f.file) for f in result.warnings}
    where = str(val) if b'"content":"same"' in val.read_bytes() else str(out)
    if to == "dpo":
        assert ("warning.identical_outputs", where) in codes
    assert not any(c == "warning.prompt_in_train_and_validation" for c, _f in codes)


def test_streamed_split_refusals_write_nothing(tmp_path: Path) -> None:
    src = _lines(
        tmp_path / "one.jsonl",
        [{"prompt": "q", "chosen": f"a{i}", "rejected": "b"} for i in range(5)],
    )
    out, val = tmp_path / "t.jsonl", tmp_path / "v.jsonl"
    with pytest.raises(ValueError, match="need at least 2"):
        convert_lines(src, out, validation_path=val, val_fraction=0.5)
    with pytest.raises(ValueError, match="to='dpo' and to='sft' only"):
        convert_lines(src, out, to="trl", validation_path=val, val_fraction=0.5)
    with pytest.raises(ValueError, match="needs val_fraction > 0"):
        convert_lines(src, out, validation_path=val)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.jsonl"]


def test_streamed_sft_drops_repeated_pairs_as_the_in_memory_export(tmp_path: Path) -> None:
    from prefnb.export import export_sft

    src = _lines(tmp_path / "trl.jsonl", _trl_rows(300))
    out, mem = tmp_path / "s.jsonl", tmp_path / "m.jsonl"
    result = convert_lines(src, out, to="sft")
    assert result.duplicates == 1
    export_sft(read_pairs(src), mem)
    assert out.read_bytes() == mem.read_bytes()
