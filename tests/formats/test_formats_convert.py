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
    with pytest.raises(FormatError, match=r"t\.jsonl line 2 would make an invalid DPO line"):
        convert_lines(src, out, format="trl_conversational")
    result = convert_lines(src, out, format="trl", on_invalid="drop")
    # the last row repeats the second pair: a duplicate (as read_pairs drops it), not invalid
    assert (result.written, result.invalid, result.duplicates) == (2, 1, 1)
    assert len(out.read_text().splitlines()) == 2
    trl = convert_lines(src, tmp_path / "t2.jsonl", to="trl")
    assert (trl.written, trl.duplicates) == (3, 1)  # the last row repeats the second pair


def test_not_streamable_inputs(tmp_path: Path) -> None:
    array = tmp_path / "p.json"
    array.write_text(json.dumps([{"prompt": "q", "chosen": "a", "rejected": "b"}]))
    assert streams(array) is None
    assert streams(tmp_path / "x.csv") is None
    with pytest.raises(FormatError, match="only JSON-lines files convert as a stream"):
        convert_lines(array, tmp_path / "o.jsonl")


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


DATA = Path(__file__).parent / "data"


def _in_memory(src: Path, out: Path, to: str, strategy: str = "best_vs_worst", **kw: Any) -> Any:
    """What read_pairs and the exporters write from ``src``: the reference for streaming."""
    from prefnb.export import export_dpo, export_sft
    from prefnb.formats import binarize
    from prefnb.formats.writers import write_trl

    df = read_pairs(src, on_bad_rows="skip")
    if df.attrs.get("prefnb_format") == "multi":
        df = binarize(df, strategy=strategy)  # type: ignore[arg-type]
    if to == "trl":
        return write_trl(df, out)
    return (export_dpo if to == "dpo" else export_sft)(df, out, **kw)


def _pairwise_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((DATA / "alpaca_eval_annotations.json").read_text())
    rows += [
        {"instruction": f"q{i}", "output_1": f"one {i}", "output_2": f"two {i}",
         "preference": (1, 2, 0, 1.5, 1.2, 1.8, None)[i % 7]}
        for i in range(60)
    ]  # fmt: skip
    rows.append(dict(rows[-5]))  # the same pair, the same preference: a duplicate
    rows.append(dict(rows[-4], preference=3))  # not a preference value: a bad row
    return rows


@pytest.mark.parametrize("to", ["dpo", "sft", "trl"])
def test_streamed_pairwise_equals_the_in_memory_export(tmp_path: Path, to: str) -> None:
    src = _lines(tmp_path / "pairwise.jsonl", _pairwise_rows())
    assert streams(src) == "pairwise"
    out, mem = tmp_path / "s.jsonl", tmp_path / "m.jsonl"
    with pytest.raises(FormatError, match=r"pairwise\.jsonl line 70: 'preference' must be"):
        convert_lines(src, out, to=to)
    assert not out.exists()
    result = convert_lines(src, out, to=to, on_bad_rows="skip")
    reference = _in_memory(src, mem, to)
    assert out.read_bytes() == mem.read_bytes()
    assert result.duplicates == 1
    assert [b.line for b in result.bad_rows] == [8, 70]  # line 8: the fixture's own
    if to != "trl":
        assert result.written == reference.rows_written["train"]
        for reason in ("tie", "unlabeled"):
            assert result.left_out[reason] == reference.left_out[reason] > 0
        assert "tie" in result.summary()


def test_a_pair_read_again_with_another_label_is_a_bad_row(tmp_path: Path) -> None:
    rows = [
        {"prompt": "q", "response_a": "x", "response_b": "y", "label": "a"},
        {"prompt": "r", "response_a": "x", "response_b": "y", "label": "tie"},
        {"prompt": "q", "response_a": "x", "response_b": "y", "label": "B"},  # conflict
        {"prompt": "r", "response_a": "x", "response_b": "y", "label": "tie"},  # duplicate
        {"prompt": "q", "response_a": "x", "response_b": "y", "label": "A"},  # duplicate
    ]
    src = _lines(tmp_path / "cands.jsonl", rows)
    out = tmp_path / "o.jsonl"
    with pytest.raises(FormatError) as err:
        convert_lines(src, out)
    assert "cands.jsonl line 3: same pair as cands.jsonl line 1 but labeled 'b' here and 'a'" in (
        str(err.value)
    )
    assert not out.exists()
    result = convert_lines(src, out, on_bad_rows="skip")
    assert (result.written, result.duplicates, result.left_out["tie"]) == (1, 2, 1)
    assert result.n_read == 4
    with pytest.raises(FormatError, match="same pair as"):
        read_pairs(src)  # the in-memory reader says the same


