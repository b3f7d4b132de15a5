"""prefnb's ``together`` profile against together 1.5.34's verdicts on the corpus.

The verdicts in tests/conformance/expected.json were produced by running together 1.5.34's
``check_file`` on every case (see tests/conformance/README.md); this test needs no SDK.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from prefnb.validation import validate

CORPUS = Path(__file__).resolve().parents[1] / "conformance"
CASES = CORPUS / "cases"
EXPECTED: dict[str, Any] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
NAMES = sorted(EXPECTED["cases"])


def test_corpus_is_big_and_mixed() -> None:
    assert EXPECTED["_together_version"] == "1.5.34"
    verdicts = [c["ok"] for c in EXPECTED["cases"].values()]
    assert len(verdicts) >= 60
    assert 20 <= sum(verdicts) <= len(verdicts) - 60
    assert sorted(p.name for p in CASES.iterdir()) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_together_profile_matches_sdk(name: str) -> None:
    case = EXPECTED["cases"][name]
    report = validate(CASES / name, profile="together-1.5.34")
    assert report.ok == case["ok"], report
    if case["ok"]:
        return
    first = report.errors[0]
    assert (first.code, first.line) == (case["code"], case["line"])
    message = first.message.replace(f"{CASES}/", "")
    sdk = case["sdk_message"]
    if sdk.startswith("File is not UTF-8 encoded."):
        sdk = sdk.split(" in position ")[0]  # an offset inside the SDK's decode buffer
    assert sdk in message
    if case["sdk_line"] is not None:
        assert first.line == case["sdk_line"]
    else:
        stated = re.search(r"on line (\d+)", sdk)
        if stated:
            assert first.line == int(stated.group(1))


def _parsed_lines(path: Path) -> list[Any] | None:
    """The case's lines parsed as the SDK would, or None when some line does not parse."""
    data = path.read_bytes()
    if path.suffix != ".jsonl" or not data or data.startswith(b"\xef\xbb\xbf"):
        return None
    try:
        text = data.decode("utf-8")
        lines = re.split(r"\r\n|\r|\n", text)
        if lines[-1] == "":
            lines.pop()
        return [json.loads(line) for line in lines]
    except ValueError:
        return None


@pytest.mark.parametrize("name", NAMES)
def test_records_get_the_same_verdict_as_the_file(name: str) -> None:
    parsed = _parsed_lines(CASES / name)
    if parsed is None:
        pytest.skip("file-level case: only meaningful for files")
    assert validate(parsed, profile="together-1.5.34").ok == EXPECTED["cases"][name]["ok"]


@pytest.mark.parametrize("name", NAMES)
def test_strict_rejects_everything_together_rejects(name: str) -> None:
    case = EXPECTED["cases"][name]
    strict = validate(CASES / name, profile="strict")
    if not case["ok"]:
        assert not strict.ok
    codes = {f.code for f in strict.errors}
    if name.startswith(("valid_identical", "valid_empty_output")):
        assert codes & {"strict.identical_outputs", "strict.empty_output"}
    if name in ("valid_crlf.jsonl", "nan_in_ignored_field.jsonl"):
        assert codes & {"file.crlf", "json.nan"}


def test_together_profile_warns_about_what_the_sdk_lets_through() -> None:
    def codes(name: str) -> set[str]:
        return {f.code for f in validate(CASES / name).warnings}

    assert "file.crlf" in codes("valid_crlf.jsonl")
    assert "json.nan" in codes("nan_in_ignored_field.jsonl")
    assert "json.nan" in codes("infinity_in_ignored_field.jsonl")
    assert "json.duplicate_key" in codes("duplicate_key_last_valid.jsonl")
    assert "warning.identical_outputs" in codes("valid_identical_outputs.jsonl")
