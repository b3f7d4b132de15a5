"""File-level bad input and the streaming machinery (blocks, sub-blocks, workers)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prefnb.validation import checker as checker_mod
from prefnb.validation import engine, lines, validate
from prefnb.validation.together import MSG_JSON, check_line
from prefnb.validation.together_current import check_current


def pref(prompt: str = "hi", pref: str = "hello", rej: str = "bye") -> dict[str, Any]:
    return {
        "input": {"messages": [{"role": "user", "content": prompt}]},
        "preferred_output": [{"role": "assistant", "content": pref}],
        "non_preferred_output": [{"role": "assistant", "content": rej}],
    }


GOOD = json.dumps(pref()).encode()


def codes(report: Any) -> list[tuple[int | None, str]]:
    return [(f.line, f.code) for f in report.errors]


def test_missing_file(tmp_path: Path) -> None:
    report = validate(tmp_path / "nope.jsonl")
    assert codes(report) == [(None, "file.missing")]
    assert "nope.jsonl" in report.errors[0].message


def test_directory(tmp_path: Path) -> None:
    d = tmp_path / "data.jsonl"
    d.mkdir()
    assert codes(validate(d)) == [(None, "file.not_a_file")]


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "e.jsonl"
    p.write_bytes(b"")
    report = validate(p)
    assert codes(report) == [(None, "file.empty")]
    assert report.errors[0].message == "File is empty"


def test_invalid_utf8_names_line_and_byte_offset(tmp_path: Path) -> None:
    p = tmp_path / "u.jsonl"
    bad = GOOD.replace(b"bye", b"b\xffe")
    p.write_bytes(GOOD + b"\n" + GOOD + b"\n" + bad + b"\n")
    (err,) = validate(p).errors
    offset = 2 * (len(GOOD) + 1) + bad.index(b"\xff")
    assert (err.line, err.code) == (3, "file.not_utf8")
    assert f"byte 0xff in line 3 at byte offset {offset}" in err.message


def test_bom(tmp_path: Path) -> None:
    p = tmp_path / "b.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + GOOD + b"\n")
    (err,) = validate(p).errors
    assert (err.line, err.code) == (1, "file.bom")
    assert "byte-order mark" in err.message


def test_crlf_passes_together_with_a_warning_and_fails_strict(tmp_path: Path) -> None:
    p = tmp_path / "c.jsonl"
    p.write_bytes(GOOD + b"\n" + GOOD + b"\r\n" + GOOD + b"\r\n")
    report = validate(p)
    assert report.ok
    (w,) = [f for f in report.warnings if f.code == "file.crlf"]
    assert w.line == 2
    assert "2 line(s)" in w.message
    assert not validate(p, profile="strict").ok


def test_blank_lines(tmp_path: Path) -> None:
    p = tmp_path / "bl.jsonl"
    p.write_bytes(GOOD + b"\n\n" + GOOD + b"\n  \n")
    assert codes(validate(p)) == [(2, "together.blank_line"), (4, "together.blank_line")]


def test_truncated_last_line(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    p.write_bytes(GOOD + b"\n" + GOOD[:30])
    (err,) = validate(p).errors
    assert (err.line, err.code) == (2, "file.truncated_last_line")
    assert MSG_JSON.format(n=2) in err.message


def test_valid_last_line_without_newline_is_fine(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    p.write_bytes(GOOD + b"\n" + GOOD)
    assert validate(p).ok


def test_line_that_is_not_an_object(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(GOOD + b"\n[1, 2]\n")
    assert codes(validate(p)) == [(2, "together.not_object")]


def test_nan_and_duplicate_keys_warn_in_together_and_fail_strict(tmp_path: Path) -> None:
    p = tmp_path / "n.jsonl"
    nan_line = GOOD.replace(b'"content": "bye"}', b'"content": "bye", "score": NaN}')
    dup_line = GOOD.replace(b'"content": "bye"', b'"content": "x", "content": "bye"')
    p.write_bytes(nan_line + b"\n" + dup_line + b"\n")
    report = validate(p)
    assert report.ok
    assert {(w.line, w.code) for w in report.warnings} >= {
        (1, "json.nan"),
        (2, "json.duplicate_key"),
    }
    assert {c for _, c in codes(validate(p, profile="strict"))} >= {
        "json.nan",
        "json.duplicate_key",
    }


@pytest.mark.slow
def test_100_mb_single_line(tmp_path: Path) -> None:
    p = tmp_path / "big.jsonl"
    huge = "x" * (100 * 2**20)
    p.write_text(json.dumps(pref(pref=huge)) + "\n" + json.dumps(pref()) + "\n")
    report = validate(p, max_tokens=8192)
    assert report.ok
    assert report.n_rows == 2
    warned = {w.code: w for w in report.warnings}
    assert warned["file.long_line"].line == 1
    assert "100.0 MiB" in warned["file.long_line"].message
    assert warned["warning.over_max_tokens"].line == 1
    p.write_bytes(b"{" + b"x" * (100 * 2**20) + b"\n" + GOOD + b"\n")
    assert codes(validate(p)) == [(1, "together.json")]


def test_file_over_50_1_gib_is_refused_without_reading_it(tmp_path: Path) -> None:
    p = tmp_path / "huge.jsonl"
    with open(p, "wb") as fh:
        fh.truncate(int(50.2 * 2**30))  # sparse: takes no disk space
    report = validate(p)
    assert codes(report) == [(None, "file.too_large")]
    assert "Maximum supported file size is 50.1 GB. Found file with size of 50.2 GB." in (
        report.errors[0].message
    )


def test_wrong_extension_is_an_error_but_content_is_still_checked(tmp_path: Path) -> None:
    p = tmp_path / "data.json"
    p.write_bytes(GOOD + b"\n{}\n")
    assert codes(validate(p)) == [(None, "file.extension"), (2, "together.no_format")]


# -- the streaming machinery against a straightforward reference ------------------------------


def reference(path: Path, *, current: bool = False) -> list[tuple[int, str]]:
    """Per-line errors computed the obvious way: text mode, json.loads, check_line (or the
    current ``together`` profile's check_current)."""
    out: list[tuple[int, str]] = []
    fmt = None
    with open(path, encoding="utf-8", newline=None) as fh:
        for n, text in enumerate(fh, start=1):
            if not text.strip():
                out.append((n, "together.blank_line"))
                continue
            try:
                obj = json.loads(text)
            except ValueError:
                out.append((n, "together.json"))
                continue
            if current:
                got, errors, _ = check_current(obj, n, fmt)
                problem = errors[0] if errors else None
            else:
                got, problem = check_line(obj, n, fmt)
            fmt = fmt or got
            if problem:
                out.append((n, problem.code))
    return out


LINE_KINDS = st.sampled_from(
    [
        GOOD,
        json.dumps(pref("a much longer prompt " * 20, "p" * 300, "r" * 200)).encode(),
        b"",
        b"{}",
        json.dumps({**pref(), "id": 1}).encode(),
        json.dumps(pref()).replace('"assistant"', '"user"', 1).encode(),
        GOOD.replace(b'"content": "hi"', b'"content": "hi", "content": 3'),
        json.dumps(pref("\u2028 unicode ✓")).encode(),
        b'{"input": ',
    ]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.lists(
        st.tuples(LINE_KINDS, st.sampled_from([b"\n", b"\r\n", b"\r"])), min_size=1, max_size=40
    ),
    block=st.integers(min_value=1, max_value=900),
    final_newline=st.booleans(),
)
def test_blocks_and_fast_path_match_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: Any, block: int, final_newline: bool
) -> None:
    monkeypatch.setattr(lines, "BLOCK_BYTES", block)
    monkeypatch.setattr(checker_mod, "_SUB_BLOCK", max(1, block // 3))
    data = b"".join(line + end for line, end in body)
    if not final_newline:
        data = data.rstrip(b"\r\n")
    p = tmp_path / "prop.jsonl"
    p.write_bytes(data)
    if not data:
        return
    for profile in ("together-1.5.34", "together"):
        expected = reference(p, current=profile == "together")
        got = [
            (line, "together.json" if code == "file.truncated_last_line" else code)
            for line, code in codes(validate(p, max_errors=10_000, profile=profile))
        ]
        assert got == expected, profile
    assert validate(p).n_rows == len(re.findall(rb"\r\n|\r|\n", data)) + (
        0 if data.endswith((b"\n", b"\r")) else 1
    )


def test_parallel_workers_give_the_same_report_as_serial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(engine, "RANGE_BYTES", 5000)
    monkeypatch.setattr(lines, "BLOCK_BYTES", 3000)
    rows = []
    for i in range(600):
        if i % 97 == 5:
            rows.append(b"{}")
        elif i % 131 == 7:
            rows.append(b"")
        elif i % 151 == 9:
            rows.append(GOOD.replace(b'"bye"}', b'"bye", "x": NaN}') + b"\r")
        else:
            rows.append(json.dumps(pref(f"q{i % 300}", "long " * (i % 300 % 7), "b")).encode())
    p = tmp_path / "par.jsonl"
    p.write_bytes(b"\n".join(rows) + b"\n")
    serial = validate(p, workers=1, max_errors=1000)
    seen: list[int] = []
    parallel = validate(p, workers=2, max_errors=1000, progress=lambda d, t: seen.append(d))
    assert parallel.findings == serial.findings
    assert parallel.n_rows == serial.n_rows == 600
    assert {"warning.duplicate_pairs", "json.nan", "file.crlf"} <= {
        f.code for f in parallel.warnings
    }
    assert seen[-1] == os.path.getsize(p)
    assert validate(p, workers=2, max_errors=3).truncated


@pytest.mark.parametrize(
    "text",
    [
        'say "hi"',
        'say "hi" \\ C:\\path\\n',
        "plain",
        "two\nlines, no quote",
        "C:\\dir\\",  # ends with a backslash: an escaped one stands before the closing quote
        'a \\"b\\" \\\\"c',  # backslashes, then a quote: runs of two and three
    ],
)
@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"content": "bye"', b'"content": "x", "content": "bye"'),
        (b'{"input": ', b'{"input": {"messages": []}, "input": '),
        (b'"role": "user"', b'"role": "user", "role": "user"'),
        (b'"content": "bye"}', b'"content": 5, "content" : "bye"}'),
    ],
)
def test_repeated_keys_are_found_among_thousands_of_clean_lines(
    tmp_path: Path, old: bytes, new: bytes, text: str
) -> None:
    # 2000 clean lines go through the batch decoder; the guard must still spot line 1234,
    # whether the texts hold escaped quotes, literal backslashes or neither
    clean = [json.dumps(pref(f"q{i}", text, "bye")).encode() for i in range(2000)]
    clean[1233] = clean[1233].replace(old, new)
    assert clean[1233] != json.dumps(pref("q1233", text, "bye")).encode()
    p = tmp_path / "dup.jsonl"
    p.write_bytes(b"\n".join(clean) + b"\n")
    report = validate(p)
    assert report.ok
    assert [(w.line, w.code) for w in report.warnings if w.code.startswith("json.")] == [
        (1234, "json.duplicate_key")
    ]
    assert report.stats["n_pairs"] == 2000


