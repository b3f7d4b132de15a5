"""Write the conformance corpus and, with together 1.5.34 at hand, confirm its verdicts.

Usage (from the repository root)::

    .venv/bin/python tests/conformance/build_corpus.py            # (re)write cases/
    .venv/bin/python tests/conformance/build_corpus.py --confirm /work/side-together/bin/python

``--confirm`` runs ``together.utils.files.check_file`` (together 1.5.34, installed in a side
virtualenv, never in the project's) on every case in a subprocess, then writes
``expected.json``: the SDK's verdict, message and line number, plus prefnb's finding code for
the first error. It refuses to write when prefnb's ``together`` verdict differs from the SDK's.
"""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
EXPECTED = HERE / "expected.json"

# 1x1 PNG, a real image so the multimodal cases are realistic.
PNG = (
    "data:image/png;base64,"
    + base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
        )
    ).decode()
)


def pref(**over: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "input": {"messages": [{"role": "user", "content": "What is 2+2?"}]},
        "preferred_output": [{"role": "assistant", "content": "4"}],
        "non_preferred_output": [{"role": "assistant", "content": "5"}],
    }
    line.update(over)
    return line


def msgs(*pairs: tuple[str, Any]) -> dict[str, Any]:
    return {"messages": [{"role": r, "content": c} for r, c in pairs]}


def out(**fields: Any) -> list[dict[str, Any]]:
    return [{"role": "assistant", "content": "ok", **fields}]


