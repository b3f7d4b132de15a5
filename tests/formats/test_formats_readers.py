"""Readers for every format, on ugly real-world shapes, through real files on disk."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import prefnb
import prefnb.sample
from prefnb.formats import FormatError, detect_format, read_pairs
from prefnb.formats.hh import _MARKER, parse_transcript
from prefnb.pairs import check_pairs, pair_id

DATA = Path(__file__).parent / "data"


def msgs(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": r, "content": c} for r, c in pairs]


def write_jsonl(path: Path, rows: list[Any], newline: str = "\n") -> Path:
    path.write_text(newline.join(json.dumps(r) for r in rows) + newline, encoding="utf-8")
    return path


# ---------------------------------------------------------------- Anthropic HH-RLHF


def test_hh_transcripts_with_odd_spacing_casing_crlf_and_bom(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="prefnb.formats"):
        df = read_pairs(DATA / "hh_ugly.jsonl")
    check_pairs(df)
    assert df.attrs["prefnb_format"] == "hh"
    assert "hh_ugly.jsonl as format 'hh'" in caplog.text
    assert df["label"].tolist() == ["a"] * 4
    assert df.loc[0, "prompt"] == msgs(("user", "What is 2+2?"))
    assert (df.loc[0, "response_a"], df.loc[0, "response_b"]) == ("4.", "5.")
    # Multi-turn, upper-case ASSISTANT with a space before the colon, lower-case human.
    assert df.loc[1, "prompt"] == msgs(
        ("user", "tell me a joke"),
        ("assistant", "Why did the chicken cross the road?"),
        ("user", "why?"),
    )
    assert df.loc[1, "response_a"] == "To get to the other side."
    assert df.loc[1, "response_b"] == "I don't know."
    # "Human:" inside a sentence does not start a turn.
    assert df.loc[2, "prompt"] == msgs(("user", "Say 'Human: hi' back to me"))
    assert df.loc[2, "response_a"] == "Human: hi"
    assert df.loc[3, "response_b"] == ""


def test_hh_errors_name_line_and_field(tmp_path: Path) -> None:
    bad = write_jsonl(
        tmp_path / "hh.jsonl",
        [
            {"chosen": "\n\nHuman: q\n\nAssistant: x", "rejected": "\n\nHuman: q\n\nAssistant: y"},
            {"chosen": "\n\nHuman: q\n\nAssistant: x", "rejected": 7},
        ],
    )
    with pytest.raises(FormatError, match=r"hh\.jsonl line 2: 'rejected' must be a 'Human: "):
        read_pairs(bad)
    diverge = write_jsonl(
        tmp_path / "hh2.jsonl",
        [
            {
                "chosen": "\n\nHuman: q\n\nAssistant: x\n\nHuman: more\n\nAssistant: z",
                "rejected": "\n\nHuman: q\n\nAssistant: y",
            }
        ],
    )
    with pytest.raises(FormatError, match=r"line 1: after the 1 messages .* 'chosen' must "):
        read_pairs(diverge, format="hh")
    preamble = write_jsonl(
        tmp_path / "hh3.jsonl",
        [
            {
                "chosen": "intro\n\nHuman: q\n\nAssistant: x",
                "rejected": "\n\nHuman: q\n\nAssistant: y",
            }
        ],
    )
    with pytest.raises(FormatError, match=r"text before its first 'Human:' turn"):
        read_pairs(preamble, format="hh")


# ---------------------------------------------------------------- TRL


def test_trl_standard_keeps_strings_exact_and_passes_extra_columns() -> None:
    df = read_pairs(
        [
            {"prompt": "The sky is", "chosen": " blue.", "rejected": " green.", "id": 1},
            {"prompt": "Grass is", "chosen": " green.", "rejected": " purple.", "id": 2},
        ]
    )
    assert df.attrs["prefnb_format"] == "trl"
    assert df["response_a"].tolist() == [" blue.", " green."]
    assert df["id"].tolist() == [1, 2]
    assert df.loc[0, "prompt"] == msgs(("user", "The sky is"))


def test_trl_conversational_json_array_with_system_messages() -> None:
    path = DATA / "trl_conversational.json"
    assert detect_format(path) == "trl_conversational"
    df = read_pairs(path)
    check_pairs(df)
    assert df.loc[0, "prompt"][0] == {"role": "system", "content": "Be terse."}
    assert [len(p) for p in df["prompt"]] == [2, 4]
    assert df["response_a"].tolist() == ["Paris.", "4"]
    assert df["score_chosen"].tolist() == [9.0, 7.5]
    assert df["source"].tolist() == ["geo", "math"]


def test_trl_implicit_prompt_splits_at_longest_common_prefix() -> None:
    shared = [("system", "s"), ("user", "hi"), ("assistant", "hello"), ("user", "2+2?")]
    rows = [
        {"chosen": msgs(*shared, ("assistant", "4")), "rejected": msgs(*shared, ("assistant", "5"))}
    ]
    df = read_pairs(rows)
    assert df.attrs["prefnb_format"] == "trl_implicit"
    assert df.loc[0, "prompt"] == msgs(*shared)
    assert (df.loc[0, "response_a"], df.loc[0, "response_b"]) == ("4", "5")


def test_trl_implicit_error_when_conversations_diverge_early() -> None:
    rows = [
        {
            "chosen": msgs(("user", "a"), ("assistant", "x"), ("user", "b"), ("assistant", "y")),
            "rejected": msgs(("user", "a"), ("assistant", "z")),
        }
    ]
    with pytest.raises(FormatError, match=r"record 0: after the 1 messages"):
        read_pairs(rows)
    with pytest.raises(FormatError, match=r"share no prompt messages"):
        read_pairs([{"chosen": msgs(("assistant", "x")), "rejected": msgs(("assistant", "y"))}])


def test_trl_bad_field_names_file_line_and_type(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "train.jsonl",
        [{"prompt": "q", "chosen": "x", "rejected": "y"}] * 11
        + [{"prompt": "q", "chosen": 12, "rejected": "y"}],
    )
    with pytest.raises(
        FormatError,
        match=r"^train\.jsonl line 12: 'chosen' must be a string or message list, got int",
    ):
        read_pairs(path)


def test_key_overrides_map_other_column_names() -> None:
    rows = [{"question": "q", "response_j": "good", "response_k": "bad"}]
    with pytest.raises(FormatError, match=r"cannot tell the format"):
        read_pairs(rows)
    df = read_pairs(rows, prompt_key="question", chosen_key="response_j", rejected_key="response_k")
    assert df.attrs["prefnb_format"] == "trl"
    assert (df.loc[0, "response_a"], df.loc[0, "response_b"]) == ("good", "bad")
    with pytest.raises(FormatError, match=r"record 0: missing 'nope' \(given as prompt_key\)"):
        read_pairs(rows, prompt_key="nope")


# ---------------------------------------------------------------- Together / OpenAI


def test_together_openai_lines_pass_tools_and_extras_through() -> None:
    df = read_pairs(DATA / "openai_tools.jsonl")
    check_pairs(df)
    assert df.attrs["prefnb_format"] == "together"
    assert df["id"].tolist() == ["x1", "x2"]
    assert df.loc[0, "tools"][0]["function"]["name"] == "get_weather"
    assert df.loc[0, "parallel_tool_calls"] is False
    assert pd.isna(df.loc[1, "tools"])
    assert df.loc[1, "prompt"][1]["content"] == "é 中文 😀"
    assert df.loc[1, "response_a"] == "multipart"  # text parts are joined
    assert df["label"].tolist() == ["a", "a"]


def test_together_reads_the_bundled_sample_dpo() -> None:
    df = read_pairs(prefnb.sample.sample_path("sample_dpo.jsonl"))
    sample = prefnb.load_sample()
    labeled = sample[sample["label"].isin(["a", "b"])]
    assert len(df) == len(labeled)
    preferred = [r.response_a if r.label == "a" else r.response_b for r in labeled.itertuples()]
    assert df["response_a"].tolist() == preferred


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"input": [], "preferred_output": [], "non_preferred_output": []}, "'input' must be an"),
        (
            {"input": {"msgs": []}, "preferred_output": [], "non_preferred_output": []},
            "'input' must contain 'messages'",
        ),
        (
            {
                "input": {"messages": []},
                "preferred_output": [{"role": "assistant", "content": "x"}],
                "non_preferred_output": [{"role": "assistant", "content": "y"}],
            },
            "'input.messages' must not be an empty message list",
        ),
        (
            {
                "input": {"messages": [{"role": "user", "content": "q"}]},
                "preferred_output": [
                    {"role": "assistant", "content": "x"},
                    {"role": "assistant", "content": "x2"},
                ],
                "non_preferred_output": [{"role": "assistant", "content": "y"}],
            },
            "'preferred_output' must hold exactly one message, got 2",
        ),
        (
            {
                "input": {"messages": [{"role": "user", "content": None}]},
                "preferred_output": [{"role": "assistant", "content": "x"}],
                "non_preferred_output": [{"role": "assistant", "content": "y"}],
            },
            r"input.messages\[0\].content must be a string or a list of parts, got NoneType",
        ),
        (
            {
                "input": {"messages": [{"role": "user", "content": "q"}]},
                "preferred_output": [{"role": "assistant", "content": "x"}],
                "non_preferred_output": [{"role": "assistant", "content": 3}],
            },
            r"non_preferred_output\[0\].content' must be a string, got int",
        ),
    ],
)
def test_together_bad_lines(tmp_path: Path, line: dict[str, Any], message: str) -> None:
    good = {
        "input": {"messages": [{"role": "user", "content": "q"}]},
        "preferred_output": [{"role": "assistant", "content": "x"}],
        "non_preferred_output": [{"role": "assistant", "content": "y"}],
    }
    path = write_jsonl(tmp_path / "dpo.jsonl", [good, line])
    with pytest.raises(FormatError, match=rf"dpo\.jsonl line 2: .*{message}"):
        read_pairs(path, format="together")


# ---------------------------------------------------------------- candidates and pairs


def test_candidates_csv_multiline_cells_message_json_bom_crlf_and_label_spellings() -> None:
    path = DATA / "candidates.csv"
    df = read_pairs(path)
    check_pairs(df)
    assert df.attrs["prefnb_format"] == "candidates"
    assert df["label"].tolist()[0] == "a"
    assert df["label"].isna().tolist() == [False, True, False, False]
    assert df["label"].tolist()[2:] == ["tie", "b"]
    assert df.loc[0, "response_a"] == "line one\nline two"
    assert df.loc[1, "prompt"] == msgs(("system", "s"), ("user", "u"))
    assert df.loc[1, "response_a"] == "[1, 2, 3] is a list"  # text that merely looks like JSON
    assert df.loc[0, "annotator"] == "alice"
    assert pd.isna(df.loc[1, "annotator"])


def test_candidates_unknown_label_and_missing_response(tmp_path: Path) -> None:
    rows = [{"prompt": "q", "response_a": "x", "response_b": "y", "label": "maybe"}]
    with pytest.raises(FormatError, match=r"record 0: 'label' must be one of a, b, tie"):
        read_pairs(rows)
    path = tmp_path / "c.csv"
    # An empty cell in a text column is an empty text, as pandas' to_csv writes it.
    path.write_text("prompt,response_a,response_b\nq,x,\n", encoding="utf-8")
    assert read_pairs(path).loc[0, "response_b"] == ""
    path.write_text("prompt,response_a\nq,x\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"cannot tell the format"):
        read_pairs(path)


def test_pairs_files_keep_ids_labels_and_check_optional_columns(tmp_path: Path) -> None:
    sample = prefnb.load_sample()
    df = read_pairs(prefnb.sample.sample_path("sample_pairs.jsonl"))
    assert df.attrs["prefnb_format"] == "pairs"
    pd.testing.assert_frame_equal(df, sample)
    bad = sample.head(3).copy()
    bad["strength"] = ["clear", "enormous", None]
    bad["prompt"] = bad["prompt"].map(json.dumps)  # as a CSV would hold it
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(FormatError, match=r"bad\.csv row 2: column 'strength' must be one of"):
        read_pairs(tmp_path / "bad.csv")


def test_duplicate_pairs_are_dropped_but_conflicting_labels_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    row = {"prompt": "q", "chosen": "x", "rejected": "y"}
    with caplog.at_level(logging.WARNING, logger="prefnb.formats"):
        df = read_pairs([row, {"prompt": "q2", "chosen": "x", "rejected": "y"}, row])
    assert len(df) == 2
    assert "dropped 1 duplicate pair" in caplog.text
    cand = {"prompt": "q", "response_a": "x", "response_b": "y"}
    path = write_jsonl(tmp_path / "c.jsonl", [{**cand, "label": "a"}, {**cand, "label": "b"}])
    with pytest.raises(FormatError, match=r"c\.jsonl line 2: same pair as c\.jsonl line 1"):
        read_pairs(path)


# ---------------------------------------------------------------- sources


def test_parquet_round_trip_of_a_dataframe(tmp_path: Path) -> None:
    rows = [
        {
            "prompt": msgs(("system", "s"), ("user", "q")),
            "chosen": msgs(("assistant", "x")),
            "rejected": msgs(("assistant", "y")),
            "weight": 0.5,
        }
    ]
    pd.DataFrame(rows).to_parquet(tmp_path / "t.parquet")
    df = read_pairs(tmp_path / "t.parquet")
    assert df.attrs["prefnb_format"] == "trl_conversational"
    assert df.loc[0, "prompt"] == msgs(("system", "s"), ("user", "q"))
    # A DataFrame read back by pandas holds numpy arrays of dicts: still readable.
    df2 = read_pairs(pd.read_parquet(tmp_path / "t.parquet"))
    assert df2.loc[0, "prompt"] == msgs(("system", "s"), ("user", "q"))
    assert df2.loc[0, "weight"] == 0.5


def test_dataframe_errors_name_the_index_label() -> None:
    frame = pd.DataFrame(
        [
            {"prompt": "q", "chosen": "x", "rejected": "y"},
            {"prompt": "q", "chosen": ["x"], "rejected": "y"},
        ],
        index=["first", "second"],
    )
    with pytest.raises(FormatError, match=r"^row 'second'|^row second"):
        read_pairs(frame)


def test_jsonl_file_level_problems(tmp_path: Path) -> None:
    cases = {
        "empty.jsonl": (b"", r"empty\.jsonl: file is empty"),
        "blank.jsonl": (b"\n \r\n", r"blank\.jsonl: file is empty"),
        "broken.jsonl": (
            b'{"prompt": "q", "chosen": "x", "rejected": "y"}\n{"prompt": \n',
            r"broken\.jsonl line 2: invalid JSON",
        ),
        "array.jsonl": (b"[1, 2]\n", r"array\.jsonl line 1: expected a JSON object, got an array"),
        "latin1.jsonl": (b'{"prompt": "caf\xe9"}\n', r"latin1\.jsonl line 1: not valid UTF-8"),
        "arr.json": (
            b'[{"prompt": "q", "chosen": "x", "rejected": "y"}, 3]',
            r"arr\.json item 1: expected a JSON object, got a number",
        ),
        "data.txt": (b"hello", r"unknown file type '\.txt'"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(FormatError, match=message):
            read_pairs(tmp_path / name)
    with pytest.raises(FileNotFoundError, match=r"missing\.jsonl: no such file"):
        read_pairs(tmp_path / "missing.jsonl")
    with pytest.raises(FormatError, match=r"is a directory"):
        read_pairs(tmp_path)


def test_json_lines_in_a_json_file_and_parquet_without_suffix(tmp_path: Path) -> None:
    row = {"prompt": "q", "chosen": "x", "rejected": "y"}
    write_jsonl(tmp_path / "lines.json", [row, row | {"prompt": "q2"}], newline="\r\n")
    assert len(read_pairs(tmp_path / "lines.json")) == 2
    pd.DataFrame([row]).to_parquet(tmp_path / "noext")
    assert read_pairs(tmp_path / "noext").loc[0, "response_a"] == "x"


def test_unknown_shape_names_keys_and_known_formats() -> None:
    with pytest.raises(FormatError) as info:
        read_pairs([{"text": "hello", "meta": 1}])
    message = str(info.value)
    assert "'text', 'meta'" in message
    for name in prefnb.formats.FORMATS:
        assert f"  {name}: " in message
    assert info.value.keys == ["text", "meta"]
    assert isinstance(info.value, ValueError)
    with pytest.raises(FormatError, match=r"unknown format 'dpo'"):
        read_pairs([{"a": 1}], format="dpo")
    with pytest.raises(FormatError, match=r"no rows to read"):
        read_pairs([])


def test_source_types_that_are_not_data() -> None:
    with pytest.raises(FormatError, match=r"got a single dict"):
        read_pairs({"prompt": "q", "chosen": "x", "rejected": "y"})
    with pytest.raises(FormatError, match=r"cannot read preference data from a int"):
        read_pairs(3)
    with pytest.raises(FormatError, match=r"record 1: expected a dict, got str"):
        read_pairs([{"prompt": "q", "chosen": "x", "rejected": "y"}, "oops"])


def test_hugging_face_dataset_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_list(
        [
            {
                "prompt": msgs(("user", "q")),
                "chosen": msgs(("assistant", "x")),
                "rejected": msgs(("assistant", "y")),
            }
        ]
    )
    df = read_pairs(ds)
    assert df.attrs["prefnb_format"] == "trl_conversational"
    assert df.loc[0, "pair_id"] == pair_id("q", "x", "y")
    with pytest.raises(FormatError, match=r"DatasetDict with splits 'train'.*ds\['train'\]"):
        read_pairs(datasets.DatasetDict({"train": ds}))


def test_ultrafeedback_binarized_shape_prompt_repeated_in_conversations() -> None:
    conv = [("system", "s"), ("user", "Name a prime.")]
    row = {
        "prompt": "Name a prime.",
        "prompt_id": "abc",
        "chosen": msgs(*conv, ("assistant", "7")),
        "rejected": msgs(*conv, ("assistant", "9")),
        "messages": msgs(*conv, ("assistant", "7")),
        "score_chosen": 9.0,
        "score_rejected": 2.0,
    }
    df = read_pairs([row])
    assert df.attrs["prefnb_format"] == "trl_conversational"
    assert df.loc[0, "prompt"] == msgs(*conv)
    assert (df.loc[0, "response_a"], df.loc[0, "response_b"]) == ("7", "9")
    assert (df.loc[0, "prompt_id"], df.loc[0, "score_rejected"]) == ("abc", 2.0)


def test_hh_split_variant_with_prompt_transcript() -> None:
    row = {
        "prompt": "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: joke?\n\nAssistant:",
        "response": " Knock knock.",
        "chosen": " Knock knock.",
        "rejected": " No.",
    }
    df = read_pairs([row])
    assert df.attrs["prefnb_format"] == "hh"
    assert df.loc[0, "prompt"] == msgs(("user", "hi"), ("assistant", "hello"), ("user", "joke?"))
    assert (df.loc[0, "response_a"], df.loc[0, "response_b"]) == ("Knock knock.", "No.")
    assert df.loc[0, "response"] == " Knock knock."


def test_csv_long_cells_and_ragged_rows(tmp_path: Path) -> None:
    long = "x" * 300_000
    frame = pd.DataFrame([{"prompt": "q", "response_a": long, "response_b": "y"}])
    frame.to_csv(tmp_path / "long.csv", index=False)
    assert read_pairs(tmp_path / "long.csv").loc[0, "response_a"] == long
    (tmp_path / "ragged.csv").write_text("prompt,response_a,response_b\nq,x,y\nq,x,y,z\n")
    with pytest.raises(FormatError, match=r"ragged\.csv row 2: more fields than the header's 3"):
        read_pairs(tmp_path / "ragged.csv")
    tsv = tmp_path / "t.tsv"
    tsv.write_text("prompt\tchosen\trejected\nq\tx, with comma\ty\n")
    assert read_pairs(tsv).loc[0, "response_a"] == "x, with comma"


def test_gzipped_jsonl_as_hh_rlhf_ships_it(tmp_path: Path) -> None:
    import gzip

    raw = (DATA / "hh_ugly.jsonl").read_bytes()
    (tmp_path / "train.jsonl.gz").write_bytes(gzip.compress(raw))
    df = read_pairs(tmp_path / "train.jsonl.gz")
    assert df.attrs["prefnb_format"] == "hh"
    assert len(df) == 4
    (tmp_path / "bad.jsonl.gz").write_bytes(raw)
    with pytest.raises(FormatError, match=r"bad\.jsonl\.gz: cannot decompress gzip data"):
        read_pairs(tmp_path / "bad.jsonl.gz")


def test_near_miss_hint_names_the_missing_key() -> None:
    with pytest.raises(FormatError, match=r"closest format: trl, which also needs 'rejected'"):
        read_pairs([{"prompt": "q", "chosen": "x"}])
    with pytest.raises(FormatError, match=r"closest format: together, which also needs 'input'"):
        read_pairs([{"preferred_output": [], "non_preferred_output": []}])


def test_pair_ids_from_other_tools() -> None:
    base = {"prompt": "q", "response_a": "x", "response_b": "y"}
    df = read_pairs([{**base, "pair_id": 5}, {**base, "response_b": "z", "pair_id": None}])
    assert df["pair_id"].tolist() == ["5", pair_id("q", "x", "z")]
    with pytest.raises(FormatError, match=r"record 0: 'pair_id' must be a string, got list"):
        read_pairs([{**base, "pair_id": [1]}])


# ---------------------------------------------------------------- property: HH transcripts

_turn_text = (
    st.lists(
        st.sampled_from([*"abc xyz:\n\t", "Human", "human", "Assistant", "é", "😀"]), max_size=12
    )
    .map("".join)
    .map(str.strip)
)
_speaker = st.sampled_from(
    [
        ("user", "Human:"),
        ("user", "HUMAN :"),
        ("user", "human:"),
        ("assistant", "Assistant:"),
        ("assistant", "ASSISTANT\t:"),
    ]
)
_sep = st.sampled_from(["\n\n", "\n", "\n \n  ", "\n\n\n"])


@settings(max_examples=200, deadline=None)
@given(turns=st.lists(st.tuples(_speaker, _turn_text, _sep), min_size=1, max_size=6))
def test_property_hh_transcripts_parse_back(
    turns: list[tuple[tuple[str, str], str, str]],
) -> None:
    # Texts that themselves start a line with a speaker marker are ambiguous by design.
    assume(all(not _MARKER.search("\n" + text) for _, text, _ in turns))
    transcript = "".join(f"{sep}{marker} {text}" for (_, marker), text, sep in turns)
    parsed = parse_transcript(transcript, "row 1", "chosen")
    assert parsed == [{"role": role, "content": text} for (role, _), text, _ in turns]


def test_sharegpt_style_messages() -> None:
    conv = [{"from": "system", "value": "s"}, {"from": "human", "value": "2+2?"}]
    rows = [
        {
            "chosen": [*conv, {"from": "gpt", "value": "4"}],
            "rejected": [*conv, {"from": "gpt", "value": "5"}],
        },
        {
            "prompt": conv,
            "chosen": {"from": "gpt", "value": "4"},
            "rejected": [{"from": "gpt", "value": "22"}],
        },
    ]
    implicit = read_pairs(rows[:1])
    assert implicit.loc[0, "prompt"] == msgs(("system", "s"), ("user", "2+2?"))
    assert (implicit.loc[0, "response_a"], implicit.loc[0, "response_b"]) == ("4", "5")
    conversational = read_pairs(rows[1:])
    assert conversational.loc[0, "prompt"] == msgs(("system", "s"), ("user", "2+2?"))
    assert conversational.loc[0, "response_b"] == "22"


def test_optional_columns_appear_in_first_seen_order_and_missing_ones_are_nan(
    tmp_path: Path,
) -> None:
    # rows are kept column by column while reading: a column first seen on a later row
    # is NaN above it, and one a row lacks is NaN there
    rows = [
        {"prompt": "q0", "response_a": "x", "response_b": "y", "label": "a"},
        {"prompt": "q1", "response_a": "x", "response_b": "y", "note": "n1", "label": "b"},
        {"annotator": "bo", "prompt": "q2", "response_a": "x", "response_b": "y"},
        {"prompt": "q1", "response_a": "x", "response_b": "y", "label": "b"},  # a repeat
        {"prompt": "q3", "response_a": "x", "response_b": "y", "label": "tie", "note": "n3"},
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    df = read_pairs(path)
    check_pairs(df)
    assert list(df.columns) == [
        "pair_id", "prompt", "response_a", "response_b", "label", "note", "annotator"
    ]  # fmt: skip
    assert len(df) == 4
    assert df["label"].tolist() == ["a", "b", None, "tie"]
    assert df["note"].isna().tolist() == [True, False, True, False]
    assert df["note"].tolist()[3] == "n3"
    assert df["annotator"].isna().tolist() == [True, True, False, True]
    assert df["response_a"].tolist() == ["x"] * 4
    assert df.equals(read_pairs(rows))


def test_a_repeat_labeled_otherwise_names_the_first_row_and_its_label(tmp_path: Path) -> None:
    rows = [
        {"prompt": "q0", "response_a": "x", "response_b": "y", "label": "a"},
        {"prompt": "q1", "response_a": "x", "response_b": "y", "label": "a"},
        {"prompt": "q0", "response_a": "x", "response_b": "y", "label": "b"},
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(FormatError, match=r"line 3.*same pair as .*line 1 .*labeled 'b' there 'a'"):
        read_pairs(path)


def test_two_values_on_a_line_are_a_bad_row_even_beside_a_blank_line(tmp_path: Path) -> None:
    # the block decoder reads "{..} {..}" as two records and skips blank lines: equal
    # counts must not let the pair through under the wrong line numbers
    rows = [
        json.dumps({"prompt": f"q{i}", "chosen": "a", "rejected": "b"}).encode() for i in range(50)
    ]
    rows[5] = rows[5] + b" " + rows[6]
    rows[30] = b""
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\n".join(rows) + b"\n")
    with pytest.raises(FormatError, match=r"line 6: invalid JSON"):
        read_pairs(path)
    df = read_pairs(path, on_bad_rows="skip")
    assert len(df) == 48
    assert [b["line"] for b in df.attrs["prefnb_bad_rows"]] == [6]
