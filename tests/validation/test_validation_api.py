"""The validate() contract: files, DataFrames, record lists, report shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import prefnb
from prefnb.validation import Finding, ValidationError, ValidationReport, validate


def line(prompt: str = "hi", pref: str = "hello", rej: str = "go away") -> dict[str, Any]:
    return {
        "input": {"messages": [{"role": "user", "content": prompt}]},
        "preferred_output": [{"role": "assistant", "content": pref}],
        "non_preferred_output": [{"role": "assistant", "content": rej}],
    }


def write(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def test_clean_file_is_ok(tmp_path: Path) -> None:
    p = write(tmp_path / "ok.jsonl", [line(f"q{i}") for i in range(3)])
    report = validate(p)
    assert report.ok
    assert report.n_rows == 3
    assert report.errors == []
    assert report.stats["n_pairs"] == 3


def test_error_carries_line_path_code_and_sdk_message(tmp_path: Path) -> None:
    bad = line()
    bad["preferred_output"][0]["role"] = "user"
    p = write(tmp_path / "bad.jsonl", [line(), bad])
    report = validate(str(p))
    assert not report.ok
    (err,) = report.errors
    assert (err.line, err.path, err.code, err.file) == (
        2,
        "preferred_output[0].role",
        "together.output_role",
        str(p),
    )
    assert err.message == (
        "The dataset is malformed, the first element of `preferred_output` must have the "
        "'assistant' role on line 2."
    )


def test_every_bad_line_is_reported_up_to_max_errors(tmp_path: Path) -> None:
    p = tmp_path / "many.jsonl"
    p.write_text("{}\n" * 30, encoding="utf-8")
    report = validate(p, max_errors=5)
    assert [e.line for e in report.errors] == [1, 2, 3, 4, 5]
    assert report.truncated
    assert "5+ errors" in repr(report)


def test_dataframe_rows_labeled_a_or_b_are_checked() -> None:
    df = prefnb.pairs_frame(
        [
            {"prompt": "q1", "response_a": "x", "response_b": "y", "label": "b"},
            {"prompt": "q2", "response_a": "x", "response_b": "x", "label": "tie"},
            {"prompt": "q3", "response_a": "same", "response_b": "same", "label": "a"},
        ]
    )
    assert validate(df).ok
    report = validate(df, profile="strict")
    (err,) = report.errors
    assert err.code == "strict.identical_outputs"
    assert err.line == 3
    assert err.pair_id == df.loc[2, "pair_id"]


def test_dataframe_bad_row_is_a_finding_not_a_traceback() -> None:
    df = prefnb.pairs_frame([{"prompt": "q", "response_a": "x", "response_b": "y", "label": "a"}])
    df.at[0, "prompt"] = 42
    report = validate(df)
    assert [e.code for e in report.errors] == ["pairs.row"]


def test_record_iterables_are_checked_by_position() -> None:
    recs = [line(), {**line(), "input": "x"}]
    report = validate(iter(recs))
    assert [(e.line, e.code, e.path) for e in report.errors] == [
        (2, "together.input_not_dict", "input")
    ]
    # together 1.5.34 refused an extra top-level key; Together accepts it today (a warning).
    recs = [line(), {**line(), "id": 3}]
    old = validate(iter(recs), profile="together-1.5.34")
    assert [(e.line, e.code, e.path) for e in old.errors] == [(2, "together.extra_column", "id")]
    assert (2, "together.extra_key") in [(w.line, w.code) for w in validate(recs).warnings]


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"together, together-1\.5\.34, strict, openai"):
        validate([line()], profile="lenient")


def test_raise_for_errors_lists_findings() -> None:
    report = validate([line(), {"text": 1}])
    with pytest.raises(ValidationError, match="line 2"):
        report.raise_for_errors()
    assert isinstance(report.errors[0], Finding)
    validate([line()]).raise_for_errors()


def test_to_dict_is_json_ready() -> None:
    report = validate([line(), {"nope": 1}])
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["ok"] is False
    assert data["findings"][0]["code"] == "together.no_format"


def test_html_repr_escapes_hostile_content() -> None:
    report = validate([{"<script>alert(1)</script>": 1}])
    html = report._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_public_names_exported_from_prefnb() -> None:
    assert prefnb.validate is validate
    assert prefnb.ValidationReport is ValidationReport
    assert issubclass(prefnb.ValidationError, ValueError)


def test_progress_reports_bytes(tmp_path: Path) -> None:
    p = write(tmp_path / "ok.jsonl", [line(f"q{i}") for i in range(10)])
    seen: list[tuple[int, int]] = []
    validate(p, progress=lambda done, total: seen.append((done, total)))
    size = p.stat().st_size
    assert seen[-1] == (size, size)


def test_dataframe_without_labeled_rows_warns() -> None:
    df = prefnb.pairs_frame([{"prompt": "q", "response_a": "x", "response_b": "y"}])
    report = validate(df)
    assert report.ok
    assert [w.code for w in report.warnings] == ["pairs.no_labeled_rows"]


def test_concurrent_validations_in_threads_do_not_mix(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    good = write(tmp_path / "good.jsonl", [line(f"q{i}") for i in range(50)])
    bad = write(tmp_path / "bad.jsonl", [line(), {}])
    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(validate, [good, bad] * 4))
    assert [r.ok for r in reports] == [True, False] * 4


def _gzip(path: Path, data: bytes) -> Path:
    import gzip

    with gzip.open(path, "wb") as fh:
        fh.write(data)
    return path


def test_gz_file_is_checked_decompressed_with_a_gzip_error(tmp_path: Path) -> None:
    bad = line()
    bad["preferred_output"][0]["role"] = "user"
    plain = write(tmp_path / "plain.jsonl", [line("a"), bad, line("a")])
    gz = _gzip(tmp_path / "train.jsonl.gz", plain.read_bytes())
    report = validate(gz)
    want = validate(plain)
    assert report.n_rows == 3
    assert report.source == str(gz)
    assert [f.code for f in report.errors] == ["file.gzip"] + [f.code for f in want.errors]
    assert "plain .jsonl" in report.errors[0].message
    assert f"gunzip -k {gz}" in report.errors[0].message
    # the content's findings are the plain file's, named after the .gz file
    assert [(f.code, f.line) for f in report.findings[1:]] == [
        (f.code, f.line) for f in want.findings
    ]
    assert {f.file for f in report.findings} == {str(gz)}
    assert report.stats["n_pairs"] == want.stats["n_pairs"] == 2
    assert "warning.duplicate_pairs" in {f.code for f in report.warnings}


def test_gz_of_a_clean_file_is_not_ok_and_no_temp_path_leaks(tmp_path: Path) -> None:
    gz = _gzip(tmp_path / "data.jsonl.gz", b'{"not": "preference"}\n')
    report = validate(gz, profile="strict")
    assert not report.ok
    assert report.errors[0].code == "file.gzip"
    assert all("prefnb-validate-" not in f.message for f in report.findings)
    assert all(f.file == str(gz) for f in report.findings)
    ok = _gzip(tmp_path / "ok.jsonl.gz", (json.dumps(line()) + "\n").encode())
    clean = validate(ok)
    assert [f.code for f in clean.errors] == ["file.gzip"]
    assert clean.stats["n_pairs"] == 1


def test_corrupt_gz_is_a_finding_not_a_traceback(tmp_path: Path) -> None:
    gz = tmp_path / "broken.jsonl.gz"
    gz.write_bytes(b"this is not gzip at all\n")
    report = validate(gz)
    assert [f.code for f in report.errors] == ["file.gzip_corrupt"]
    assert str(gz) in report.errors[0].message
    full = _gzip(tmp_path / "cut.jsonl.gz", (json.dumps(line()) + "\n").encode() * 50)
    cut = tmp_path / "cut2.jsonl.gz"
    cut.write_bytes(full.read_bytes()[:-12])
    assert [f.code for f in validate(cut).errors] == ["file.gzip_corrupt"]
