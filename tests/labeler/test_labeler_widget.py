"""The Labeler's kernel side driven through its real message handler and a real store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import prefnb
from prefnb.labeler import Labeler
from prefnb.labels import LabelStore
from prefnb.pairs import PairSchemaError, pairs_frame


def frame(n: int) -> pd.DataFrame:
    return pairs_frame(
        [
            {"prompt": f"question {i}", "response_a": f"a{i}", "response_b": f"b{i}"}
            for i in range(n)
        ]
    )


class Wire:
    """Captures what the widget sends and feeds it browser messages."""

    def __init__(self, lab: Labeler) -> None:
        self.lab = lab
        self.out: list[dict[str, Any]] = []
        self.seq = 1000  # a fresh sequence number per write, as the browser's view gives
        lab.send = lambda msg, buffers=None: self.out.append(msg)

    def __call__(self, **msg: Any) -> list[dict[str, Any]]:
        start = len(self.out)
        self.lab._on_msg(self.lab, {"view": "v1", **msg}, [])
        return self.out[start:]

    def label(self, pos: int, verdict: str, **extra: Any) -> list[dict[str, Any]]:
        item = self(
            type="fetch", req=0, anchor=pos - 1, direction=1, count=1, unlabeled_only=False
        )[0]["items"][0]
        self.seq += 1
        return self(
            type="label",
            seq=extra.get("seq", self.seq),
            pair_id=item["pair_id"],
            pos=pos,
            verdict=verdict,
            shown=item["shown"],
            strength=extra.get("strength"),
            audit=extra.get("audit", False),
            duration_ms=12,
        )


def test_public_export_and_repr(tmp_path: Path) -> None:
    lab = prefnb.Labeler(frame(3), store=tmp_path / "l.sqlite", annotator="bob")
    assert repr(lab) == "Labeler(3 pairs, annotator='bob', labeled=0)"
    assert lab.total == 3
    assert lab.annotator == "bob"
    assert lab.guidelines == ""


def test_rejects_unknown_kwargs_and_bad_options(tmp_path: Path) -> None:
    store = tmp_path / "l.sqlite"
    with pytest.raises(TypeError, match="unexpected keyword argument 'annotater'"):
        Labeler(frame(2), store=store, annotater="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Labeler(frame(2), store)  # type: ignore[misc]
    with pytest.raises(ValueError, match="audit_rate must be in"):
        Labeler(frame(2), store=store, audit_rate=2)
    with pytest.raises(ValueError, match="annotator must be"):
        Labeler(frame(2), store=store, annotator=" al ")
    df = frame(3)
    df.at[1, "prompt"] = float("nan")
    with pytest.raises(PairSchemaError, match=r"'prompt'.*\(rows 1\)"):
        Labeler(df, store=store)


def test_label_is_committed_before_saved_reply_and_resume(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    df = frame(6)
    lab = Labeler(df, store=path, annotator="alice", seed=3, audit_rate=0.0)
    wire = Wire(lab)
    assert wire(type="hello")[0]["cursor"] == 0
    for pos, verdict in enumerate(["a", "b", "tie"]):
        replies = wire.label(pos, verdict, strength="clear" if pos == 0 else None)
        assert replies[0]["type"] == "saved"
        assert replies[0]["seq"] == wire.seq
        # "saved" means committed: a second connection sees it already.
        assert len(LabelStore(path).current(annotator="alice")) == pos + 1
    assert replies[0]["stats"]["counts"] == {"a": 1, "b": 1, "tie": 1, "both_bad": 0, "skip": 0}
    labels = lab.labels.set_index("pair_id")
    assert labels.loc[df.pair_id[0], "label"] == "a"
    assert labels.loc[df.pair_id[0], "strength"] == "clear"
    assert set(labels["shown"]) <= {"ab", "ba"}

    reopened = Labeler(df, store=path, annotator="alice")
    assert Wire(reopened)(type="hello")[0]["cursor"] == 3
    other = Labeler(df, store=path, annotator="carol")
    assert Wire(other)(type="hello")[0]["cursor"] == 0


def test_undo_edit_note_and_fetch_reflect_store(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    df = frame(4)
    lab = Labeler(df, store=path, annotator="alice", audit_rate=0.0)
    wire = Wire(lab)
    wire.label(0, "a")
    wire.label(1, "b")
    pid1 = df.pair_id[1]
    assert wire(type="undo", seq=9, pair_id=pid1, pos=1)[0]["type"] == "saved"
    assert wire(type="hello")[0]["cursor"] == 1
    assert set(lab.labels["pair_id"]) == {df.pair_id[0]}
    wire(type="edit", seq=10, pair_id=df.pair_id[0], pos=0, edited_preferred="better a0")
    wire(type="note", seq=11, pair_id=df.pair_id[0], pos=0, note="close call")
    row = lab.labels.set_index("pair_id").loc[df.pair_id[0]]
    assert (row["edited_preferred"], row["note"], row["label"]) == ("better a0", "close call", "a")
    item = wire(type="fetch", req=1, anchor=-1, direction=1, count=1, unlabeled_only=False)[0]
    assert item["items"][0]["edited"] == "better a0"
    assert item["items"][0]["note"] == "close call"
    only = wire(type="fetch", req=2, anchor=-1, direction=1, count=10, unlabeled_only=True)[0]
    assert [i["pos"] for i in only["items"]] == [1, 2, 3]
    assert only["end"] == 4


def test_audit_pushed_once_with_sides_swapped_and_stored_as_audit(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    df = frame(3)
    lab = Labeler(df, store=path, annotator="alice", audit_rate=1.0, seed=2)
    wire = Wire(lab)
    replies = wire.label(0, "a")
    assert [r["type"] for r in replies] == ["saved", "audit"]
    audit = replies[1]["item"]
    first_shown = wire(type="fetch", req=0, anchor=-1, direction=1, count=1, unlabeled_only=False)[
        0
    ]["items"][0]["shown"]
    assert audit["audit"] is True
    assert audit["shown"] != first_shown
    assert 3 <= replies[1]["after_labels"] <= 10
    # Relabeling the same pair does not schedule a second audit.
    assert [r["type"] for r in wire.label(0, "b")] == ["saved"]
    wire(
        type="label",
        seq=50,
        pair_id=audit["pair_id"],
        pos=0,
        verdict="b",
        shown=audit["shown"],
        strength=None,
        audit=True,
        duration_ms=3,
    )
    events = LabelStore(path).events(annotator="alice")
    assert list(events["kind"]) == ["label", "label", "audit"]
    assert (
        lab.labels.set_index("pair_id").loc[df.pair_id[0], "label"] == "b"
    )  # audit never overwrites
    stats = lab.audit()
    assert stats.loc[0, "n_audits"] == 1


def test_bad_messages_get_error_replies_and_store_nothing(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    df = frame(3)
    lab = Labeler(df, store=path, annotator="alice")
    wire = Wire(lab)
    err = wire(
        type="label",
        seq=1,
        pair_id="wrong",
        pos=0,
        verdict="a",
        shown="ab",
        strength=None,
        audit=False,
        duration_ms=1,
    )[0]
    assert err["type"] == "error"
    assert err["seq"] == 1
    assert "not at row 0" in err["message"]
    err = wire(type="label", seq=2, pair_id=df.pair_id[0], pos=0, verdict="left",
               shown="ab", strength=None, audit=False, duration_ms=1)[0]  # fmt: skip
    assert err["type"] == "error"
    assert "verdict" in err["message"]
    assert wire(type="nonsense")[0]["message"] == "ValueError: unknown message type 'nonsense'"
    err = wire(type="edit", seq=3, pair_id=df.pair_id[0], pos=0, edited_preferred="x")[0]
    assert err["type"] == "error"
    assert "needs a current verdict of 'a' or 'b'" in err["message"]
    assert LabelStore(path).events().empty


def test_a_resent_write_is_answered_not_stored_twice(tmp_path: Path) -> None:
    df = frame(3)
    lab = Labeler(df, store=tmp_path / "l.sqlite", annotator="alice", audit_rate=0.0)
    wire = Wire(lab)
    first = wire.label(0, "a", seq=1)[0]
    wire.label(1, "b", seq=2)
    again = wire.label(0, "a", seq=1)[0]  # same view and seq: the browser lost the reply
    assert again["type"] == "saved"
    assert again["event_id"] == first["event_id"]
    undo = {"type": "undo", "seq": 7, "pair_id": df.pair_id[1], "pos": 1}
    assert wire(**undo)[0]["type"] == "saved"
    assert wire(**undo)[0]["type"] == "saved"  # resent undo: takes back one label, not two
    events = LabelStore(tmp_path / "l.sqlite").events()
    assert events["kind"].tolist() == ["label", "label", "undo"]
    assert list(lab.labels["pair_id"]) == [df.pair_id[0]]
    # the same seq from another view (a second output of the widget) is its own write
    other_view = {**undo, "pair_id": df.pair_id[0], "pos": 0, "view": "v2"}
    assert wire(**other_view)[0]["type"] == "saved"
    assert lab.labels.empty


def test_an_edit_belongs_to_the_side_it_rewrote(tmp_path: Path) -> None:
    df = frame(2)
    lab = Labeler(df, store=tmp_path / "l.sqlite", annotator="alice", audit_rate=0.0)
    wire = Wire(lab)
    wire.label(0, "a")
    wire(type="edit", seq=5, pair_id=df.pair_id[0], pos=0, edited_preferred="better a0")
    wire.label(0, "b")  # changed mind: the rewrite of a is not b's
    assert pd.isna(lab.labels.set_index("pair_id").loc[df.pair_id[0], "edited_preferred"])
    wire.label(0, "a")  # and back: the rewrite of a applies again
    assert lab.labels.set_index("pair_id").loc[df.pair_id[0], "edited_preferred"] == "better a0"


def test_goto_pushes_jump_to_every_view(tmp_path: Path) -> None:
    df = frame(5)
    lab = Labeler(df, store=tmp_path / "l.sqlite")
    wire = Wire(lab)
    lab.goto(df.pair_id[3])
    assert wire.out[-1] == {"type": "jump", "view": None, "req": None, "cursor": 3}
    assert wire(type="goto", req=4, target="#2")[0]["cursor"] == 1
    assert "no pair with pair_id" in wire(type="goto", req=5, target="zzz")[0]["message"]
    with pytest.raises(KeyError):
        lab.goto("zzz")


def test_labels_outside_the_frame_are_announced_not_dropped(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    df = frame(6)
    with LabelStore(path) as store:
        for i in range(6):
            store.record(pair_id=df.pair_id[i], annotator="alice", kind="label", verdict="a")
    lab = Labeler(df.iloc[:2], store=path, annotator="alice")
    assert (
        repr(lab) == "Labeler(2 pairs, annotator='alice', labeled=2, 4 labels outside this frame)"
    )
    init = Wire(lab)(type="hello")[0]
    assert init["cursor"] == 2  # all done
    assert "4 of alice's labels for pairs outside this DataFrame" in init["notice"]
    assert len(LabelStore(path).current(annotator="alice")) == 6
    assert len(lab.labels) == 2


def test_store_that_is_not_sqlite_is_a_clear_error(tmp_path: Path) -> None:
    from prefnb.labels import LabelStoreError

    bad = tmp_path / "labels.sqlite"
    bad.write_text("this is not a database\n" * 100)
    with pytest.raises(LabelStoreError, match=r"labels\.sqlite"):
        Labeler(frame(2), store=bad)
    assert bad.read_text().startswith("this is not a database")  # untouched


KERNEL_SETUP = """\
import prefnb
from prefnb.pairs import pairs_frame
df = pairs_frame([{{"prompt": f"q{{i}}", "response_a": f"a{{i}}", "response_b": f"b{{i}}"}}
                  for i in range(4)])