@pytest.mark.parametrize("blank", [b"", b"   ", b"\t", b" \r"])
def test_two_values_on_a_line_are_not_hidden_by_a_blank_line(tmp_path: Path, blank: bytes) -> None:
    # the block decoder reads "{..} {..}" as two records and skips blank lines, so a
    # record count that matches the line count proved nothing when both happen in a block
    one = json.dumps(pref("q", "a", "b")).encode()
    lines = [json.dumps(pref(f"q{i}", "a", "b")).encode() for i in range(300)]
    lines[10] = one + b" " + one
    lines[200] = blank
    p = tmp_path / "two.jsonl"
    p.write_bytes(b"\n".join(lines) + b"\n")
    report = validate(p)
    assert not report.ok
    assert report.n_rows == 300
    assert [(f.line, f.code) for f in report.errors] == [
        (11, "together.json"),
        (201, "together.blank_line"),
    ]
    assert report.stats["n_pairs"] == 298


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": 1}\n{"b": 2}\n',
        b'{"a": 1}\n{"b": 2}',
        b'{"a": 1}\n\n{"b": 2}\n',
        b'{"a": 1}\n {"b": 2}\n',
        b' {"a": 1}\n',
        b'{"a": 1}\n\t',
        b"\n",
        b"x",
        b'{"a": "' + b"y" * 5000 + b'"}\n{}\n',
    ],
)
def test_line_heads_find_loop_and_numpy_agree(data: bytes) -> None:
    from prefnb.validation.lines import line_heads, split_lines

    n, clean = line_heads(data)
    assert n == len(split_lines(data)[0])
    assert clean == all(line[:1] > b" " for line in split_lines(data)[0])
    assert line_heads(data, 0) == (n, clean)  # expect 0 lines: the find loop