def test_streamed_candidates_and_pair_tables_equal_the_in_memory_export(tmp_path: Path) -> None:
    import pandas as pd

    from prefnb.formats.writers import write_pairs

    labels = ["A", "b", "tie", "both_bad", "skip", None, "response_a"]
    rows = [
        {"prompt": f"q{i % 40}", "response_a": f"x{i}", "response_b": f"y{i}",
         "label": labels[i % len(labels)]}
        for i in range(300)
    ]  # fmt: skip
    rows[7]["edited_preferred"] = "a better answer, edited"
    rows[8]["edited_preferred"] = 5  # must be text: a bad row
    src = _lines(tmp_path / "cands.jsonl", rows)
    assert streams(src) == "candidates"
    out, mem, val, mem_val = (tmp_path / n for n in ("s.jsonl", "m.jsonl", "sv.jsonl", "mv.jsonl"))
    result = convert_lines(src, out, on_bad_rows="skip", validation_path=val, val_fraction=0.25)
    reference = _in_memory(src, mem, "dpo", validation_path=mem_val, val_fraction=0.25)
    assert out.read_bytes() == mem.read_bytes()
    assert val.read_bytes() == mem_val.read_bytes()
    assert [(b.line, b.field) for b in result.bad_rows] == [(9, "edited_preferred")]
    for reason in ("tie", "both_bad", "skip", "unlabeled"):
        assert result.left_out[reason] == reference.left_out[reason] > 0
    assert b"a better answer, edited" in out.read_bytes() + val.read_bytes()

    # prefnb's own pair table (format "pairs", ids kept as written) streams too
    table = tmp_path / "table.jsonl"
    write_pairs(read_pairs(src, on_bad_rows="skip"), table)
    assert streams(table) == "pairs"
    convert_lines(table, out, to="sft")
    _in_memory(table, mem, "sft")
    assert out.read_bytes() == mem.read_bytes()
    assert len(pd.read_json(out, lines=True)) > 0


@pytest.mark.parametrize("strategy", ["best_vs_worst", "best_vs_random", "all_pairs"])
@pytest.mark.parametrize(
    "name", ["nectar.jsonl", "ultrafeedback_like.jsonl", "ultrafeedback_raw.jsonl"]
)
def test_streamed_rated_files_equal_binarize_then_export(
    tmp_path: Path, name: str, strategy: str
) -> None:
    raw = [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]
    src = _lines(tmp_path / name, raw + raw[:1])  # the first prompt again: duplicate pairs
    assert streams(src) == "multi"
    out, mem = tmp_path / "s.jsonl", tmp_path / "m.jsonl"
    result = convert_lines(src, out, binarize=strategy, on_bad_rows="skip")
    reference = _in_memory(src, mem, "dpo", strategy)
    assert out.read_bytes() == mem.read_bytes()
    assert result.written == reference.rows_written["train"] > 0
    n_prompts, n_pairs = result.binarized or (0, 0)
    assert n_prompts == len(raw) + 1 - len(result.bad_rows) == result.n_read
    assert n_pairs == result.written + result.duplicates + result.invalid
    if strategy != "best_vs_random":  # a group's random partner is seeded by the group
        assert result.duplicates >= 1


def test_streamed_score_columns_and_bad_rows(tmp_path: Path) -> None:
    rows = [
        {"prompt": f"q{i}", "response_1": f"a{i}", "response_2": f"b{i}", "response_3": f"c{i}",
         "score_1": i % 3, "score_2": (i + 1) % 3, "score_3": None}
        for i in range(50)
    ]  # fmt: skip
    rows[4]["score_2"] = "high"  # not a number: a bad row
    src = _lines(tmp_path / "scores.jsonl", rows)
    assert streams(src) == "multi"
    out, mem = tmp_path / "s.jsonl", tmp_path / "m.jsonl"
    with pytest.raises(FormatError, match=r"scores\.jsonl line 5: score_2"):
        convert_lines(src, out)
    result = convert_lines(src, out, on_bad_rows="skip", to="trl")
    _in_memory(src, mem, "trl")
    assert out.read_bytes() == mem.read_bytes()
    assert result.binarized == (49, 49)
    with pytest.raises(ValueError, match="binarize must be one of"):
        convert_lines(src, out, binarize="best")


def test_an_invalid_line_is_named_by_the_row_it_came_from(tmp_path: Path) -> None:
    ends_with_assistant = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    rows = [
        {"prompt": "q1", "response_a": "x", "response_b": "y", "label": "tie"},
        {"prompt": "q2", "response_a": "x", "response_b": "y"},  # unlabeled
        {"prompt": "q3", "response_a": "x", "response_b": "y", "label": "b"},
        {"prompt": ends_with_assistant, "response_a": "x", "response_b": "y", "label": "a"},
    ]
    src = _lines(tmp_path / "c.jsonl", rows)
    with pytest.raises(FormatError, match=r"^c\.jsonl line 4 would make an invalid DPO line"):
        convert_lines(src, tmp_path / "o.jsonl")
    result = convert_lines(src, tmp_path / "o.jsonl", on_invalid="drop")
    assert (result.written, result.invalid) == (1, 1)
    assert result.left_out | {"invalid": result.invalid} == {
        "tie": 1, "both_bad": 0, "skip": 0, "unlabeled": 1, "empty_output": 0, "invalid": 1
    }  # fmt: skip


def test_empty_outputs_count_as_export_counts_them(tmp_path: Path) -> None:
    rows = [{"prompt": f"q{i}", "chosen": f"yes {i}", "rejected": "no"} for i in range(20)]
    rows[3]["rejected"] = "   "  # whitespace only: an error under strict
    rows[4]["chosen"] = ""
    src = _lines(tmp_path / "trl.jsonl", rows)
    out, mem = tmp_path / "s.jsonl", tmp_path / "m.jsonl"
    result = convert_lines(src, out, profile="strict", on_invalid="drop")
    reference = _in_memory(src, mem, "dpo", profile="strict", on_invalid="drop")
    assert out.read_bytes() == mem.read_bytes()
    assert result.left_out["empty_output"] == reference.left_out["empty_output"] == 2
    assert result.invalid == reference.left_out["invalid"] == 0


def test_row_positions_widen_past_four_billion_lines() -> None:
    from array import array

    from prefnb.formats.convert import _Run

    run = _Run.__new__(_Run)  # only the position store is exercised
    run.row_pos = array("I", [5])
    run._keep_pos(2**33)
    assert (run.row_pos.typecode, list(run.row_pos)) == ("q", [5, 2**33])
