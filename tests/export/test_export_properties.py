"""Property tests: an export raises before writing or writes a file that validates clean,
and read → export → read preserves every pair's content."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import prefnb
from prefnb.export import export_dpo, export_sft
from prefnb.validation import validate

# Ugly text: any code point a pandas string column holds (controls, astral, quotes,
# backslashes, newlines, empty strings). Lone surrogates are covered by a unit test: pandas'
# default string columns cannot hold them.
ugly_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=10),
    st.sampled_from(["", " ", "\n", '"', "\\", "\r\n", "\u2028", "</script>", "null", "\x00"]),
)
clean_text = st.text(max_size=40)  # hypothesis excludes surrogates by default
role = st.sampled_from(["system", "user", "assistant", "tool", "", "User"])
label = st.sampled_from(["a", "b", "tie", "both_bad", "skip", None])


@st.composite
def any_prompt(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 4))
    return [{"role": draw(role), "content": draw(ugly_text)} for _ in range(n)]


@st.composite
def valid_prompt(draw: st.DrawFn) -> list[dict[str, Any]]:
    turns = draw(st.integers(0, 2))
    msgs: list[dict[str, Any]] = []
    if draw(st.booleans()):
        msgs.append({"role": "system", "content": draw(clean_text)})
    for _ in range(turns):
        msgs.append({"role": "user", "content": draw(clean_text)})
        msgs.append({"role": "assistant", "content": draw(clean_text)})
    msgs.append({"role": "user", "content": draw(clean_text)})
    return msgs


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    # Positional ids: content ids cannot hash lone surrogates, and repeats are wanted here.
    return prefnb.pairs_frame({**row, "pair_id": f"p{i}"} for i, row in enumerate(rows))


any_rows = st.lists(
    st.fixed_dictionaries(
        {
            "prompt": st.one_of(valid_prompt(), any_prompt()),
            "response_a": ugly_text,
            "response_b": ugly_text,
            "label": label,
        },
        optional={"edited_preferred": st.one_of(st.none(), ugly_text)},
    ),
    min_size=1,
    max_size=8,
)
labeled_rows = st.lists(
    st.fixed_dictionaries(
        {
            "prompt": valid_prompt(),
            "response_a": clean_text,
            "response_b": clean_text,
            "label": st.sampled_from(["a", "b"]),
        }
    ),
    min_size=1,
    max_size=8,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    rows=any_rows,
    profile=st.sampled_from(["together", "strict"]),
    on_invalid=st.sampled_from(["raise", "drop"]),
    existing=st.booleans(),
    sft=st.booleans(),
    split=st.booleans(),
)
def test_export_raises_before_writing_or_writes_clean_files(
    rows: list[dict[str, Any]],
    profile: str,
    on_invalid: Any,
    existing: bool,
    sft: bool,
    split: bool,
) -> None:
    df = _frame(rows)
    with tempfile.TemporaryDirectory() as tmp:
        out, val = Path(tmp) / "out.jsonl", Path(tmp) / "val.jsonl"
        targets = [out, val] if split else [out]
        if existing:
            for t in targets:
                t.write_bytes(b"previous\n")
        kwargs: dict[str, Any] = {"on_invalid": on_invalid}
        if split:
            kwargs |= {"validation_path": val, "val_fraction": 0.5}
        try:
            if sft:
                result = export_sft(df, out, **kwargs)
            else:
                result = export_dpo(df, out, profile=profile, **kwargs)
        except ValueError:  # ExportError, PairSchemaError, a split with one prompt
            event("refused")
            names = sorted(p.name for p in Path(tmp).iterdir())
            assert names == (sorted(t.name for t in targets) if existing else [])
            for t in targets if existing else []:
                assert t.read_bytes() == b"previous\n"
            return
        event("written")
        check_profile = "together" if sft else profile
        for split_name, t in result.paths.items():
            report = validate(t, check_profile)
            assert report.ok, report
            assert report.n_rows == result.rows_written[split_name] > 0
        assert set(result.paths.values()) == set(targets)
        assert result.n_written + result.n_left_out == len(df)
        assert sorted(p.name for p in Path(tmp).iterdir()) == sorted(t.name for t in targets)


def _expected(df: pd.DataFrame) -> list[tuple[list[dict[str, Any]], str, str]]:
    out = []
    for row in df.to_dict("records"):
        a, b = row["response_a"], row["response_b"]
        preferred, rejected = (a, b) if row["label"] == "a" else (b, a)
        out.append((row["prompt"], preferred, rejected))
    return out


@SETTINGS
@given(rows=labeled_rows, val=st.booleans(), seed=st.integers(0, 3))
def test_read_export_read_preserves_content(
    rows: list[dict[str, Any]], val: bool, seed: int
) -> None:
    df = _frame(rows)
    # Readers drop repeated pairs (same prompt, preferred, rejected), so start without them.
    df = df[~pd.Series(map(repr, _expected(df))).duplicated().to_numpy()]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src.parquet"
        df.to_parquet(src)
        first = prefnb.read_pairs(src)
        out, val_out = Path(tmp) / "train.jsonl", Path(tmp) / "val.jsonl"
        n_prompts = len({repr(p) for p in df["prompt"]})
        split = val and n_prompts >= 2
        kwargs: dict[str, Any] = (
            {"validation_path": val_out, "val_fraction": 0.3, "seed": seed} if split else {}
        )
        result = export_dpo(first, out, **kwargs)
        assert result.left_out["invalid"] == 0
        back = prefnb.read_pairs(out)
        if split:
            back = pd.concat([back, prefnb.read_pairs(val_out)], ignore_index=True)
        assert (back["label"] == "a").all()
        got = sorted(map(repr, _expected(back)))
        assert got == sorted(map(repr, _expected(df)))


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_split_fraction_is_close_for_many_small_groups(fraction: float, tmp_path: Path) -> None:
    df = prefnb.pairs_frame(
        {"prompt": f"p{i // 2}", "response_a": f"a{i}", "response_b": f"b{i}", "label": "a"}
        for i in range(400)
    )
    result = export_dpo(
        df, tmp_path / "t.jsonl", validation_path=tmp_path / "v.jsonl", val_fraction=fraction
    )
    assert abs(result.rows_written["validation"] / 400 - fraction) <= 0.01