@pytest.mark.parametrize(
    "text",
    ["plain", 'say "hi"', "two\nlines", "C:\\dir\\", 'a \\"b\\" \\\\"c', 'say "hi" C:\\'],
)
def test_the_repeated_key_guard_accepts_clean_blocks_and_refuses_repeats(text: str) -> None:
    # the guard's answer itself, not only the verdict (a guard that refuses sends clean
    # lines down the slow path, which is correct but slow)
    lines_ = [json.dumps(pref(f"q{i}", text, "bye")).encode() for i in range(50)]
    block = b"\n".join(lines_) + b"\n"
    c = checker_mod.LineChecker("together")
    batch = c._settle(checker_mod._DECODER.decode_lines(block), 1)
    assert batch is not None
    assert batch.no_repeated_keys(block)
    repeated = block.replace(b'"content": "bye"', b'"content": "x", "content": "bye"', 1)
    again = c._settle(checker_mod._DECODER.decode_lines(repeated), 1)
    assert again is not None
    assert not again.no_repeated_keys(repeated)


@pytest.mark.parametrize("pad", ["", "x"])  # the one escaped backslash at either alignment
def test_the_guard_finds_a_lone_escaped_backslash_before_a_closing_quote(pad: str) -> None:
    block = json.dumps(pref(f"q{pad}", 'say "hi" C:\\', "bye")).encode() + b"\n"
    assert block.count(b"\\\\") == 1
    c = checker_mod.LineChecker("together")
    batch = c._settle(checker_mod._DECODER.decode_lines(block), 1)
    assert batch is not None
    assert batch.no_repeated_keys(block)
