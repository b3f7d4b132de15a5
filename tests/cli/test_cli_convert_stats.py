"""``prefnb convert`` and ``prefnb stats``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import prefnb
from prefnb.cli import main
from prefnb.export import LEFT_OUT_REASONS
from prefnb.validation import validate

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_PAIRS = ROOT / "prefnb" / "data" / "sample_pairs.jsonl"
PREFNB = ROOT / ".venv" / "bin" / "prefnb"


def _pairs_file(path: Path, *rows: dict[str, object]) -> Path:
    prefnb.pairs_frame(rows).to_json(path, orient="records", lines=True, force_ascii=False)
    return path


def test_convert_sample_to_dpo_reports_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "train.jsonl"
    assert main(["convert", str(SAMPLE_PAIRS), str(out), "--to", "dpo"]) == 0
    text = capsys.readouterr().out
    df = prefnb.read_pairs(SAMPLE_PAIRS)
    n = int(df["label"].isin(["a", "b"]).sum())
    assert f"wrote {n} DPO lines to {out} (train)" in text
    assert "left out" in text
    assert "unlabeled" in text
    assert validate(out).ok


def test_convert_with_validation_split_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, val = tmp_path / "t.jsonl", tmp_path / "v.jsonl"
    argv = [
        "convert",
        str(SAMPLE_PAIRS),
        str(out),
        "--validation",
        str(val),
        "--val-fraction",
        "0.2",
        "--seed",
        "3",
        "--json",
    ]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows_written"]["validation"] > 0
    assert doc["paths"] == {"train": str(out), "validation": str(val)}
    assert set(doc["left_out"]) == {*LEFT_OUT_REASONS, "duplicate"}
    # a file read whole (JSON, not JSON lines) reports the same keys
    whole = tmp_path / "sample.json"
    whole.write_text(json.dumps([json.loads(x) for x in SAMPLE_PAIRS.read_text().splitlines()]))
    assert main([*argv[:1], str(whole), *argv[2:]]) == 0
    doc_whole = json.loads(capsys.readouterr().out)
    assert doc_whole["left_out"] == doc["left_out"]
    assert doc_whole["rows_written"] == doc["rows_written"]


def test_convert_invalid_row_fails_without_writing_unless_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _pairs_file(
        tmp_path / "pairs.jsonl",
        {"prompt": "ok", "response_a": "x", "response_b": "y", "label": "a"},
        {
            "prompt": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
            "response_a": "x",
            "response_b": "y",
            "label": "a",
        },
    )
    out = tmp_path / "out.jsonl"
    assert main(["convert", str(src), str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("prefnb convert: error: pairs.jsonl line 2 would make an invalid DPO")
    assert "Traceback" not in err
    assert not out.exists()
    assert main(["convert", str(src), str(out), "--drop-invalid"]) == 0
    assert "1 invalid" in capsys.readouterr().out
    assert validate(out).ok


def test_convert_to_sft_and_trl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sft = tmp_path / "sft.jsonl"
    assert main(["convert", str(SAMPLE_PAIRS), str(sft), "--to", "sft"]) == 0
    assert "SFT lines" in capsys.readouterr().out
    first = json.loads(sft.read_text().splitlines()[0])
    assert list(first) == ["messages"]
    assert first["messages"][-1]["role"] == "assistant"
    assert validate(sft).ok
    trl = tmp_path / "trl.jsonl"
    assert main(["convert", str(SAMPLE_PAIRS), str(trl), "--to", "trl"]) == 0
    assert "TRL rows" in capsys.readouterr().out
    row = json.loads(trl.read_text().splitlines()[0])
    assert {"chosen", "rejected"} <= set(row)


def test_convert_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(tmp_path / "missing.jsonl"), str(tmp_path / "o.jsonl")]) == 1
    assert "missing.jsonl" in capsys.readouterr().err
    assert (
        main(["convert", str(SAMPLE_PAIRS), str(tmp_path / "o.jsonl"), "--val-fraction", "0.2"])
        == 2
    )
    assert "--validation" in capsys.readouterr().err
    assert main(["convert", str(SAMPLE_PAIRS), str(tmp_path / "o.jsonl"), "--to", "csv"]) == 2
    assert (
        main(
            [
                "convert",
                str(SAMPLE_PAIRS),
                str(tmp_path / "o.jsonl"),
                "--val-fraction",
                "1.5",
                "--validation",
                "v.jsonl",
            ]
        )
        == 2
    )
    assert not (tmp_path / "o.jsonl").exists()


def test_stats_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", str(SAMPLE_PAIRS)]) == 0
    text = capsys.readouterr().out
    for word in ("pairs", "labels", "length bias", "duplicates", "tokens"):
        assert word in text
    assert main(["stats", str(SAMPLE_PAIRS), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_pairs"] == len(prefnb.read_pairs(SAMPLE_PAIRS))
    assert sum(doc["labels"].values()) == doc["n_pairs"]
    assert doc["source"] == str(SAMPLE_PAIRS)


def test_stats_bad_file_is_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", str(tmp_path / "missing.jsonl")]) == 1
    assert "missing.jsonl" in capsys.readouterr().err
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"foo": 1}\n')
    assert main(["stats", str(odd)]) == 1
    err = capsys.readouterr().err
    assert "foo" in err
    assert "Traceback" not in err


def test_stats_subprocess_on_sample() -> None:
    exe = [str(PREFNB)] if PREFNB.exists() else [sys.executable, "-m", "prefnb"]
    proc = subprocess.run(
        [*exe, "stats", str(SAMPLE_PAIRS)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(str(SAMPLE_PAIRS))


def test_convert_from_a_named_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "trl.jsonl"
    src.write_text(
        '{"prompt": "2+2?", "chosen": "4", "rejected": "5"}\n'
        '{"prompt": "Capital of France?", "chosen": "Paris", "rejected": "Lyon"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "dpo.jsonl"
    assert main(["convert", str(src), str(out), "--from", "trl"]) == 0
    assert "wrote 2 DPO lines" in capsys.readouterr().out
    first = json.loads(out.read_text().splitlines()[0])
    assert first["preferred_output"] == [{"role": "assistant", "content": "4"}]
    assert main(["convert", str(src), str(out), "--from", "nope"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert main(["convert", str(src), str(out), "--from", "hh"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("prefnb convert: error:")
    assert "Traceback" not in err


def test_convert_streams_a_line_format_with_a_validation_split(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "trl.jsonl"
    rows = [{"prompt": f"q{i % 13}", "chosen": f"yes {i}", "rejected": "no"} for i in range(60)]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out, val = tmp_path / "t.jsonl", tmp_path / "v.jsonl"
    argv = ["convert", str(src), str(out), "--validation", str(val), "--val-fraction", "0.25"]
    assert main([*argv, "--json"]) == 0
    captured = capsys.readouterr()
    assert "(format trl, streamed)" in captured.err
    doc = json.loads(captured.out)
    assert doc["paths"] == {"train": str(out), "validation": str(val)}
    assert doc["rows_written"]["train"] + doc["rows_written"]["validation"] == 60
    assert doc["rows_written"]["validation"] >= 15
    report = validate(out, validation=val)
    assert report.ok
    assert "warning.prompt_in_train_and_validation" not in {f.code for f in report.warnings}
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert f"DPO lines to {val} (validation)" in text


def test_convert_streams_rated_and_pairwise_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ROOT / "tests" / "formats" / "data"
    out = tmp_path / "o.jsonl"
    assert main(["convert", str(data / "ultrafeedback_raw.jsonl"), str(out),
                 "--binarize", "all_pairs"]) == 0  # fmt: skip
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[:2] == [
        "ultrafeedback_raw.jsonl: read 2 rows, skipped 0 bad rows (format multi, streamed)",
        "binarized 2 prompts into 4 pairs (all_pairs)",
    ]
    assert f"wrote 4 DPO lines to {out} (train)" in lines
    rows = json.loads((data / "alpaca_eval_annotations.json").read_text())
    src = tmp_path / "pairwise.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["convert", str(src), str(out)]) == 1
    assert "pairwise.jsonl line 8: 'preference' must be 1" in capsys.readouterr().err
    assert main(["convert", str(src), str(out), "--on-bad-rows", "warn", "--json"]) == 0
    captured = capsys.readouterr()
    head, _, rest = captured.err.partition("\n")
    assert head == "pairwise.jsonl: read 7 rows, skipped 1 bad row (format pairwise, streamed)"
    assert rest.startswith("  pairwise.jsonl line 8: 'preference'")
    doc = json.loads(captured.out)
    assert (doc["left_out"]["tie"], doc["left_out"]["unlabeled"]) == (2, 1)
    assert doc["rows_written"]["train"] == 4
