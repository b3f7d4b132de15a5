"""The Labeler on a shared store: claimed queues (overlap, leases), adjudication, and a
PostgreSQL server that stops mid-session, through the real message handler and in Chromium."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from labeler_host import host

from prefnb.labeler import Labeler
from prefnb.labels import LabelStore
from prefnb.pairs import pairs_frame

ROOT = ".prefnb-labeler"


def frame(n: int) -> pd.DataFrame:
    return pairs_frame(
        [
            {"prompt": f"Question {i}?", "response_a": f"Alpha {i}", "response_b": f"Beta {i}"}
            for i in range(n)
        ]
    )


class Wire:
    def __init__(self, lab: Labeler) -> None:
        self.lab, self.out, self.seq = lab, [], 0
        lab.send = lambda msg, buffers=None: self.out.append(msg)

    def __call__(self, **msg: Any) -> list[dict[str, Any]]:
        start = len(self.out)
        self.lab._on_msg(self.lab, {"view": "v", **msg}, [])
        return self.out[start:]

    def queue(self) -> list[int]:
        """Every position this view would show, walking forward as the browser does."""
        init = self(type="hello")[0]
        items = init["items"]
        out = [i["pos"] for i in items]
        while True:
            more = self(type="fetch", req=1, anchor=out[-1] if out else -1, direction=1,
                        count=10, unlabeled_only=False)[0]  # fmt: skip
            if not more["items"]:
                return out
            out += [i["pos"] for i in more["items"]]

    def label(self, item: dict[str, Any], verdict: str) -> dict[str, Any]:
        self.seq += 1
        return self(type="label", seq=self.seq, pair_id=item["pair_id"], pos=item["pos"],
                    verdict=verdict, shown=item["shown"], strength=None, audit=False,
                    duration_ms=5)[0]  # fmt: skip


def test_overlap_splits_the_frame_and_each_queue_keeps_frame_order(any_store_target: str) -> None:
    df = frame(12)
    store = LabelStore(any_store_target)
    al = Wire(Labeler(df, store=store, annotator="al", overlap=1, audit_rate=0))
    bo = Wire(Labeler(df, store=store, annotator="bo", overlap=1, audit_rate=0))
    a_queue = al.queue()  # al claims as it fetches ahead: everything not taken yet
    b_queue = bo.queue()
    assert a_queue == sorted(a_queue)
    assert len(a_queue) == 12  # nobody else had claimed anything
    assert b_queue == []  # overlap 1: bo gets nothing al holds
    assert al.lab.release() == 12
    cy = Wire(Labeler(df, store=store, annotator="cy", overlap=2, audit_rate=0))
    dee = Wire(Labeler(df, store=store, annotator="dee", overlap=2, audit_rate=0))
    eve = Wire(Labeler(df, store=store, annotator="eve", overlap=2, audit_rate=0))
    assert cy.queue() == list(range(12))
    assert dee.queue() == list(range(12))
    assert eve.queue() == []
    store.close()


def test_one_annotator_with_overlap_one_labels_like_a_solo_labeler(tmp_path: Path) -> None:
    df = frame(5)
    team = Wire(Labeler(df, store=tmp_path / "t.sqlite", annotator="al", overlap=1, seed=3))
    solo = Wire(Labeler(df, store=tmp_path / "s.sqlite", annotator="al", seed=3))
    t_init, s_init = team(type="hello")[0], solo(type="hello")[0]
    assert t_init["cursor"] == s_init["cursor"] == 0
    assert t_init["items"] == s_init["items"]
    saved = team.label(t_init["items"][0], "a")
    assert saved["type"] == "saved"
    assert team.lab.labels["pair_id"].tolist() == [df.pair_id[0]]


def test_adjudicate_mode_shows_votes_and_stores_an_adjudication(any_store_target: str) -> None:
    df = frame(3)
    with LabelStore(any_store_target) as s:
        s.record(pair_id=df.pair_id[1], annotator="al", kind="label", verdict="a", note="A cites")
        s.record(
            pair_id=df.pair_id[1], annotator="bo", kind="label", verdict="b", strength="strong"
        )
        s.record(pair_id=df.pair_id[2], annotator="al", kind="label", verdict="a")
        s.record(pair_id=df.pair_id[2], annotator="bo", kind="label", verdict="a")
        lead = Wire(Labeler(df, store=s, annotator="lead", mode="adjudicate"))
        init = lead(type="hello")[0]
        assert [i["pos"] for i in init["items"]] == [1]  # only the disputed pair
        votes = init["items"][0]["votes"]
        assert votes == [
            {"annotator": "al", "label": "a", "strength": None, "note": "A cites"},
            {"annotator": "bo", "label": "b", "strength": "strong", "note": None},
        ]
        assert lead.label(init["items"][0], "b")["type"] == "saved"
        adj = s.adjudications()
        assert adj[["pair_id", "adjudicator", "verdict"]].values.tolist() == [
            [df.pair_id[1], "lead", "b"]
        ]
        lead.seq += 1
        err = lead(type="undo", seq=lead.seq, pair_id=df.pair_id[1], pos=1)[0]
        assert err["type"] == "error"
        assert "not undone" in err["message"]
        assert s.events()["annotator"].tolist().count("lead") == 0  # no label event


def _saved_state(page: Any) -> str:
    return str(page.locator(".pl-saved").get_attribute("data-state"))


@pytest.mark.browser
def test_server_stop_shows_not_saved_and_retry_resumes_without_reload(
    page: Any, own_cluster: Any
) -> None:
    url = own_cluster.label_store_url("prefs")
    store = LabelStore(url)
    lab = Labeler(
        frame(20), store=store, annotator="al", overlap=2, lease_s=600, audit_rate=0, seed=1
    )
    host(page, lab)
    page.locator(f"{ROOT}[data-state]").wait_for()
    page.locator(ROOT).focus()
    page.keyboard.press("1")
    page.wait_for_function("() => document.querySelector('.pl-saved').dataset.state === 'saved'")
    own_cluster.stop()
    t0 = time.monotonic()
    page.keyboard.press("2")
    page.wait_for_function("() => document.querySelector('.pl-saved').dataset.state === 'error'")
    assert time.monotonic() - t0 < 5
    assert page.locator(".pl-saved").inner_text() == "⚠ not saved"
    assert "cannot reach the server" in page.locator(".pl-status").inner_text()
    own_cluster.start()
    page.get_by_role("button", name="Retry saving").click()
    page.wait_for_function("() => document.querySelector('.pl-saved').dataset.state === 'saved'")
    assert len(lab.labels) == 2  # nothing lost, nothing twice
    assert store.events()["kind"].tolist() == ["label", "label"]
    store.close()


@pytest.mark.browser
def test_adjudication_view_in_chromium(page: Any, tmp_path: Path) -> None:
    df = frame(2)
    with LabelStore(tmp_path / "l.sqlite") as s:
        s.record(
            pair_id=df.pair_id[0], annotator="al", kind="label", verdict="a", note="<b>A</b> cites"
        )
        s.record(
            pair_id=df.pair_id[0], annotator="bo", kind="label", verdict="tie", strength="clear"
        )
    lab = Labeler(df, store=tmp_path / "l.sqlite", annotator="lead", mode="adjudicate", seed=2)
    page.set_viewport_size({"width": 1100, "height": 700})
    host(page, lab)
    page.locator(f"{ROOT}[data-state]").wait_for()
    votes = page.locator(".pl-stage > .pl-shown .pl-votes")
    votes.wait_for()
    text = votes.inner_text()
    assert "al" in text
    assert "bo tie (clear)" in text
    assert "“<b>A</b> cites”" in text  # a note is text, never markup
    side = "left" if lab._window.item(0)["shown"][0] == "a" else "right"
    assert f"al {side}" in text
    page.screenshot(path=str(tmp_path / "adjudicate.png"))
    page.locator(ROOT).focus()
    page.keyboard.press("1")
    page.wait_for_function("() => document.querySelector('.pl-saved').dataset.state === 'saved'")
    with LabelStore(tmp_path / "l.sqlite") as s:
        assert s.adjudications()["adjudicator"].tolist() == ["lead"]


def label_to_end(
    w: Wire, verdict: str = "a", cursor: int | None = None
) -> tuple[list[int], list[dict[str, Any]]]:
    """Label every pair the view offers from ``cursor`` (None: say hello first), as a person
    pressing one key per pair would, following the kernel's jumps; return the positions
    labeled and every message seen."""
    seen: list[dict[str, Any]] = []
    if cursor is None:
        seen.append(w(type="hello")[0])
        cursor = seen[0]["cursor"]
    done: list[int] = []
    while cursor < len(w.lab._df):
        reply = w(type="fetch", req=1, anchor=cursor - 1, direction=1, count=1,
                  unlabeled_only=True)[0]  # fmt: skip
        if not reply["items"]:
            break
        item = reply["items"][0]
        w.seq += 1
        out = w(type="label", seq=w.seq, pair_id=item["pair_id"], pos=item["pos"],
                verdict=verdict, shown=item["shown"], strength=None, audit=False,
                duration_ms=5)  # fmt: skip
        assert out[0]["type"] == "saved"
        seen += out
        done.append(item["pos"])
        jumps = [m["cursor"] for m in out if m["type"] == "jump"]
        cursor = jumps[-1] if jumps else item["pos"] + 1
    return done, seen


def test_the_queue_wraps_around_to_pairs_left_short_behind(any_store_target: str) -> None:
    df = frame(60)
    store = LabelStore(any_store_target)
    # bo and cy take the first pairs, then walk away (short leases).
    t0 = time.monotonic()
    assert len(store.claim("bo", df.pair_id[:10], overlap=2, limit=10, lease_s=2)) == 10
    assert len(store.claim("cy", df.pair_id[:10], overlap=2, limit=10, lease_s=2)) == 10
    al = Wire(Labeler(df, store=store, annotator="al", overlap=2, audit_rate=0))
    dee = Wire(Labeler(df, store=store, annotator="dee", overlap=2, audit_rate=0))
    first = al(type="hello")[0]
    assert time.monotonic() - t0 < 2, "too slow to see bo's and cy's leases live"
    assert first["cursor"] == 10  # pairs 0-9 are full: al's queue starts after them
    # bo's and cy's leases run out while al labels further on.
    time.sleep(max(0.0, 2.2 - (time.monotonic() - t0)))
    a_done, a_msgs = label_to_end(al, "a", cursor=first["cursor"])
    d_done, _ = label_to_end(dee, "b")
    # Each labels 10..59, then wraps to 0..9 (in frame order), and labels them too.
    assert a_done == list(range(10, 60)) + list(range(10))
    assert d_done == list(range(60))  # dee started after the leases ran out: no wrap needed
    assert [m["cursor"] for m in a_msgs if m["type"] == "jump"] == [0]
    counts = store.current()["pair_id"].value_counts()
    assert len(counts) == 60
    assert set(counts) == {2}  # overlap 2: every pair ends with exactly two labels
    store.close()


def test_one_annotator_never_wraps(tmp_path: Path) -> None:
    df = frame(30)
    al = Wire(Labeler(df, store=tmp_path / "l.sqlite", annotator="al", overlap=1, audit_rate=0))
    done, msgs = label_to_end(al)
    assert done == list(range(30))
    assert not [m for m in msgs if m["type"] in ("jump", "error")]


def test_a_late_label_is_kept_and_the_annotator_told(any_store_target: str) -> None:
    df = frame(4)
    store = LabelStore(any_store_target)
    al = Wire(Labeler(df, store=store, annotator="al", overlap=1, lease_s=0.4, audit_rate=0))
    items = al(type="hello")[0]["items"]
    assert [i["pos"] for i in items] == [0, 1, 2, 3]
    time.sleep(0.6)  # al's leases expire; bo takes pair 0 and labels it
    assert store.claim("bo", [df.pair_id[0]], overlap=1) == [df.pair_id[0]]
    store.record(pair_id=df.pair_id[0], annotator="bo", kind="label", verdict="b")
    out = al(type="label", seq=1, pair_id=items[0]["pair_id"], pos=0, verdict="a",
             shown=items[0]["shown"], strength=None, audit=False, duration_ms=5)  # fmt: skip
    assert out[0]["type"] == "saved"  # never lose a person's label...
    assert out[1]["type"] == "error"  # ...but say it is an extra one
    assert out[1]["seq"] is None
    assert "kept as an extra one" in out[1]["message"]
    assert sorted(store.current()["annotator"][store.current()["pair_id"] == df.pair_id[0]]) == [
        "al",
        "bo",
    ]
    # Pair 1: al's lease expired too, but nobody took it: the label renews the claim and
    # nobody else can claim the pair past its quota.
    out = al(type="label", seq=2, pair_id=items[1]["pair_id"], pos=1, verdict="a",
             shown=items[1]["shown"], strength=None, audit=False, duration_ms=5)  # fmt: skip
    assert [m["type"] for m in out] == ["saved"]
    assert store.claim("bo", [df.pair_id[1]], overlap=1) == []
    # Pair 2: al's lease expired and bo holds it now (a live claim, no label yet): al's
    # late label is kept and flagged, and live claims still never exceed the quota.
    assert store.claim("bo", [df.pair_id[2]], overlap=1) == [df.pair_id[2]]
    out = al(type="label", seq=3, pair_id=items[2]["pair_id"], pos=2, verdict="a",
             shown=items[2]["shown"], strength=None, audit=False, duration_ms=5)  # fmt: skip
    assert [m["type"] for m in out] == ["saved", "error"]
    live = store.claims()
    assert (live["pair_id"].value_counts() <= 1).all()
    assert len(store.events()) == 4  # bo's label and al's three: nothing lost
    store.close()


def test_a_note_on_a_decided_pair_is_stored_on_the_adjudication(any_store_target: str) -> None:
    df = frame(2)
    with LabelStore(any_store_target) as s:
        for pid in df.pair_id:
            s.record(pair_id=pid, annotator="al", kind="label", verdict="a")
            s.record(pair_id=pid, annotator="bo", kind="label", verdict="b")
        lead = Wire(Labeler(df, store=s, annotator="lead", mode="adjudicate"))
        first, second = lead(type="hello")[0]["items"][:2]
        # Pair 0: verdict, then a note: the note joins the decision (a new adjudication).
        assert lead.label(first, "b")["type"] == "saved"
        lead.seq += 1
        out = lead(type="note", seq=lead.seq, pair_id=first["pair_id"], pos=0,
                   note="B cites the source")[0]  # fmt: skip
        assert out["type"] == "saved"
        # Pair 1: a note first (kept as a note event), then the verdict, which carries it.
        lead.seq += 1
        lead(type="note", seq=lead.seq, pair_id=second["pair_id"], pos=1, note="A is shorter")
        assert lead.label(second, "a")["type"] == "saved"
        # A verdict changed later keeps the note.
        assert lead.label(first, "tie")["type"] == "saved"
        adj = s.adjudications()
        assert adj[["pair_id", "verdict", "note"]].values.tolist() == [
            [df.pair_id[1], "a", "A is shorter"],
            [df.pair_id[0], "tie", "B cites the source"],
        ]
        history = s.adjudications(latest=False)
        assert history["note"].tolist() == [None, "B cites the source", "A is shorter",
                                            "B cites the source"]  # fmt: skip
        assert set(history["basis"].iloc[1]) == {"al", "bo"}  # provenance, as for a verdict
        lead_events = s.events("lead")
        assert lead_events[["pair_id", "kind"]].values.tolist() == [[df.pair_id[1], "note"]]


def test_a_note_before_the_verdict_comes_back_in_a_new_session(any_store_target: str) -> None:
    df = frame(2)
    with LabelStore(any_store_target) as s:
        s.record(pair_id=df.pair_id[1], annotator="al", kind="label", verdict="a")
        s.record(pair_id=df.pair_id[1], annotator="bo", kind="label", verdict="b")
        lead = Wire(Labeler(df, store=s, annotator="lead", mode="adjudicate"))
        item = lead(type="hello")[0]["items"][0]
        lead.seq += 1
        lead(type="note", seq=lead.seq, pair_id=item["pair_id"], pos=1, note="ask al")
        # The notebook is closed; the lead comes back later and decides.
        again = Wire(Labeler(df, store=s, annotator="lead", mode="adjudicate"))
        item = again(type="hello")[0]["items"][0]
        assert item["note"] == "ask al"
        assert item["label"] is None
        assert again.label(item, "b")["type"] == "saved"
        assert s.adjudications()["note"].tolist() == ["ask al"]


@pytest.mark.browser
def test_the_view_wraps_around_in_chromium(page: Any, tmp_path: Path) -> None:
    df = frame(25)
    store = LabelStore(tmp_path / "l.sqlite")
    t0 = time.monotonic()
    store.claim("bo", df.pair_id[:3], overlap=1, limit=3, lease_s=3)  # bo walks away
    lab = Labeler(df, store=store, annotator="al", overlap=1, audit_rate=0, seed=1)
    host(page, lab)
    page.locator(f"{ROOT}[data-pos='3']").wait_for()
    assert time.monotonic() - t0 < 3, "the page took longer than bo's lease to open"
    time.sleep(max(0.0, 3.2 - (time.monotonic() - t0)))
    page.locator(ROOT).focus()
    for pos in range(3, 25):
        page.locator(f"{ROOT}[data-pos='{pos}']").wait_for()
        page.keyboard.press("1")
    # Past the last pair: the kernel moves the view back to the pairs bo left behind.
    page.locator(f"{ROOT}[data-pos='0']").wait_for(timeout=10_000)
    for pos in range(3):
        page.locator(f"{ROOT}[data-pos='{pos}']").wait_for()
        page.keyboard.press("1")
    page.wait_for_function(
        "() => document.querySelector('.pl-saved').dataset.state === 'saved'"
        " && document.querySelector('.pl-stage').innerText.includes('every pair has a label')"
    )
    assert sorted(lab.labels["pair_id"]) == sorted(df.pair_id)
    store.close()


def test_late_labels_at_the_same_instant_claim_one_quota_slot(any_store_target: str) -> None:
    import threading

    df = frame(1)
    pid = df.pair_id[0]
    LabelStore(any_store_target).close()
    views = []
    for name in ("al", "bo", "cy", "dee"):
        # Each took the pair in turn and let its lease run out: all four hold it on screen.
        w = Wire(Labeler(df, store=LabelStore(any_store_target), annotator=name, overlap=1,
                         lease_s=0.3, audit_rate=0))  # fmt: skip
        assert [i["pos"] for i in w(type="hello")[0]["items"]] == [0]
        views.append(w)
        time.sleep(0.4)
    start = threading.Barrier(len(views))
    replies: dict[str, list[str]] = {}

    def late_label(w: Wire) -> None:
        item = w.lab._window.item(0)
        start.wait()
        out = w(type="label", seq=1, pair_id=pid, pos=0, verdict="a", shown=item["shown"],
                strength=None, audit=False, duration_ms=5)  # fmt: skip
        replies[w.lab.annotator] = [m["type"] for m in out]

    threads = [threading.Thread(target=late_label, args=(w,)) for w in views]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r[0] == "saved" for r in replies.values())  # every label kept
    assert sorted(len(r) for r in replies.values()) == [1, 2, 2, 2]  # one within quota
    with LabelStore(any_store_target) as s:
        assert len(s.current()) == 4
        assert len(s.claims()) == 1  # the quota of claims holds
    for w in views:
        w.lab.store.close()
