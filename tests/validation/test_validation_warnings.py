"""Dataset-level warnings (every profile) and the reusable length_bias()."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import prefnb
from prefnb.validation import LengthBias, length_bias, validate


def pref(prompt: str = "hi", p: str = "hello there", r: str = "bye") -> dict[str, Any]:
    return {
        "input": {"messages": [{"role": "user", "content": prompt}]},
        "preferred_output": [{"role": "assistant", "content": p}],
        "non_preferred_output": [{"role": "assistant", "content": r}],
    }


def warned(report: Any) -> dict[str, Any]:
    return {w.code: w for w in report.warnings}


def test_identical_and_near_identical_outputs() -> None:
    report = validate([pref("a", "same", "same"), pref("b", "Hello  world.", "hello world")])
    assert report.ok
    w = warned(report)
    assert w["warning.identical_outputs"].line == 1
    assert w["warning.near_identical_outputs"].line == 2
    assert w["warning.identical_outputs"].path == "non_preferred_output[0].content"


def test_duplicate_pairs_name_both_lines() -> None:
    report = validate([pref("a"), pref("b"), pref("a"), pref("a", r="other")])
    w = warned(report)["warning.duplicate_pairs"]
    assert w.line == 3
    assert "1 duplicate pair(s)" in w.message
    assert "3 (= line 1)" in w.message


def test_prompt_in_train_and_validation(tmp_path: Path) -> None:
    train = tmp_path / "train.jsonl"
    val = tmp_path / "val.jsonl"
    train.write_text("".join(json.dumps(pref(f"q{i}")) + "\n" for i in range(5)))
    val.write_text(json.dumps(pref("q3", "x", "y")) + "\n" + json.dumps(pref("new")) + "\n")
    report = validate(train, validation=val)
    w = warned(report)["warning.prompt_in_train_and_validation"]
    assert (w.line, w.file) == (4, str(train))
    assert str(val) in w.message
    assert "warning.prompt_in_train_and_validation" not in warned(validate(train))


def test_validation_file_errors_are_reported_with_their_file(tmp_path: Path) -> None:
    train = tmp_path / "train.jsonl"
    val = tmp_path / "val.jsonl"
    train.write_text(json.dumps(pref()) + "\n")
    val.write_text("{}\n")
    report = validate(train, validation=val)
    assert [(e.file, e.line, e.code) for e in report.errors] == [
        (str(val), 1, "together.no_format")
    ]


def test_strong_length_bias_is_reported_with_effect_size() -> None:
    rows = [pref(f"q{i}", "long answer " * (10 + i), "short") for i in range(30)]
    w = warned(validate(rows))["warning.length_bias"]
    assert "100% of 30 pairs" in w.message
    assert "rank-biserial r = 1.00" in w.message


def test_no_length_bias_warning_for_balanced_data() -> None:
    rows = [
        pref(f"q{i}", "x" * (10 + i), "y" * 20) if i % 2 else pref(f"q{i}", "x" * 5, "y" * 50)
        for i in range(30)
    ]
    assert "warning.length_bias" not in warned(validate(rows))


def test_length_bias_numbers() -> None:
    lb = length_bias([10, 20, 30, 40], [5, 25, 10, 40])
    assert isinstance(lb, LengthBias)
    assert lb.n == 4
    assert lb.share_preferred_longer == pytest.approx((1 + 0 + 1 + 0.5) / 4)
    # non-zero differences 5, -5, 20: ranks 1.5, 1.5, 3 -> (1.5 + 3 - 1.5) / 6
    assert lb.rank_biserial == pytest.approx(0.5)
    diffs = [5, -5, 20, 0]
    mean = sum(diffs) / 4
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / 3)
    assert lb.cohens_d == pytest.approx(mean / sd)
    assert not lb.strong
    assert math.isnan(length_bias([], []).share_preferred_longer)
    with pytest.raises(ValueError, match="paired"):
        length_bias([1, 2], [1])


def test_over_max_tokens_chars_over_four() -> None:
    rows = [pref("q" * 40, "a" * 400, "b" * 8)]  # prompt 10 tokens, preferred 100
    w = warned(validate(rows, max_tokens=64))["warning.over_max_tokens"]
    assert (w.line, w.path) == (1, "preferred_output[0].content")
    assert "characters / 4" in w.message
    assert "1 response(s)" in w.message
    assert "warning.over_max_tokens" not in warned(validate(rows, max_tokens=200))


def test_over_max_tokens_with_tokenizer_and_lora_long_context() -> None:
    rows = [pref("one two", "a b c d e f", "x y")]

    def words(text: str) -> int:
        return len(text.split())

    assert "warning.over_max_tokens" not in warned(validate(rows, max_tokens=8, tokenizer=words))
    w = warned(validate(rows, max_tokens=14, tokenizer=words, lora_long_context=True))
    msg = w["warning.over_max_tokens"].message
    assert "tokenizer" in msg
    assert "LoRA long-context: each response gets half of max_tokens 14" in msg


def test_dataframe_warnings_carry_pair_ids() -> None:
    df = prefnb.pairs_frame(
        [
            {"prompt": "q", "response_a": "same", "response_b": "same", "label": "a"},
            {"prompt": "q2", "response_a": "x", "response_b": "y", "label": None},
        ]
    )
    w = warned(validate(df))["warning.identical_outputs"]
    assert w.pair_id == df.loc[0, "pair_id"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Hello  world.", "hello world"),
        ("x" * 70 + " tail", "X" * 70 + " TAIL!"),  # first word longer than the head
        ("x" * 70 + " tail", "y" * 70 + " tail"),
        (" " * 80 + "Word rest", " " * 79 + "word rest."),  # blanks longer than the head
        (" " * 80 + "Word rest", " " * 79 + "other rest."),
        ("word", "WORD."),  # one word each
        ("word\u2003next", "WORD next"),  # a Unicode space splits words too
        ("a" * 63 + " b", "A" * 63 + "  b."),  # the head ends right after the space
        ("a" * 64 + " b", "A" * 64 + " b"),
        ("first second", "First third"),
        ("Abc def", "abc def!"),  # first letters differ in case only
        ("1 apple", "2 apple"),  # first characters differ: no more look
        ("ß x", "ss x"),  # not ASCII: casefold makes them equal
        ("Été", "été."),
        (".", "!"),  # punctuation only: both normalize to ""
        ("?abc", "abc"),
        ("one two three four five", "One  two THREE four five!"),
        ("one two three four five", "one two other four five"),  # third words differ
        ("one two three", "one two three."),  # the third word is the last one
        ("one two thre", "one two three"),
        ("a" * 60 + " bb cc", "A" * 60 + " bbcc"),  # the head cuts the second word
    ],
)
def test_near_identical_matches_its_definition(a: str, b: str) -> None:
    from prefnb.validation.warnings import near_identical

    def norm(t: str) -> str:
        return " ".join(t.split()).casefold().rstrip(".!?;:")

    # the length gate is part of the definition; the first-word gate is only a shortcut
    close = abs(len(a) - len(b)) <= max(8, (len(a) + len(b)) // 20)
    assert near_identical(a, b) == (a != b and close and norm(a) == norm(b))
    assert near_identical(b, a) == near_identical(a, b)


_WORDS = st.sampled_from(["a", "word", "wörd", "ß", "ss", "x" * 70, "end.", "!", "Ünï"])
_SPACE = st.sampled_from([" ", "  ", "\n", "\u2003"])
_EDIT = st.sampled_from(["same", "upper", "lower", "swap", "drop"])


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.tuples(_WORDS, _SPACE, _EDIT, _SPACE, _WORDS), max_size=8),
    st.sampled_from(["", ".", "!?", " "]),
)
def test_near_identical_gates_never_change_the_answer(
    words: list[tuple[str, str, str, str, str]], tail: str
) -> None:
    # b is a, edited word by word (case, spacing, a swapped or dropped word): the head
    # gates (first character, first words) may only say "no" when the definition does
    from prefnb.validation.warnings import near_identical

    a = "".join(w + s for w, s, _e, _s2, _o in words)
    edited = {
        "same": lambda w, o: w,
        "upper": lambda w, o: w.upper(),
        "lower": lambda w, o: w.lower(),
        "swap": lambda w, o: o,
        "drop": lambda w, o: "",
    }
    b = "".join(edited[e](w, o) + s2 for w, _s, e, s2, o in words) + tail

    def norm(t: str) -> str:
        return " ".join(t.split()).casefold().rstrip(".!?;:")

    close = abs(len(a) - len(b)) <= max(8, (len(a) + len(b)) // 20)
    assert near_identical(a, b) == (a != b and close and norm(a) == norm(b))
    assert near_identical(b, a) == near_identical(a, b)
