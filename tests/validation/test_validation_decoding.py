"""The validator accepts what the reader accepts; empty outputs and lone surrogates are named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import prefnb
from prefnb.export import export_dpo
from prefnb.formats import FormatError


def line(pref: str, rej: str, prompt: str = "hi") -> dict[str, object]:
    return {
        "input": {"messages": [{"role": "user", "content": prompt}]},
        "preferred_output": [{"role": "assistant", "content": pref}],
        "non_preferred_output": [{"role": "assistant", "content": rej}],
    }


@pytest.mark.parametrize("profile", ["together", "openai"])
def test_empty_outputs_warn_in_every_profile(tmp_path: Path, profile: str) -> None:
    rows = [line("ok", "no", "a"), line("", "no", "b"), line("fine", " \n\t", "c")]
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    for source in (path, rows):
        report = prefnb.validate(source, profile)
        assert report.ok
        empty = [f for f in report.warnings if f.code == "warning.empty_output"]
        assert len(empty) == 1
        assert empty[0].line == 2
        assert empty[0].path == "preferred_output[0].content"
        assert "2 outputs are empty or whitespace only (lines 2, 3)" in empty[0].message


def test_empty_outputs_are_errors_in_strict_and_counted_by_export(tmp_path: Path) -> None:
    report = prefnb.validate([line("ok", "no"), line("x", "")], "strict")
    assert [(f.line, f.severity) for f in report.findings if "empty_output" in f.code] == [
        (2, "error")
    ]
    df = prefnb.pairs_frame(
        [
            {"prompt": "a", "response_a": "good", "response_b": "bad", "label": "a"},
            {"prompt": "b", "response_a": "   ", "response_b": "bad", "label": "a"},
        ]
    )
    result = export_dpo(df, tmp_path / "t.jsonl", profile="strict", on_invalid="drop")
    assert result.left_out["empty_output"] == 1
    assert result.left_out["invalid"] == 0
    assert "1 empty_output" in result.summary()
    loose = export_dpo(df, tmp_path / "u.jsonl")
    assert loose.rows_written == {"train": 2}
    assert "warning.empty_output" in {f.code for f in loose.report.warnings}


def test_lone_surrogate_is_a_finding_naming_line_and_field(tmp_path: Path) -> None:
    good = json.dumps(line("ok", "no"))
    bad = json.dumps(line("x\ud800", "no", "b"))  # json.dumps escapes it as \ud800
    path = tmp_path / "t.jsonl"
    path.write_text(good + "\n" + bad + "\n", encoding="utf-8")
    report = prefnb.validate(path)
    found = [f for f in report.findings if f.code == "json.lone_surrogate"]
    assert [(f.line, f.path, f.severity) for f in found] == [
        (2, "preferred_output[0].content", "warning")
    ]
    strict = prefnb.validate(path, "strict")
    assert any(f.code == "json.lone_surrogate" and f.severity == "error" for f in strict.errors)
    # the reader refuses the same line, naming the same line and field
    with pytest.raises(FormatError, match=r"t\.jsonl line 2: 'preferred_output"):
        prefnb.read_pairs(path)


def test_reader_and_validator_accept_the_same_number_extras(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    rows = [
        json.dumps(line("a", "b", "p1"))[:-1] + ', "w": NaN}',
        json.dumps(line("a", "b", "p2"))[:-1] + ', "w": 1e400}',
        json.dumps(line("a", "b", "p3"))[:-1] + ', "w": Infinity}',
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = prefnb.validate(path)
    # the verdict is about the extra key; every line parsed
    assert not [f for f in report.findings if f.code in ("together.json", "file.not_utf8")]
    assert [f.line for f in report.findings if f.code == "json.nan"] == [1, 3]
    df = prefnb.read_pairs(path)
    assert len(df) == 3
