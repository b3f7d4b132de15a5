"""prefnb.validation.scan: the C byte counter, against a byte-by-byte reference and numpy."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prefnb.validation import scan, validate
from prefnb.validation.checker import _Batch
from prefnb.validation.lines import line_heads
from prefnb.validation.warnings import near_identical


def reference(data: bytes) -> scan.BlockCounts:
    """The counts, one byte at a time (slow and plain)."""
    quotes = escaped = newlines = crs = run = 0
    led = False
    for i, b in enumerate(data):
        if b == 34:
            quotes += 1
            escaped += run & 1
        crs += b == 13
        if b == 10:
            newlines += 1
            led = led or (i + 1 < len(data) and data[i + 1] <= 32)
        run = run + 1 if b == 92 else 0
    return scan.BlockCounts(quotes, escaped, newlines, led, crs)


# Bytes that matter, and runs of backslashes that cross the scanner's 16-byte steps.
_PIECES = st.sampled_from(
    [b'"', b"\\", b"\\\\", b"\\\\\\", b'\\"', b"\n", b"\r\n", b"\r", b" ", b"\t", b"{",
     b"x" * 13, b"abc", "é日".encode(), b"\x00", b"\x1f", b"}\n{"]
)  # fmt: skip
_BLOCKS = st.lists(_PIECES, max_size=120).map(b"".join)


@contextlib.contextmanager
def _without_c() -> Iterator[None]:
    saved = scan._SCAN, scan._COUNTS
    scan._SCAN = scan._COUNTS = None
    try:
        yield
    finally:
        scan._SCAN, scan._COUNTS = saved


needs_c = pytest.mark.skipif(not scan.ACCELERATED, reason="the C byte counter is not built")


@needs_c
@settings(max_examples=400, deadline=None)
@given(_BLOCKS)
def test_the_c_counter_agrees_with_the_reference(data: bytes) -> None:
    assert scan.block_counts(data) == reference(data)


@needs_c
@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 31, 32, 33, 4079, 4080, 4081, 70_000])
def test_block_edges_and_lane_overflow(size: int) -> None:
    # quotes in every byte: the per-lane counters are summed before they overflow
    for data in (b'"' * size, (b'\\"' * size)[:size], (b"\n " * size)[:size]):
        assert scan.block_counts(data) == reference(data)


@settings(max_examples=300, deadline=None)
@given(_BLOCKS)
def test_numpys_counts_agree_with_the_reference(data: bytes) -> None:
    """The numpy fallback: line_heads and the guard's quote masks."""
    data = b"{" + data  # the guard reads blocks of decoded lines, which start with "{"
    ref = reference(data)
    if b"\r" not in data:
        n, clean = line_heads(data)
        assert n == ref.newlines + (not data.endswith(b"\n"))
        assert clean == (not ref.whitespace_led)
    batch = _Batch([], 1, [], [], [], [])
    batch.structural = ref.quotes - ref.escaped_quotes
    assert batch.no_repeated_keys(data, scan.BlockCounts(*ref)) is True
    with _without_c():  # the numpy path on its own, with the C module present
        assert batch.no_repeated_keys(data) is True
        batch.structural -= 1  # one quote more than the lines may hold: a repeated key
        assert batch.no_repeated_keys(data) is False


def _messy_file(path: Path) -> Path:
    """Clean lines with escaped quotes and backslashes, a repeated key, a blank line, a
    line led by a space, CRLF endings and a lone CR: every path of the fast checker."""
    lines = []
    for i in range(3000):
        text = f'answer {i} says "hi" and C:\\dir\\' if i % 7 == 0 else f"answer {i}"
        line = {
            "input": {"messages": [{"role": "user", "content": f"q{i}"}]},
            "preferred_output": [{"role": "assistant", "content": text}],
            "non_preferred_output": [{"role": "assistant", "content": f"no {i}"}],
        }
        lines.append(json.dumps(line))
    lines[100] = lines[100].replace('"input"', '"input": 1, "input"')  # repeated key
    lines[900] = ""  # blank line
    lines[1500] = " " + lines[1500]
    body = "\n".join(lines[:2000]) + "\n" + "\r\n".join(lines[2000:2900]) + "\r\n"
    body += "\n".join(lines[2900:2950]) + "\r" + "\n".join(lines[2950:]) + "\n"
    path.write_text(body, encoding="utf-8")
    return path