lab = prefnb.Labeler(df, store={store!r}, annotator="k", seed=1, audit_rate=0.0)
print(lab.comm.comm_id)
"""


def test_in_a_kernel_messages_are_handled_after_the_kernel_reports_idle(tmp_path: Path) -> None:
    """In a real ipykernel, the reply to a label follows the kernel's idle status (so the
    kernel is busy for no longer than any comm message makes it), and the label is stored
    before the reply all the same."""
    from jupyter_client.manager import start_new_kernel

    store = tmp_path / "labels.sqlite"
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    try:
        out: list[dict[str, Any]] = []
        reply = kc.execute_interactive(
            KERNEL_SETUP.format(store=str(store)), timeout=60, output_hook=out.append
        )
        assert reply["content"]["status"] == "ok", reply
        comm_id = next(
            m["content"]["text"].strip() for m in out if m["header"]["msg_type"] == "stream"
        )

        def send(content: dict[str, Any]) -> list[tuple[str, Any]]:
            """Send one browser message; the iopub messages it caused, in order."""
            msg = kc.session.msg(
                "comm_msg", {"comm_id": comm_id, "data": {"method": "custom", "content": content}}
            )
            kc.shell_channel.send(msg)
            seen: list[tuple[str, Any]] = []
            while not any(kind == "comm_msg" for kind, _ in seen):
                m = kc.get_iopub_msg(timeout=30)
                if m["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
                    continue
                kind = m["header"]["msg_type"]
                if kind == "status":
                    seen.append((kind, m["content"]["execution_state"]))
                elif kind == "comm_msg":
                    seen.append((kind, m["content"]["data"]["content"]))
            return seen

        hello = send({"type": "hello", "view": "v"})
        assert [k for k, _ in hello] == ["status", "status", "comm_msg"]
        assert [v for _, v in hello[:2]] == ["busy", "idle"]
        first = hello[2][1]["items"][0]
        saved = send(
            {"type": "label", "view": "v", "seq": 1, "pair_id": first["pair_id"], "pos": 0,
             "verdict": "a", "shown": first["shown"], "strength": None, "audit": False,
             "duration_ms": 5}
        )  # fmt: skip
        assert [v for _, v in saved[:2]] == ["busy", "idle"]
        assert saved[2][1]["type"] == "saved"
        assert saved[2][1]["seq"] == 1
        assert list(LabelStore(store).current(annotator="k")["pair_id"]) == [first["pair_id"]]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
