"""One protocol, one vocabulary: the JS typedefs in ``js/lib/protocol.js`` and the
TypedDicts in ``prefnb/labeler/messages.py`` describe the same messages field by field, the
JS reads only traits the widget declares, and ``js/lib/vocab.js`` says what ``prefnb.vocab``
says."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, is_typeddict

import pytest
import traitlets

from prefnb import vocab
from prefnb.labeler import Labeler, messages

ROOT = Path(__file__).resolve().parents[2]
#: Typedefs with no Python twin: the anywidget model type built from LabelerTraits.
JS_ONLY = {"LabelerModel"}


@pytest.fixture(scope="module")
def js() -> dict[str, Any]:
    if shutil.which("node") is None or not (ROOT / "js" / "node_modules" / "typescript").exists():
        # README's install builds the bundle, which installs them: never skip silently
        pytest.fail("node and `npm --prefix js install` are needed to read the JS side")
    proc = subprocess.run(
        ["node", "js/tools/protocol_shape.mjs"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    shape: dict[str, Any] = json.loads(proc.stdout)
    assert shape["errors"] == [], shape["errors"]
    return shape


def describe(annotation: Any) -> list[str]:
    """The same structural description the JS side prints, for a Python annotation."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return sorted({m for arg in get_args(annotation) for m in describe(arg)})
    if origin is Literal:
        return sorted(
            ("true" if v else "false") if isinstance(v, bool) else json.dumps(v)
            for v in get_args(annotation)
        )
    if origin is list:
        (elem,) = get_args(annotation)
        return [f"Array<{'|'.join(describe(elem))}>"]
    if origin is dict:
        key, value = get_args(annotation)
        assert key is str
        return [f"Record<string, {'|'.join(describe(value))}>"]
    if is_typeddict(annotation):
        return [annotation.__name__]
    simple = {str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}
    return [simple[annotation]]


def python_side() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in messages.__all__:
        obj = getattr(messages, name)
        if is_typeddict(obj):
            hints = typing.get_type_hints(obj)
            out[name] = {field: describe(t) for field, t in hints.items()}
            # NotRequired is a JS optional field (`x?:`). Read from the annotations: with
            # postponed annotations, Python 3.11 lists such keys as required.
            extras = typing.get_type_hints(obj, include_extras=True)
            for field, t in extras.items():
                if get_origin(t) is typing.NotRequired:
                    out[name][field] = sorted([*out[name][field], "undefined"])
        elif get_origin(obj) in (Union, types.UnionType) and all(
            is_typeddict(a) for a in get_args(obj)
        ):
            out[name] = sorted(a.__name__ for a in get_args(obj))
    return out


def test_every_message_is_described_alike_field_by_field(js: dict[str, Any]) -> None:
    py = python_side()
    jst = {k: v for k, v in js["types"].items() if k not in JS_ONLY and k != "LabelerTraits"}
    assert set(py) == set(jst), set(py) ^ set(jst)
    for name in sorted(py):
        if isinstance(py[name], dict):
            assert set(py[name]) == set(jst[name]), (name, set(py[name]) ^ set(jst[name]))
            for field in py[name]:
                assert py[name][field] == jst[name][field], (name, field)
        else:
            assert py[name] == jst[name], name
    # The unions cover every message type of each direction.
    assert "BrowserMessage" in py
    assert "KernelMessage" in py


def test_describe_would_see_a_drifted_field() -> None:
    class Drift(typing.TypedDict):
        seq: int | None
        verdict: vocab.Verdict

    hints = typing.get_type_hints(Drift)
    assert describe(hints["seq"]) == ["null", "number"]
    assert describe(hints["verdict"]) == ['"a"', '"b"', '"both_bad"', '"skip"', '"tie"']


def test_js_reads_only_declared_traits(js: dict[str, Any]) -> None:
    kinds = {traitlets.Unicode: ["string"], traitlets.Int: ["number"], traitlets.Bool: ["boolean"]}
    declared = {
        name: sorted(f'"{v}"' for v in trait.values)  # an Enum: its values, as literals
        if isinstance(trait, traitlets.Enum)
        else kinds[type(trait)]
        for name, trait in Labeler.class_own_traits(sync=True).items()
        if not name.startswith("_")
    }
    assert js["types"]["LabelerTraits"] == declared
    # …and every model.get in the front end names one of them.
    used = set()
    for path in (ROOT / "js").rglob("*.js"):
        if "node_modules" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if "LabelerModel" in text or "labeler" in path.name:
            used |= set(re.findall(r"model\.get\(\"(\w+)\"\)", text))
    assert used, "no model.get(...) found: the scan is broken"
    assert used <= set(declared), used - set(declared)


def test_vocabularies_are_the_same_on_both_sides(js: dict[str, Any]) -> None:
    v = js["vocab"]
    assert tuple(v["VERDICTS"]) == vocab.VERDICTS
    assert tuple(v["STRENGTHS"]) == vocab.STRENGTHS
    assert v["VERDICT_NAMES"] == vocab.VERDICT_NAMES
    # Every verdict but a/b is its own choice; a and b are chosen as left/right.
    assert set(v["CHOICES"]) == {"left", "right"} | (set(vocab.VERDICTS) - {"a", "b"})
    assert {f"strength-{s}" for s in vocab.STRENGTHS} <= set(v["ACTIONS"])
