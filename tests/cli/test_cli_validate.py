"""``prefnb validate``: exit codes, human and JSON output, in-process and as a subprocess."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from prefnb import cli
from prefnb.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DPO = ROOT / "prefnb" / "data" / "sample_dpo.jsonl"
PREFNB = ROOT / ".venv" / "bin" / "prefnb"

GOOD = (
    '{"input": {"messages": [{"role": "user", "content": "hi"}]}, '
    '"preferred_output": [{"role": "assistant", "content": "hello"}], '
    '"non_preferred_output": [{"role": "assistant", "content": "go away"}]}\n'
)
BAD_ROLE = GOOD.replace('"content": "go away"', '"content": "go away"').replace(
    'non_preferred_output": [{"role": "assistant"', 'non_preferred_output": [{"role": "user"'
)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_exits_0_with_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = _write(tmp_path / "ok.jsonl", GOOD * 3)
    assert main(["validate", str(f)]) == 0
    out = capsys.readouterr().out
    assert f"{f}: OK — 3 rows, 0 errors" in out


def test_invalid_file_lists_file_line_and_json_path_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = _write(tmp_path / "bad.jsonl", GOOD + BAD_ROLE + GOOD)
    assert main(["validate", str(f)]) == 1
    out = capsys.readouterr().out
    assert f"{f}:2 non_preferred_output[0].role: error [together.output_role]" in out
    assert "must have the 'assistant' role on line 2" in out
    assert f"{f}: INVALID — 3 rows, 1 error" in out


def test_missing_file_is_a_finding_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.jsonl"
    assert main(["validate", str(missing)]) == 1
    out = capsys.readouterr().out
    assert "nope.jsonl" in out
    assert "INVALID" in out


def test_json_output_is_one_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ok = _write(tmp_path / "ok.jsonl", GOOD)
    bad = _write(tmp_path / "bad.jsonl", BAD_ROLE)
    assert main(["validate", str(ok), str(bad), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False
    assert doc["profile"] == "together"
    assert [f["ok"] for f in doc["files"]] == [True, False]
    finding = doc["files"][1]["findings"][0]
    assert finding["line"] == 1
    assert finding["path"] == "non_preferred_output[0].role"
    assert finding["code"] == "together.output_role"


def test_profiles_differ(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _write(tmp_path / "blank.jsonl", GOOD.replace('"hello"', '"  "'))
    assert main(["validate", str(f)]) == 0
    assert main(["validate", str(f), "--profile", "strict"]) == 1
    assert "strict" in capsys.readouterr().out


def test_max_errors_stops_listing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _write(tmp_path / "bad.jsonl", BAD_ROLE * 10)
    assert main(["validate", str(f), "--max-errors", "2", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert len([x for x in doc["files"][0]["findings"] if x["severity"] == "error"]) == 2
    assert doc["files"][0]["truncated"] is True


def test_validation_file_overlap_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = _write(tmp_path / "train.jsonl", GOOD)
    val = _write(tmp_path / "val.jsonl", GOOD.replace("go away", "bye"))
    assert main(["validate", str(train), "--validation", str(val)]) == 0
    out = capsys.readouterr().out
    assert "prompt_in_train_and_validation" in out
    assert f"{val}: OK" in out  # the validation file is checked too


def test_max_tokens_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _write(tmp_path / "long.jsonl", GOOD.replace('"hello"', '"' + "word " * 400 + '"'))
    assert main(["validate", str(f), "--max-tokens", "50"]) == 0
    assert "over_max_tokens" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["validate"],
        ["validate", "x.jsonl", "--profile", "nope"],
        ["validate", "x.jsonl", "--max-tokens", "0"],
        ["validate", "x.jsonl", "--max-errors", "many"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--help"]) == 0
    assert "--validation" in capsys.readouterr().out
    assert {"validate", "convert", "stats"} <= set(
        build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    )


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    exe = [str(PREFNB)] if PREFNB.exists() else [sys.executable, "-m", "prefnb"]
    return subprocess.run(
        [*exe, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning:prefnb"},
    )


def test_console_script_on_the_bundled_sample() -> None:
    proc = _run("validate", str(SAMPLE_DPO))
    assert proc.returncode == 0, proc.stderr
    assert "OK" in proc.stdout
    assert proc.stderr == ""  # stderr is not a terminal: no progress bar


def test_module_entry_point_exit_codes(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.jsonl", BAD_ROLE)
    proc = subprocess.run(
        [sys.executable, "-m", "prefnb", "validate", str(bad), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["ok"] is False
    proc = subprocess.run(
        [sys.executable, "-m", "prefnb", "validate", "--profile", "x", "f"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr


class _Terminal(io.StringIO):
    """A text stream that says it is a terminal, as stderr is in an interactive shell."""

    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_and_only_for_big_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = _write(tmp_path / "ok.jsonl", GOOD * 50)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["validate", str(f)]) == 0
    assert terminal.getvalue() == ""  # a small file: no bar even on a terminal
    monkeypatch.setattr(cli, "PROGRESS_MIN_BYTES", 1)
    assert main(["validate", str(f)]) == 0
    drawn = terminal.getvalue()
    assert "ok.jsonl [" in drawn
    assert "100%" in drawn
    assert drawn.endswith("\r")  # the bar is erased before the report is printed
    assert "OK" in capsys.readouterr().out
    plain = io.StringIO()
    monkeypatch.setattr(sys, "stderr", plain)
    assert main(["validate", str(f)]) == 0
    assert plain.getvalue() == ""  # not a terminal: never a bar
