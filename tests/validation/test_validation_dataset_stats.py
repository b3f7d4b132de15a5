"""The O(n) dataset statistics agree with the sort-based definitions they replace."""

from __future__ import annotations

import json
from array import array
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from prefnb.validation import ValidationReport, validate
from prefnb.validation.checker import LineChecker
from prefnb.validation.warnings import PairStats, dataset_findings, length_bias


def _reference_rank_biserial(pref: np.ndarray, rej: np.ndarray) -> float:
    diffs = pref.astype(float) - rej.astype(float)
    nz = diffs[diffs != 0]
    _v, inverse, counts = np.unique(np.abs(nz), return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]
    pos, neg = ranks[nz > 0].sum(), ranks[nz < 0].sum()
    return float((pos - neg) / (pos + neg)) if pos + neg else 0.0


@pytest.mark.parametrize("seed", range(5))
def test_rank_biserial_by_counting_equals_the_sort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pref = rng.integers(0, 3000, 5000)
    rej = rng.integers(0, 3000, 5000)
    assert length_bias(pref, rej).rank_biserial == pytest.approx(
        _reference_rank_biserial(pref, rej), abs=1e-12
    )
    huge = rej.copy()
    huge[0] = 10**9  # a range too wide to count: the sort is used
    assert length_bias(pref, huge).rank_biserial == pytest.approx(
        _reference_rank_biserial(pref, huge), abs=1e-12
    )


def test_duplicate_pairs_name_each_repeat_and_its_first_line() -> None:
    stats = PairStats()
    stats.lines = array("q", [1, 2, 3, 4, 5, 6])
    stats.pair_hash = array("q", [7, 8, 7, 9, 8, 7])
    stats.prompt_hash = array("q", [0] * 6)
    stats.preferred_len = array("q", [1] * 6)
    stats.rejected_len = array("q", [2] * 6)
    (dup,) = [f for f in dataset_findings(stats) if f.code == "warning.duplicate_pairs"]
    assert "3 duplicate pair(s)" in dup.message
    assert "3 (= line 1), 5 (= line 2), 6 (= line 1)" in dup.message
    assert dup.line == 3


# -- lazy pair hashing: files hash the two outputs only when the cheap key repeats ---------


def _line(prompt: str, pref: str, rej: str, **extra: Any) -> dict[str, Any]:
    return {
        "input": {"messages": [{"role": "user", "content": prompt}]},
        "preferred_output": [{"role": "assistant", "content": pref}],
        "non_preferred_output": [{"role": "assistant", "content": rej}],
        **extra,
    }


def _dup_messages(report: ValidationReport) -> list[str]:
    return [f.message for f in report.warnings if f.code == "warning.duplicate_pairs"]


def test_equal_lengths_with_other_contents_are_not_duplicates(tmp_path: Path) -> None:
    # same prompt, same output lengths: the cheap keys collide, the contents decide
    rows = [_line("q", "abc", "xyz"), _line("q", "abd", "xyz"), _line("q", "abc", "xyw")]
    p = tmp_path / "collide.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert len(set(stats_keys(p))) == 1
    assert _dup_messages(validate(p)) == []


def stats_keys(path: Path) -> list[int]:
    checker = LineChecker("together", stats=PairStats(lazy_pairs=True))
    checker.check_block(path.read_bytes(), first_line=1, start=0, at_eof=True)
    return [int(k) for k in checker.stats.cheap_keys()]


def test_equal_contents_are_duplicates_on_every_path(tmp_path: Path) -> None:
    base = _line("q", "abc", "xyz")
    fast = json.dumps(base)
    spaced = json.dumps(base, indent=None, separators=(" ,", " : "))  # same pair, other bytes
    slow = fast.replace('"content": "abc"', '"content": "zzz", "content": "abc"')  # repeated key
    nan = fast[:-1] + ', "score": NaN, "big": 1e400}'  # Python's json only: the slow path
    lines = [fast, json.dumps(_line("q", "abd", "xyz")), spaced, slow, " " + fast, nan]
    p = tmp_path / "dups.jsonl"
    p.write_text("".join(x + "\n" for x in lines))
    report = validate(p)
    (message,) = _dup_messages(report)
    assert "4 duplicate pair(s)" in message
    assert "3 (= line 1), 4 (= line 1), 5 (= line 1), 6 (= line 1)" in message
    # the same lines as parsed records take the eager path (every pair hashed): same words
    records = [json.loads(x) for x in lines]
    assert _dup_messages(validate(records)) == [message]


@pytest.mark.parametrize("slow_share", [0.0, 0.1])
@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
def test_lazy_and_eager_duplicates_agree(tmp_path: Path, end: bytes, slow_share: float) -> None:
    rng = np.random.default_rng(3)
    texts = ["abc", "abd", "xbc", 'a"c', "héé", "abcd"]
    rows = []
    for _ in range(400):
        r = _line(f"q{rng.integers(3)}", *rng.choice(texts, 2))
        if rng.random() < slow_share:
            r["id"] = 1  # an unknown key: the slow path adds the line
        rows.append(r)
    p = tmp_path / "many.jsonl"
    p.write_bytes(b"".join(json.dumps(r).encode() + end for r in rows))
    lazy = _dup_messages(validate(p, max_errors=1000))
    assert lazy
    assert lazy == _dup_messages(validate(rows, max_errors=1000))


def test_resolve_duplicates_is_required_for_lazy_stats() -> None:
    stats = PairStats(lazy_pairs=True)
    stats.add(1, 0, "a", "b", anchor=(1, 1, 0, 10))
    stats.add(2, 0, "a", "b", anchor=(2, 1, 11, 10))
    with pytest.raises(ValueError, match="resolve_duplicates"):
        dataset_findings(stats)
    stats.resolve_duplicates(lambda wanted: iter([(["a"], ["b"])] * len(wanted)))
    assert stats.duplicates == [(2, 1)]


def test_a_file_that_changes_or_vanishes_before_the_duplicate_check_is_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefnb.validation import checker as checker_mod
    from prefnb.validation import engine

    rows = [_line("q", "abc", "xyz"), _line("q", "abd", "xyz"), _line("q", "abc", "xyz")]
    p = tmp_path / "d.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    garbage = tmp_path / "g.jsonl"
    garbage.write_bytes(b"not json at all\n" * 3)
    # the lines read back are not the lines checked: no line equals another, no error
    monkeypatch.setattr(engine, "text_reader", lambda _p: checker_mod.text_reader(garbage))
    assert _dup_messages(validate(p)) == []
    monkeypatch.setattr(engine, "text_reader", lambda _p: checker_mod.text_reader(tmp_path / "x"))
    report = validate(p)
    assert [f.code for f in report.warnings if f.code == "file.changed"] == ["file.changed"]
    assert _dup_messages(report) == []