def j(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def lines(*objs: Any, end: str = "\n") -> bytes:
    return (end.join(j(o) for o in objs) + end).encode()


def with_key(key: str, value: Any, *path: str | int) -> dict[str, Any]:
    line = copy.deepcopy(pref())
    target: Any = line
    for p in path:
        target = target[p]
    target[key] = value
    return line


def without(path: tuple[str | int, ...], key: str) -> dict[str, Any]:
    line = copy.deepcopy(pref())
    target: Any = line
    for p in path:
        target = target[p]
    del target[key]
    return line


P = pref()
img = {"type": "image_url", "image_url": {"url": PNG}}
txt = {"type": "text", "text": "look"}

CASE_BYTES: dict[str, bytes] = {
    # -- §1.1 file level -----------------------------------------------------------------
    "valid_single": lines(P),
    "valid_many": lines(*[pref(input=msgs(("user", f"q{i}"))) for i in range(5)]),
    "valid_no_final_newline": lines(P, P)[:-1],
    "valid_crlf": lines(P, P, end="\r\n"),
    "valid_leading_spaces": b"   " + lines(P),
    "valid_unicode": lines(pref(input=msgs(("user", "Ünïcödé 日本語 🎉 \u2028 \u0085")))),
    "valid_lone_surrogate_escape": b'{"input": {"messages": [{"role": "user", "content": '
    b'"\\ud800"}]}, "preferred_output": [{"role": "assistant", "content": "a"}], '
    b'"non_preferred_output": [{"role": "assistant", "content": "b"}]}\n',
    "empty": b"",
    "blank_line_middle": lines(P) + b"\n" + lines(P),
    "blank_line_trailing": lines(P) + b"\n",
    "whitespace_only_line": lines(P) + b"   \t\n" + lines(P),
    "bom": b"\xef\xbb\xbf" + lines(P),
    "not_utf8_ff": lines(P) + lines(P).replace(b"What", b"Wh\xffat"),
    "not_utf8_surrogate_bytes": lines(P).replace(b"What", b"\xed\xa0\x80"),
    "bad_json_first_line": b'{"input": }\n' + lines(P),
    "bad_json_later_line": lines(P, P) + b'{"input": [}\n',
    "truncated_last_line": lines(P) + lines(P)[:40],
    "line_is_array": lines(P, [P]),
    "line_is_string": lines('"hello"'),
    "line_is_null": lines(P) + b"null\n",
    "nan_in_ignored_field": lines(P)[:-1].replace(
        b'"content": "4"}', b'"content": "4", "score": NaN}'
    )
    + b"\n",
    "infinity_in_ignored_field": lines(P)[:-1].replace(
        b'"content": "5"}', b'"content": "5", "score": -Infinity}'
    )
    + b"\n",
    "nan_as_content": lines(P)[:-1].replace(b'"content": "4"', b'"content": NaN') + b"\n",
    "duplicate_key_last_valid": lines(P)[:-1].replace(
        b'"content": "4"', b'"content": 4, "content": "4"'
    )
    + b"\n",
    "duplicate_key_last_invalid": lines(P)[:-1].replace(
        b'"content": "4"', b'"content": "4", "content": 4'
    )
    + b"\n",
    "lone_cr_splits_line": lines(P)[:-1].replace(b', "preferred_output"', b',\r"preferred_output"')
    + b"\n",
    "raw_tab_in_string": lines(P).replace(b"What is", b"What\tis"),
    "form_feed_before_object": b"\x0c" + lines(P),
    "nul_byte_after_object": lines(P)[:-1] + b"\x00\n",
    "huge_integer_ignored_field": lines(P)[:-1].replace(
        b'"content": "5"}', b'"content": "5", "n": ' + b"9" * 5000 + b"}"
    )
    + b"\n",
    "error_after_valid_lines": lines(P, P, P, {"input": {}}),
    # -- format detection (first line decides) -------------------------------------------------
    "no_format": lines({"question": "q", "answer": "a"}),
    "extra_column": lines({**P, "id": 1}),
    "extra_column_tools_top_level": lines({**P, "tools": []}),
    "extra_column_first_key_reported": lines({"meta": 1, **P, "id": 2}),
    "preference_plus_text_is_general_with_extras": lines({"text": "x", **P}),
    "messages_plus_input_is_conversation_with_extras": lines(
        {
            "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
            "input": 1,
        }
    ),
    "format_mismatch_conversation_after_preference": lines(
        P, {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    ),
    "format_mismatch_preference_after_conversation": lines(
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}, P
    ),
    "format_mismatch_line_invalid_in_own_format": lines(P, {"text": 5}),
    "valid_general": lines({"text": "hello"}, {"text": [txt]}),
    "valid_instruction": lines({"prompt": "q", "completion": "a"}),
    "instruction_completion_image": lines({"prompt": "q", "completion": [img]}),
    "general_text_number": lines({"text": 3}),
    "valid_conversation": lines(
        {
            "messages": [
                {"role": "system", "content": "s"},
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": "a"},
            ]
        }
    ),
    "conversation_without_assistant": lines({"messages": [{"role": "user", "content": "q"}]}),
    # -- §1.2 preference: input ----------------------------------------------------------------
    "input_is_list": lines(pref(input=[{"role": "user", "content": "q"}])),
    "input_is_string": lines(pref(input="q")),
    "input_without_messages": lines(pref(input={"prompt": "q"})),
    "input_with_tools_and_parallel_tool_calls": lines(
        pref(
            input={
                **msgs(("user", "q")),
                "tools": [{"type": "function"}],
                "parallel_tool_calls": "yes",
            }
        )
    ),
    "last_input_assistant": lines(pref(input=msgs(("user", "q"), ("assistant", "a")))),
    "last_input_system": lines(pref(input=msgs(("user", "q"), ("system", "s")))),
    "valid_multi_turn_with_system": lines(
        pref(input=msgs(("system", "s"), ("user", "q"), ("assistant", "a"), ("user", "q2")))
    ),
    "valid_starts_with_assistant": lines(pref(input=msgs(("assistant", "hi"), ("user", "q")))),
    "valid_system_in_middle": lines(
        pref(input=msgs(("user", "q"), ("system", "s"), ("user", "q")))
    ),
    # -- §1.3 messages ---------------------------------------------------------------------------
    "messages_is_dict": lines(pref(input={"messages": {"role": "user", "content": "q"}})),
    "messages_empty": lines(pref(input={"messages": []})),
    "message_is_string": lines(pref(input={"messages": ["q"]})),
    "message_without_role": lines(pref(input={"messages": [{"content": "q"}]})),
    "message_without_content": lines(pref(input={"messages": [{"role": "user"}]})),
    "weight_float": lines(
        pref(input={"messages": [{"role": "user", "content": "q", "weight": 1.0}]})
    ),
    "weight_two": lines(pref(input={"messages": [{"role": "user", "content": "q", "weight": 2}]})),
    "weight_bool_is_int": lines(
        pref(input={"messages": [{"role": "user", "content": "q", "weight": True}]})
    ),
    "weight_zero": lines(pref(input={"messages": [{"role": "user", "content": "q", "weight": 0}]})),
    "role_not_string": lines(pref(input={"messages": [{"role": 1, "content": "q"}]})),
    "role_tool": lines(
        pref(input=msgs(("user", "q"), ("assistant", "a"), ("tool", "r"), ("user", "q")))
    ),
    "role_repeated": lines(pref(input=msgs(("user", "q"), ("user", "q2")))),
    "message_extra_keys_ignored": lines(
        pref(
            input={"messages": [{"role": "user", "content": "q", "name": "bob", "tool_calls": []}]}
        )
    ),
    "content_null": lines(pref(input=msgs(("user", None)))),
    "content_dict": lines(pref(input=msgs(("user", {"text": "q"})))),
    "valid_multimodal_user": lines(pref(input=msgs(("user", [txt, img])))),
    "mixed_multimodal_and_text": lines(pref(input=msgs(("system", "s"), ("user", [txt, img])))),
    "image_in_system_message": lines(pref(input=msgs(("system", [img]), ("user", [txt])))),
    "image_bad_prefix": lines(
        pref(input=msgs(("user", [{"type": "image_url", "image_url": {"url": "http://x/a.png"}}])))
    ),
    "image_url_not_dict": lines(
        pref(input=msgs(("user", [{"type": "image_url", "image_url": PNG}])))
    ),
    "image_url_missing_url": lines(
        pref(input=msgs(("user", [{"type": "image_url", "image_url": {}}])))
    ),
    "content_part_without_type": lines(pref(input=msgs(("user", [{"text": "q"}])))),
    "content_part_type_audio": lines(pref(input=msgs(("user", [{"type": "audio"}])))),
    "content_part_text_not_string": lines(
        pref(input=msgs(("user", [{"type": "text", "text": 5}])))
    ),
    "content_part_not_dict": lines(pref(input=msgs(("user", ["q"])))),
    "eleven_images_one_message": lines(pref(input=msgs(("user", [img] * 11)))),
    "eleven_images_across_messages": lines(
        pref(input=msgs(("user", [img] * 6), ("assistant", [txt]), ("user", [img] * 5)))
    ),
    "image_with_weight_one": lines(
        pref(input={"messages": [{"role": "user", "content": [img], "weight": 1}]})
    ),
    # -- §1.2 preference: outputs (both sides) -------------------------------------------------
    "preferred_not_list": lines(pref(preferred_output={"role": "assistant", "content": "4"})),
    "non_preferred_not_list": lines(pref(non_preferred_output="5")),
    "preferred_empty_list": lines(pref(preferred_output=[])),
    "non_preferred_two_messages": lines(pref(non_preferred_output=out() + out())),
    "preferred_element_string": lines(pref(preferred_output=["4"])),
    "non_preferred_element_list": lines(pref(non_preferred_output=[["5"]])),
    "preferred_without_role": lines(pref(preferred_output=[{"content": "4"}])),
    "non_preferred_without_role": lines(pref(non_preferred_output=[{"content": "5"}])),
    "preferred_role_user": lines(pref(preferred_output=[{"role": "user", "content": "4"}])),
    "non_preferred_role_tool": lines(pref(non_preferred_output=[{"role": "tool", "content": "5"}])),
    "preferred_without_content": lines(pref(preferred_output=[{"role": "assistant"}])),
    "non_preferred_without_content": lines(
        pref(non_preferred_output=[{"role": "assistant", "tool_calls": []}])
    ),
    "preferred_content_null": lines(
        pref(preferred_output=[{"role": "assistant", "content": None}])
    ),
    "non_preferred_content_number": lines(
        pref(non_preferred_output=[{"role": "assistant", "content": 5}])
    ),
    "preferred_content_image": lines(
        pref(preferred_output=[{"role": "assistant", "content": [img]}])
    ),
    "valid_output_text_parts": lines(
        pref(preferred_output=[{"role": "assistant", "content": [txt]}])
    ),
    "valid_empty_output_content": lines(
        pref(preferred_output=[{"role": "assistant", "content": ""}])
    ),
    "valid_identical_outputs": lines(
        pref(non_preferred_output=[{"role": "assistant", "content": "4"}])
    ),
    "valid_output_weight_ignored": lines(pref(preferred_output=out(weight=5))),
    "both_outputs_bad_preferred_reported": lines(
        pref(preferred_output=[], non_preferred_output=[{"role": "user", "content": "x"}])
    ),
    "input_error_before_output_error": lines(pref(input=msgs(("tool", "q")), preferred_output=[])),
}

EXTENSIONS = {"wrong_extension": ".json", "uppercase_extension": ".JSONL"}


def write_cases() -> list[Path]:
    CASES.mkdir(exist_ok=True)
    for old in CASES.iterdir():
        old.unlink()
    paths = []
    for name, data in CASE_BYTES.items():
        p = CASES / f"{name}.jsonl"
        p.write_bytes(data)
        paths.append(p)
    for name, ext in EXTENSIONS.items():
        p = CASES / f"{name}{ext}"
        p.write_bytes(lines(P))
        paths.append(p)
    return paths


ORACLE = r"""
import json, sys, os
os.environ["TOGETHER_NO_BANNER"] = "1"
from together.utils.files import check_file
out = {}
for path in sys.argv[1:]:
    try:
        r = check_file(path)
        out[os.path.basename(path)] = {
            "ok": bool(r["is_check_passed"]),
            "message": r.get("message"),
            "line": r.get("line_number"),
            "filetype": r.get("filetype"),
        }
    except BaseException as exc:
        out[os.path.basename(path)] = {"ok": False, "message": f"CRASH {type(exc).__name__}: {exc}",
                                       "line": None, "filetype": None}
print(json.dumps(out))
"""


def confirm(side_python: str, paths: list[Path]) -> None:
    sys.path.insert(0, str(HERE.parents[1]))
    from prefnb.validation import validate

    proc = subprocess.run(
        [side_python, "-c", ORACLE, *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
        env={"TOGETHER_NO_BANNER": "1", "PATH": "/usr/bin:/bin"},
    )
    sdk = json.loads(proc.stdout.strip().splitlines()[-1])
    version = (
        subprocess.run(
            [side_python, "-c", "import together; print(together.version)"],
            capture_output=True,
            text=True,
            check=True,
            env={"TOGETHER_NO_BANNER": "1"},
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    expected: dict[str, Any] = {"_together_version": version, "cases": {}}
    mismatches = []
    for p in paths:
        s = sdk[p.name]
        report = validate(p, profile="together-1.5.34")
        first = report.errors[0] if report.errors else None
        message = s["filetype"] if p.suffix != ".jsonl" else s["message"]
        entry = {
            "ok": s["ok"],
            # paths in messages are made relative to cases/ so the file does not depend on
            # where the repository lives
            "sdk_message": message.replace(f"{CASES}/", ""),
            "sdk_line": s["line"],
            "code": first.code if first else None,
            "line": first.line if first else None,
        }
        expected["cases"][p.name] = entry
        if report.ok != s["ok"]:
            mismatches.append(f"{p.name}: SDK ok={s['ok']} ({s['message']}), prefnb {report}")
    if mismatches:
        print("\n".join(mismatches))
        raise SystemExit(f"{len(mismatches)} verdict mismatch(es); expected.json not written")
    EXPECTED.write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(paths)} cases confirmed against together {version}")


if __name__ == "__main__":
    written = write_cases()
    print(f"wrote {len(written)} cases to {CASES}")
    if len(sys.argv) == 3 and sys.argv[1] == "--confirm":
        confirm(sys.argv[2], written)
