"""The CLI's reading options: --on-bad-rows, --format and the --*-key mappings, other formats
given to ``validate``, gzip inputs, two-file summaries and plurals."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from prefnb.cli import main

GOOD = {
    "input": {"messages": [{"role": "user", "content": "hi"}]},
    "preferred_output": [{"role": "assistant", "content": "hello"}],
    "non_preferred_output": [{"role": "assistant", "content": "go away"}],
}


def _lines(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _hh(tmp_path: Path) -> Path:
    ok = [
        {
            "chosen": f"\n\nHuman: q{i}\n\nAssistant: yes",
            "rejected": f"\n\nHuman: q{i}\n\nAssistant: no",
        }
        for i in range(3)
    ]
    broken = {
        "chosen": "\n\nHuman: q\n\nAssistant: a\n\nAssistant: b",
        "rejected": "\n\nHuman: q\n\nAssistant: c",
    }
    return _lines(tmp_path / "hh.jsonl", [ok[0], broken, ok[1], ok[2]])


def test_stats_and_convert_fail_listing_bad_rows_unless_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _hh(tmp_path)
    assert main(["stats", str(path)]) == 1
    err = capsys.readouterr().err
    assert "hh.jsonl line 2: after the 1 messages" in err
    assert main(["stats", str(path), "--on-bad-rows", "skip"]) == 0
    out = capsys.readouterr().out
    assert "pairs        3 (3 distinct prompts, 3 exportable as DPO)" in out
    assert "skipped      1 bad row of the source" in out
    out_file = tmp_path / "train.jsonl"
    assert main(["convert", str(path), str(out_file), "--on-bad-rows", "warn"]) == 0
    out = capsys.readouterr().out
    head = "hh.jsonl: read 3 rows, skipped 1 bad row (format hh, streamed)"
    assert f"{head}\n  hh.jsonl line 2:" in out
    assert "wrote 3 DPO lines" in out
    assert len(out_file.read_text().splitlines()) == 3
    assert main(["convert", str(path), str(out_file), "--on-bad-rows", "skip", "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["read"]["skipped"] == 1
    assert doc["read"]["bad_rows"][0]["line"] == 2
    assert "skipped 1 bad row" in captured.err


def test_key_options_map_columns_and_hints_name_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _lines(tmp_path / "qa.jsonl", [{"question": "q", "good": "x", "bad": "y"}])
    assert main(["stats", str(path)]) == 1
    err = capsys.readouterr().err
    assert "--prompt-key" in err
    assert "--format" in err
    args = ["--prompt-key", "question", "--chosen-key", "good", "--rejected-key", "bad"]
    assert main(["stats", str(path), *args]) == 0
    assert "pairs        1 (1 distinct prompt, 1 exportable as DPO)" in capsys.readouterr().out
    out_file = tmp_path / "o.jsonl"
    assert main(["convert", str(path), str(out_file), *args]) == 0
    assert "wrote 1 DPO line to" in capsys.readouterr().out
    assert main(["validate", str(path), *args]) == 0
    out = capsys.readouterr().out
    assert "qa.jsonl: read 1 row, skipped 0 bad rows (format trl)" in out
    assert "OK — 1 row," in out


def test_validate_on_another_format_gives_one_finding_with_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{"prompt": f"q{i}", "chosen": "x", "rejected": "y"} for i in range(5)]
    path = _lines(tmp_path / "trl.jsonl", rows)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.count("[format.other]") == 1
    assert "is a 'trl' file" in out
    assert f"prefnb convert {path} trl.dpo.jsonl" in out
    assert "INVALID — 5 rows, 1 error, 0 warnings" in out
    # --format trl checks what the conversion would write instead
    assert main(["validate", str(path), "--format", "trl"]) == 0


def test_validate_gzip_is_decompressed_with_a_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "train.jsonl.gz"
    path.write_bytes(gzip.compress((json.dumps(GOOD) + "\n").encode()))
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "[file.gzip]" in out
    assert "gunzip" in out
    assert "1 row, 1 error" in out
    assert "prefnb-validate-" not in out  # the temporary file is never named


def test_validate_summary_counts_both_files_and_skips_bad_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = _lines(
        tmp_path / "train.jsonl",
        [GOOD, GOOD | {"input": {"messages": [{"role": "user", "content": "2"}]}}],
    )
    val = _lines(
        tmp_path / "val.jsonl", [GOOD | {"input": {"messages": [{"role": "user", "content": "3"}]}}]
    )
    assert main(["validate", str(train), "--validation", str(val)]) == 0
    out = capsys.readouterr().out
    assert "OK — 3 rows (2 train + 1 validation)" in out
    bad = dict(GOOD, preferred_output=[{"role": "user", "content": "x"}])
    mixed = _lines(tmp_path / "mixed.jsonl", [GOOD, bad])
    assert main(["validate", str(mixed), "--on-bad-rows", "skip"]) == 0
    out = capsys.readouterr().out
    assert "skipped 1 bad row" in out
    assert "[together." not in out
    assert main(["validate", str(mixed), "--on-bad-rows", "warn"]) == 0
    out = capsys.readouterr().out
    assert "warning [together." in out
    assert "skipped 1 bad row" in out
    assert main(["validate", str(mixed), str(mixed)]) == 1
    assert "2 files checked: 2 invalid" in capsys.readouterr().out


def test_convert_streams_line_formats_and_binarizes_rated_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _hh(tmp_path)
    out = tmp_path / "o.jsonl"
    assert main(["convert", str(path), str(out), "--on-bad-rows", "skip"]) == 0
    text = capsys.readouterr().out
    assert "hh.jsonl: read 3 rows, skipped 1 bad row (format hh, streamed)" in text
    assert "wrote 3 DPO lines" in text
    data = Path(__file__).parents[1] / "formats" / "data"
    assert main(["convert", str(data / "nectar.jsonl"), str(out)]) == 0
    text = capsys.readouterr().out
    assert "binarized 2 prompts into 2 pairs (best_vs_worst)" in text
    assert "wrote 2 DPO lines" in text
    pairwise = data / "alpaca_eval_annotations.json"
    assert main(["convert", str(pairwise), str(out), "--on-bad-rows", "skip", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows_written"] == {"train": 4}
    assert doc["left_out"]["tie"] == 2
    assert doc["left_out"]["unlabeled"] == 1


def test_validate_a_rated_file_checks_its_binarized_pairs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = Path(__file__).parents[1] / "formats" / "data" / "ultrafeedback_raw.jsonl"
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "is a 'multi' file" in out
    assert "--format multi" in out
    assert main(["validate", str(path), "--format", "multi"]) == 0
    out = capsys.readouterr().out
    assert "binarized 2 prompts into 2 pairs (best_vs_worst)" in out
    assert "[warning.empty_output] 1 output is empty or whitespace only (line 1)" in out


def test_validate_names_the_format_of_a_json_array_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).parents[1] / "formats" / "data" / "sharegpt_dpo.json"
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.count("[format.other]") == 1
    assert "is a 'sharegpt' file" in out
    assert "INVALID — 5 rows, 1 error" in out


def test_validate_with_format_counts_rows_the_reader_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _hh(tmp_path)
    assert main(["validate", str(path), "--format", "hh", "--on-bad-rows", "skip"]) == 0
    out = capsys.readouterr().out
    assert "hh.jsonl: read 3 rows, skipped 1 bad row (format hh)" in out
    assert "OK — 3 rows, 0 errors" in out
    assert out.rstrip().endswith("skipped 1 bad row")