def _report(path: Path) -> list[tuple[str, int | None]]:
    return sorted((f.code, f.line) for f in validate(path, workers=1).findings)


def test_validate_says_the_same_with_and_without_the_c_counter(tmp_path: Path) -> None:
    path = _messy_file(tmp_path / "messy.jsonl")
    found = _report(path)
    assert {code for code, _ in found} >= {
        "together.blank_line",
        "json.duplicate_key",
        "file.crlf",
        "file.lone_cr",
    }, found
    script = (
        "import json, sys\n"
        "from prefnb.validation import scan, validate\n"
        "assert not scan.ACCELERATED\n"
        "r = validate(sys.argv[1], workers=1)\n"
        "print(json.dumps(sorted((f.code, f.line) for f in r.findings)))\n"
    )
    env = {**os.environ, "PREFNB_PURE_PYTHON": "1"}
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)], env=env, capture_output=True, check=True
    ).stdout
    assert [tuple(f) for f in json.loads(out)] == found


def test_the_c_counter_is_built_where_a_compiler_is() -> None:
    """Where the package was installed with a C compiler and Python's headers at hand (as
    README's install does here), the accelerator must be there: the speed depends on it."""
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not (shutil.which("cc") and headers.exists()) or os.environ.get("PREFNB_PURE_PYTHON"):
        pytest.skip("no C compiler or Python headers: the numpy path is used")
    assert scan.ACCELERATED


_TEXTS = st.text(
    alphabet=st.sampled_from(
        [" ", "\t", "\n", "\u2003", "\u3000", "\x1c", "a", "A", "b", "B", "1", "é", "日", "."]
    ),
    max_size=40,
)


@needs_c
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_TEXTS, _TEXTS), max_size=30))
def test_text_stats_agree_with_python(pairs: list[tuple[str, str]]) -> None:
    import numpy as np

    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    got = scan.text_stats(a, b)
    assert got is not None
    assert np.frombuffer(got.lengths_a, dtype=np.int64).tolist() == [len(x) for x in a]
    assert np.frombuffer(got.lengths_b, dtype=np.int64).tolist() == [len(y) for y in b]
    assert got.empty_a == [i for i, x in enumerate(a) if not x or x.isspace()]
    assert got.empty_b == [i for i, y in enumerate(b) if not y or y.isspace()]

    def first_may_match(x: str, y: str) -> bool:  # near_identical's second gate
        ca, cb = x[:1], y[:1]
        ascii_alnum = ca.isascii() and cb.isascii() and ca.isalnum() and cb.isalnum()
        return ca == cb or not ascii_alnum or ca.lower() == cb.lower()

    close = [
        i
        for i, (x, y) in enumerate(pairs)
        if abs(len(x) - len(y)) <= max(8, (len(x) + len(y)) // 20) and first_may_match(x, y)
    ]
    assert got.close == close
    # no pair the rule would call identical or near-identical is left out
    assert {i for i, (x, y) in enumerate(pairs) if x == y or near_identical(x, y)} <= set(close)


@needs_c
def test_text_stats_refuses_what_is_not_text() -> None:
    with pytest.raises(TypeError, match="every item must be a str"):
        scan.text_stats(["a", None], ["b", "c"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="differ in length"):
        scan.text_stats(["a"], [])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_TEXTS, _TEXTS), min_size=1, max_size=30))
def test_pair_stats_are_the_same_with_and_without_the_c_module(
    pairs: list[tuple[str, str]],
) -> None:
    from prefnb.validation.warnings import PairStats

    def stats() -> PairStats:
        s = PairStats()
        s.add_many(
            range(1, len(pairs) + 1),
            [hash(x) for x, _ in pairs],
            [x for x, _ in pairs],
            [y for _, y in pairs],
        )
        return s

    with_c = stats()
    with _without_c():
        without = stats()
    assert with_c == without
