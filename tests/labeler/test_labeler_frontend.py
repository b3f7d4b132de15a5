"""The Labeler's front end in real headless Chromium, on a static page with a fake model.

The fake model forwards every custom message to the real Python widget (and its real SQLite
store) through ``page.expose_function``, so these tests cover the browser code and the
kernel handlers together; only Jupyter's transport is replaced.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from labeler_host import host
from playwright.sync_api import expect

from prefnb.labeler import Labeler
from prefnb.labels import LabelStore
from prefnb.pairs import pairs_frame

pytestmark = pytest.mark.browser

ROOT = ".prefnb-labeler"


def frame(n: int) -> pd.DataFrame:
    rows = []
    for i in range(n):
        rows.append(
            {
                "prompt": [
                    {"role": "system", "content": f"You are assistant {i}."},
                    {"role": "user", "content": f"Question **{i}**?"},
                    {"role": "assistant", "content": "Earlier answer."},
                    {"role": "user", "content": "And now?"},
                ],
                "response_a": f"Alpha answer {i}\n\n```python\ndef f():\n    return {i}\n```\n",
                "response_b": f"Beta answer {i} with more words here",
            }
        )
    return pairs_frame(rows)


def start(page: Any, tmp_path: Path, df: pd.DataFrame | None = None, **kw: Any) -> Labeler:
    df = frame(30) if df is None else df
    kw.setdefault("store", tmp_path / "labels.sqlite")
    kw.setdefault("audit_rate", 0.0)
    kw.setdefault("seed", 11)
    lab = Labeler(df, **kw)
    host(page, lab)
    page.locator(f"{ROOT}[data-state]").wait_for()
    page.locator(ROOT).focus()
    return lab


def pos(page: Any) -> int:
    return int(page.locator(ROOT).get_attribute("data-pos"))


def wait_pos(page: Any, p: int) -> None:
    page.wait_for_function(
        "p => document.querySelector('.prefnb-labeler').dataset.pos === String(p)", arg=p
    )


def wait_saved(page: Any) -> None:
    page.wait_for_function("() => document.querySelector('.pl-saved').dataset.state === 'saved'")


def test_renders_conversation_panes_lengths_and_code(page: Any, tmp_path: Path) -> None:
    lab = start(page, tmp_path, guidelines="Prefer **correct** answers.")
    wait_pos(page, 0)
    item = lab._window.item(0)
    system = page.locator(".pl-stage > .pl-shown details.pl-role-system")
    assert system.count() == 1
    assert system.get_attribute("open") is None  # collapsed by default
    assert page.locator(".pl-stage > .pl-shown .pl-role-user").count() == 2
    assert page.locator(".pl-stage > .pl-shown .pl-role-user strong").first.inner_text() == "0"
    left = page.locator(".pl-stage > .pl-shown .pl-left")
    assert item["left"].split("\n")[0] in left.inner_text()
    assert f"{len(item['left'])} chars" in left.locator(".pl-len").inner_text()
    code_side = ".pl-left" if item["shown"] == "ab" else ".pl-right"
    assert page.locator(f".pl-stage > .pl-shown {code_side} code.hljs .hljs-keyword").count() >= 1
    assert page.locator(".pl-progress").inner_text().startswith("0 / 30 labeled")
    assert page.locator(".pl-guidelines strong").text_content() == "correct"
    assert page.locator(ROOT).get_attribute("data-lm-suppress-shortcuts") == "true"


def test_every_verdict_key_records_a_b_through_shown_order(page: Any, tmp_path: Path) -> None:
    lab = start(page, tmp_path)
    keys = ["1", "ArrowLeft", "2", "ArrowRight", "t", "b", "s", " "]
    expected = {}
    for i, key in enumerate(keys):
        wait_pos(page, i)
        shown = lab._window.shown(lab._window.pair_id(i))
        side = {"1": 0, "ArrowLeft": 0, "2": 1, "ArrowRight": 1}.get(key)
        expected[lab._window.pair_id(i)] = (
            shown[side] if side is not None else {"t": "tie", "b": "both_bad"}.get(key, "skip")
        )
        page.keyboard.press(key)
    wait_pos(page, len(keys))
    wait_saved(page)
    labels = lab.labels.set_index("pair_id")["label"].to_dict()
    assert labels == expected
    assert page.locator(".pl-progress").inner_text().startswith("8 / 30 labeled")
    events = LabelStore(tmp_path / "labels.sqlite").events()
    assert set(events["shown"]) <= {"ab", "ba"}
    assert events["duration_ms"].notna().all()


def test_strength_button_applies_to_next_label(page: Any, tmp_path: Path) -> None:
    lab = start(page, tmp_path)
    page.locator('[data-action="strength-strong"]').click()
    assert page.locator('[data-action="strength-strong"]').get_attribute("aria-pressed") == "true"
    page.keyboard.press("1")
    page.keyboard.press("2")
    wait_pos(page, 2)
    wait_saved(page)
    labels = lab.labels.set_index("pair_id")
    assert labels.loc[lab._window.pair_id(0), "strength"] == "strong"
    assert pd.isna(labels.loc[lab._window.pair_id(1), "strength"])


def test_undo_and_navigation_keys(page: Any, tmp_path: Path) -> None:
    lab = start(page, tmp_path)
    page.keyboard.press("1")
    page.keyboard.press("1")
    wait_pos(page, 2)
    page.keyboard.press("u")
    wait_pos(page, 1)
    page.keyboard.press("Backspace")
    wait_pos(page, 0)
    wait_saved(page)
    assert lab.labels.empty
    kinds = list(LabelStore(tmp_path / "labels.sqlite").events()["kind"])
    assert kinds == ["label", "label", "undo", "undo"]
    page.keyboard.press("j")
    page.keyboard.press("j")
    wait_pos(page, 2)
    page.keyboard.press("k")
    wait_pos(page, 1)
    assert lab.labels.empty  # moving never labels
    page.keyboard.press("u")
    assert "Nothing to undo" in page.locator(".pl-status").inner_text()


def test_buttons_do_the_same_as_keys(page: Any, tmp_path: Path) -> None:
    lab = start(page, tmp_path)
    page.get_by_role("button", name="Right better").click()
    wait_pos(page, 1)
    page.get_by_role("button", name="Tie").click()
    wait_pos(page, 2)
    page.get_by_role("button", name="Prev").click()
    wait_pos(page, 1)
    page.get_by_role("button", name="Undo").click()
    wait_saved(page)
    assert list(lab.labels["pair_id"]) == [lab._window.pair_id(0)]
    # after a click, focus returns to the widget so keys keep working
    page.keyboard.press("t")
    wait_pos(page, 2)


def test_help_overlay_and_keys_ignored_while_typing(page: Any, tmp_path: Path) -> None:
    lab = start(page, tmp_path)
    page.keyboard.press("?")
    help_box = page.locator(".pl-help")
    assert help_box.is_visible()
    assert "both bad" in help_box.inner_text()
    page.keyboard.press("1")  # keys other than help/escape do nothing under the overlay
    page.keyboard.press("Escape")
    assert not help_box.is_visible()
    assert pos(page) == 0
    page.locator(".pl-jump").click()
    page.keyboard.type("12ts")
    assert page.locator(".pl-jump").input_value() == "12ts"
    assert pos(page) == 0
    assert lab.labels.empty


def test_edit_better_response_inline(page: Any, tmp_path: Path) -> None:
    lab = start(page, tmp_path)
    page.keyboard.press("e")  # no verdict yet: asks which one is better first
    assert "Which response is better" in page.locator(".pl-status").inner_text()
    page.keyboard.press("2")
    textarea = page.locator(".pl-editor-edit textarea")
    assert textarea.is_visible()
    assert pos(page) == 0  # stays on the pair while editing
    chosen = lab._window.item(0)["right"]
    assert textarea.input_value() == chosen
    textarea.fill("A much better answer, 1 2 t b")  # keys typed here are text
    page.keyboard.press("Control+Enter")
    wait_pos(page, 1)
    wait_saved(page)
    row = lab.labels.set_index("pair_id").loc[lab._window.pair_id(0)]
    assert row["edited_preferred"] == "A much better answer, 1 2 t b"
    assert row["label"] == lab._window.shown(lab._window.pair_id(0))[1]
    page.keyboard.press("k")
    wait_pos(page, 0)
    assert "edited" in page.locator(".pl-current").inner_text()
    page.keyboard.press("e")  # already labeled: opens directly, prefilled with the edit
    assert textarea.input_value() == "A much better answer, 1 2 t b"
    page.keyboard.press("Escape")
    assert not textarea.is_visible()
    assert pos(page) == 0


def test_leaving_a_pair_mid_edit_keeps_the_typing(page: Any, tmp_path: Path) -> None:
    lab = start(page, tmp_path)
    page.keyboard.press("1")
    wait_pos(page, 1)
    page.keyboard.press("k")  # back to pair 0, labeled: e opens its editor directly
    wait_pos(page, 0)
    page.keyboard.press("e")
    page.locator(".pl-editor-edit textarea").fill("typed, never saved")
    page.get_by_role("button", name="Next").click()  # leave without Save
    wait_pos(page, 1)
    page.keyboard.press("n")
    page.locator(".pl-editor-note textarea").fill("half a note")
    page.get_by_role("button", name="Tie").click()  # a verdict clicked mid-note
    wait_pos(page, 2)
    wait_saved(page)
    labels = lab.labels.set_index("pair_id")
    assert labels.loc[lab._window.pair_id(0), "edited_preferred"] == "typed, never saved"
    assert labels.loc[lab._window.pair_id(1), "note"] == "half a note"
    # the verdict flipped mid-edit: the text edited the other response, so it becomes a note
    page.keyboard.press("k")
    wait_pos(page, 1)
    page.keyboard.press("k")
    wait_pos(page, 0)
    page.keyboard.press("e")
    page.locator(".pl-editor-edit textarea").fill("edit of the left one")
    page.get_by_role("button", name="Right better").click()
    wait_pos(page, 1)
    wait_saved(page)
    labels = lab.labels.set_index("pair_id")
    row = labels.loc[lab._window.pair_id(0)]
    # an edit of the left response is never exported as the right one's rewrite
    assert row["label"] == lab._window.shown(lab._window.pair_id(0))[1]
    assert pd.isna(row["edited_preferred"])
    assert "Unsaved edit of the left response:\nedit of the left one" in row["note"]
    # Escape still discards on purpose
    page.keyboard.press("n")
    page.locator(".pl-editor-note textarea").fill("discard me")
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    wait_pos(page, 2)
    wait_saved(page)
    assert lab.labels.set_index("pair_id").loc[lab._window.pair_id(1), "note"] == "half a note"
    # the last pair labeled mid-note: the done screen shows, the note is kept
    page.keyboard.press("n")
    page.locator(".pl-editor-note textarea").fill("before the jump")
    page.locator("input.pl-jump").fill(lab._window.pair_id(29))
    page.get_by_role("button", name="Go").click()
    wait_pos(page, 29)
    page.keyboard.press("n")
    page.locator(".pl-editor-note textarea").fill("on the last pair")
    page.get_by_role("button", name="Tie").click()
    page.locator(f"{ROOT}[data-state='done']").wait_for()
    assert not page.locator(".pl-editor-note").is_visible()
    wait_saved(page)
    notes = LabelStore(tmp_path / "labels.sqlite").events().query("kind == 'note'")
    last = notes.groupby("pair_id")["note"].last()
    assert last[lab._window.pair_id(2)] == "before the jump"  # unlabeled pair: an event only
    assert last[lab._window.pair_id(29)] == "on the last pair"


def test_note(page: Any, tmp_path: Path) -> None:
    lab = start(page, tmp_path)
    page.keyboard.press("1")
    wait_pos(page, 1)
    page.keyboard.press("n")
    note = page.locator(".pl-editor-note textarea")
    note.fill("both verbose")
    page.get_by_role("button", name="Save").last.click()
    wait_saved(page)
    assert pos(page) == 1
    events = LabelStore(tmp_path / "labels.sqlite").events()
    assert events.iloc[-1]["kind"] == "note"
    assert events.iloc[-1]["pair_id"] == lab._window.pair_id(1)
    assert "note: both verbose" in page.locator(".pl-current").inner_text()


def test_diff_and_raw_toggles(page: Any, tmp_path: Path) -> None:
    start(page, tmp_path)
    page.locator('[data-toggle="diff"]').check()
    diff = page.locator(".pl-stage > .pl-shown .pl-diffview").first
    assert diff.is_visible()
    assert page.locator(".pl-stage > .pl-shown ins.pl-ins").count() >= 1
    assert page.locator(".pl-stage > .pl-shown del.pl-del").count() >= 1
    assert not page.locator(".pl-stage > .pl-shown .pl-body .pl-md").first.is_visible()
    page.keyboard.press("j")  # the next pair is diffed too
    wait_pos(page, 1)
    assert page.locator(".pl-stage > .pl-shown ins.pl-ins").count() >= 1
    page.locator('[data-toggle="raw"]').check()
    assert not page.locator('[data-toggle="diff"]').is_checked()
    raw = page.locator(".pl-stage > .pl-shown pre.pl-raw").first
    assert raw.is_visible()
    assert "answer 1" in raw.inner_text()


def test_resume_jump_and_unlabeled_only(page: Any, tmp_path: Path) -> None:
    df = frame(30)
    path = tmp_path / "labels.sqlite"
    with LabelStore(path) as store:
        for i in (0, 1, 2, 4, 5):
            store.record(pair_id=df.pair_id[i], annotator="alice", kind="label", verdict="a")
    lab = start(page, tmp_path, df)
    wait_pos(page, 3)  # resumes at the first unlabeled pair
    assert page.locator(".pl-progress").inner_text().startswith("5 / 30 labeled")
    page.locator('[data-toggle="unlabeled"]').check()
    page.locator(ROOT).focus()
    page.keyboard.press("j")
    wait_pos(page, 6)  # 4 and 5 are labeled
    page.keyboard.press("k")
    wait_pos(page, 3)
    page.keyboard.press("k")
    assert "first pair" in page.locator(".pl-status").inner_text()
    page.locator(".pl-jump").fill("#20")
    page.locator(".pl-jump").press("Enter")
    wait_pos(page, 19)
    page.locator(".pl-jump").fill(df.pair_id[1])
    page.get_by_role("button", name="Go").click()
    wait_pos(page, 1)  # a labeled pair: jumping turns "unlabeled only" off
    assert not page.locator('[data-toggle="unlabeled"]').is_checked()
    assert "your label: " in page.locator(".pl-current").inner_text()
    lab.goto(df.pair_id[25])
    page.evaluate("m => model.push(m)", {"type": "jump", "view": None, "req": None, "cursor": 25})
    wait_pos(page, 25)


def test_window_stays_small_while_labeling(page: Any, tmp_path: Path) -> None:
    lab = start(page, tmp_path, frame(120))
    for i in range(60):
        wait_pos(page, i)
        page.keyboard.press("1")
    wait_pos(page, 60)
    wait_saved(page)
    fetches = page.evaluate("() => model.sent.filter(m => m.type === 'fetch')")
    assert all(f["count"] <= 16 for f in fetches)
    received = page.evaluate(
        "() => model.received.filter(m => m.type === 'items')"
        ".reduce((n, m) => n + m.items.length, 0)"
    )
    assert received <= 60 + 30  # what was labeled plus one window, never the table
    assert len(lab.labels) == 60


def label_until_replayed(page: Any, pair_id: str, read_ms: int = 0) -> int:
    """Press "1" on each pair until ``pair_id`` comes up a second time (its swap replay);
    return how many keys that took."""
    seen = []
    for _ in range(30):
        page.wait_for_function(
            "() => document.querySelector('.prefnb-labeler').dataset.state === 'pair'"
        )
        seen.append(page.locator(ROOT).get_attribute("data-pair-id"))
        if seen.count(pair_id) == 2:
            return len(seen) - 1
        if read_ms:
            page.wait_for_timeout(read_ms)
        page.keyboard.press("1")
    raise AssertionError(f"no replay of {pair_id} in 30 keys: {seen}")


def test_audit_replays_swapped_unannounced(page: Any, tmp_path: Path) -> None:
    df = frame(40)
    lab = start(page, tmp_path, df, audit_rate=1.0)
    first = lab._window.pair_id(0)
    replay_at = label_until_replayed(page, first)
    assert 4 <= replay_at <= 11  # 3..10 labels later
    assert page.locator(".pl-current").inner_text() == ""  # nothing says "audit"
    left_now = page.locator(".pl-stage > .pl-shown .pl-left .pl-raw").inner_text()
    item = lab._window.item(0)
    assert left_now == item["right"]  # sides swapped
    page.keyboard.press("1")
    wait_saved(page)
    events = LabelStore(tmp_path / "labels.sqlite").events()
    audit = events[events["kind"] == "audit"]
    assert list(audit["pair_id"]) == [first]
    assert audit.iloc[0]["shown"] != item["shown"]
    assert lab.labels.set_index("pair_id").loc[first, "label"] == item["shown"][0]


# Each node added to the stage remembers how many keys had been pressed by then.
STAGE_ADDS_JS = """() => { window.__keys = 0;
  document.addEventListener('keydown', () => { window.__keys += 1; }, true);
  new MutationObserver((rs) => { for (const r of rs) for (const n of r.addedNodes)
    (n.__adds ||= []).push(window.__keys); })
  .observe(document.querySelector('.pl-stage'), { childList: true }); }"""


def test_a_replay_waits_in_the_stage_for_its_turn_not_its_row(page: Any, tmp_path: Path) -> None:
    """A swap replay is laid out ahead, like the next pair, once its turn is near (HOT = 2
    moves): showing it is then a class flip. Ranked by its row instead, it was shelved
    while the cursor passed the original pair, for nothing, and inserted afresh (a whole
    pair's style, layout and paint) in the frame of the key that showed it."""
    lab = start(page, tmp_path, frame(40), audit_rate=1.0)
    first = lab._window.pair_id(0)
    page.evaluate(STAGE_ADDS_JS)
    # The annotator reads for 200 ms before each key: pre-rendering catches up.
    shown_at = label_until_replayed(page, first, read_ms=200)
    adds = page.evaluate("() => document.querySelector('.pl-stage > .pl-shown').__adds")
    # Added once, within the last HOT + 1 keys before its turn; never while passing row 0.
    assert len(adds) == 1, (adds, shown_at)
    assert shown_at - 3 <= adds[0] < shown_at, (adds, shown_at)


def test_unsaved_label_shows_error_and_retry_saves_it(page: Any, tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    LabelStore(path).close()
    lab = start(page, tmp_path, store=LabelStore(path, timeout=0.3))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the timeout
    page.keyboard.press("1")
    page.wait_for_function("() => document.querySelector('.pl-saved').dataset.state === 'error'")
    assert page.locator(".pl-saved").inner_text() == "⚠ not saved"
    assert "locked" in page.locator(".pl-status").inner_text().lower()
    assert lab.labels.empty
    blocker.execute("ROLLBACK")
    blocker.close()
    page.get_by_role("button", name="Retry saving").click()
    wait_saved(page)
    assert page.locator(".pl-saved").inner_text() == "✓ saved"
    assert list(lab.labels["pair_id"]) == [lab._window.pair_id(0)]


def test_done_screen_and_cleanup_removes_listeners(page: Any, tmp_path: Path) -> None:
    start(page, tmp_path, frame(2))
    page.keyboard.press("1")
    page.keyboard.press("2")
    page.wait_for_function(
        "() => document.querySelector('.prefnb-labeler').dataset.state === 'done'"
    )
    # The done screen is painted in the frame after the state flips: wait for the text.
    expect(page.locator(".pl-stage")).to_contain_text("every pair has a label")
    # The previous pair's deferred upkeep (after its paint) must not blank the done screen.
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50)))")
    page.wait_for_timeout(200)
    expect(page.locator(".pl-stage .pl-done")).to_be_visible()
    page.keyboard.press("k")
    wait_pos(page, 1)
    # The done screen made the pairs under it inert; the pair shown again is not, once painted.
    page.wait_for_function("() => !document.querySelector('.pl-stage > .pl-shown').inert")
    assert page.evaluate("() => model.listeners()") == 2
    page.evaluate("() => window.cleanup()")
    assert page.evaluate("() => model.listeners()") == 0
    assert page.locator(ROOT).count() == 0


PAIRS_JS = """() => [...document.querySelectorAll('.pl-stage > .pl-pair')].map((p) => ({
  pos: Number(p.dataset.pos), shown: p.classList.contains('pl-shown'), inert: p.inert,
  hidden: p.getAttribute('aria-hidden') === 'true' }))"""

AFTER_PAINT_JS = "() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 20)))"


HITS_JS = """() => { const r = document.querySelector('.pl-stage').getBoundingClientRect();
  const xs = [0.1, 0.5, 0.9].flatMap((fx) => [0.1, 0.5, 0.9].map((fy) =>
    document.elementFromPoint(r.left + fx * r.width, r.top + fy * r.height)));
  return xs.map((e) => e.closest('.pl-pair')?.dataset.pos); }"""

# Largest difference of any channel of any pixel between two PNGs, decoded by the browser.
PIXEL_DIFF_JS = """async ([a, b]) => {
  const load = async (src) => { const img = new Image(); img.src = src; await img.decode();
    const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
    const g = c.getContext('2d'); g.drawImage(img, 0, 0);
    return g.getImageData(0, 0, img.width, img.height).data; };
  const [x, y] = [await load(a), await load(b)];
  if (x.length !== y.length) return 255;
  let max = 0; for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
  return max; }"""


def png_url(data: bytes) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(data).decode()


def test_hidden_pairs_are_out_of_reach_and_inert_once_the_annotator_pauses(
    page: Any, tmp_path: Path
) -> None:
    start(page, tmp_path)
    # At rest (QUIET_MS after the first pair), every hidden pair on the shelf is inert, and
    # the shown pair is on top.
    page.wait_for_function(
        "() => { const p = [...document.querySelectorAll('.pl-stage > .pl-pending')];"
        " return p.length >= 2 && p.every((x) => x.inert); }"
    )
    pairs = page.evaluate(PAIRS_JS)
    assert [p for p in pairs if p["shown"]] == [
        {"pos": 0, "shown": True, "inert": False, "hidden": False}
    ]
    assert all(p["hidden"] for p in pairs if not p["shown"])
    page.wait_for_function("() => document.querySelector('.pl-stage > .pl-front.pl-shown')")
    assert page.evaluate(HITS_JS) == ["0"] * 9
    # Keys in quick succession flip no pair to inert (an inherited restyle of a whole pair)
    # and move no pair to the front (a layer reorder, which redraws what overlaps it).
    page.evaluate(
        "() => { window.__inert = []; window.__front = []; new MutationObserver((rs) => {"
        " for (const r of rs) { if (r.attributeName === 'inert' && r.target.inert)"
        " window.__inert.push(r.target.dataset.pos);"
        " if (r.attributeName === 'class' && r.target.matches('.pl-stage > .pl-pair') &&"
        " (r.oldValue || '').includes('pl-front') !== r.target.classList.contains('pl-front'))"
        " window.__front.push(r.target.dataset.pos); } })"
        ".observe(document.querySelector('.pl-stage'), { subtree: true,"
        " attributeFilter: ['inert', 'class'], attributeOldValue: true }); }"
    )
    page.keyboard.press("1")
    wait_pos(page, 1)
    page.keyboard.press("1")
    wait_pos(page, 2)
    page.evaluate(AFTER_PAINT_JS)
    assert page.evaluate("() => window.__inert") == []
    assert page.evaluate("() => window.__front") == []
    pairs = page.evaluate(PAIRS_JS)
    shown = [p for p in pairs if p["shown"]]
    assert shown == [{"pos": 2, "shown": True, "inert": False, "hidden": False}]
    assert {p["pos"] for p in pairs if not p["shown"]} >= {1, 3}
    assert all(p["hidden"] for p in pairs if not p["shown"])
    # Pair 0 is still in front, transparent: what the annotator sees is pair 2 all the same.
    assert page.evaluate(HITS_JS) == ["0"] * 9
    stage = page.locator(".pl-stage")
    during = stage.screenshot()
    # Focus that reaches a hidden pair (Tab, a script) goes back to the widget.
    page.evaluate("() => document.querySelector('.pl-stage > .pl-pending .pl-body').focus()")
    assert page.evaluate("() => document.activeElement.matches('.prefnb-labeler')")
    # The mouse moving onto the stage brings the shown pair to the front before it hits
    # anything, without waiting for the pause.
    box = stage.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 40)
    assert page.evaluate(HITS_JS) == ["2"] * 9
    assert page.evaluate("() => window.__front").count("2") == 1
    after = stage.screenshot()
    blank = page.context.new_page()
    try:
        diff = blank.evaluate(PIXEL_DIFF_JS, [png_url(during), png_url(after)])
    finally:
        blank.close()
    print("largest pixel difference, transparent pairs in front vs not:", diff)
    assert diff <= 2
    # A press that lands on a hidden pair (the mouse did not move since the key) starts
    # nothing there, and the shown pair comes to the front. (The mouse resting on the stage
    # gets pointerover events after a key changes the layout under it: those are no reach.)
    page.keyboard.press("1")
    wait_pos(page, 3)
    page.evaluate(AFTER_PAINT_JS)
    assert page.evaluate(HITS_JS) == ["2"] * 9
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + 40)
    page.mouse.up()
    assert page.evaluate("() => document.getSelection().isCollapsed")
    assert page.evaluate(HITS_JS) == ["3"] * 9
    page.keyboard.press("2")
    wait_pos(page, 4)
    # The pause after that: hidden pairs are inert again, the shown one is not, and it is
    # in front.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.pl-stage > .pl-pending')].every((x) => x.inert)"
    )
    assert not page.evaluate("() => document.querySelector('.pl-stage > .pl-shown').inert")
    page.wait_for_function("() => document.querySelector('.pl-stage > .pl-front.pl-shown')")
    assert page.evaluate(HITS_JS) == ["4"] * 9


DRAWN_JS = """() => [...document.querySelectorAll('.pl-stage > .pl-pair')].map((p) => ({
  pos: Number(p.dataset.pos), shown: p.classList.contains('pl-shown'),
  opacity: Number(getComputedStyle(p).opacity) }))"""


def test_only_the_next_hidden_pair_is_drawn_the_rest_are_parked(page: Any, tmp_path: Path) -> None:
    """Of the hidden pairs on the shelf, only the next one forward is drawn (transparent, so
    it is rasterized before its key); the one just left behind and the one two moves ahead
    are parked at opacity 0, which the compositor neither draws nor rasterizes."""
    start(page, tmp_path)
    wait_pos(page, 0)
    for p in range(1, 4):
        page.keyboard.press("1")
        wait_pos(page, p)
        page.evaluate(AFTER_PAINT_JS)
        page.wait_for_function(
            "p => [...document.querySelectorAll('.pl-stage > .pl-pair')]"
            ".some((x) => Number(x.dataset.pos) === p + 2)",
            arg=p,
        )
        page.evaluate(AFTER_PAINT_JS)
        pairs = {x["pos"]: x for x in page.evaluate(DRAWN_JS)}
        assert pairs[p]["shown"]
        assert pairs[p]["opacity"] == 1
        drawn = sorted(q for q, x in pairs.items() if not x["shown"] and x["opacity"] > 0)
        assert drawn == [p + 1], pairs
        assert pairs[p - 1]["opacity"] == 0
        assert pairs[p + 2]["opacity"] == 0
    # Back (k): the pair left behind is shown (drawn) again, and the one just left is parked.
    page.keyboard.press("k")
    wait_pos(page, 2)
    page.evaluate(AFTER_PAINT_JS)
    pairs = {x["pos"]: x for x in page.evaluate(DRAWN_JS)}
    assert pairs[2]["opacity"] == 1
    assert pairs[3]["opacity"] == 0


def test_the_shown_pair_counts_as_opaque_at_a_fractional_offset(
    browser: Any, page: Any, tmp_path: Path
) -> None:
    """Notebooks often place a widget between pixels (JupyterLab: y = 450.1875). The shown
    pair must still reach the compositor as an opaque layer, whole pixels tall, so it draws
    over what it covers instead of blending with it. Read from Chromium's own frame dump."""
    import json

    start(page, tmp_path)
    page.add_style_tag(content="body { padding-top: 0.1875px; }")
    page.keyboard.press("1")
    wait_pos(page, 1)
    page.evaluate(AFTER_PAINT_JS)
    top = page.evaluate(
        "() => document.querySelector('.pl-stage > .pl-shown').getBoundingClientRect().top"
    )
    assert top % 1 == 0.1875
    height = page.evaluate("() => document.querySelector('.pl-stage > .pl-shown').offsetHeight")
    trace = tmp_path / "trace.json"
    browser.start_tracing(
        page=page, path=str(trace), categories=["disabled-by-default-viz.quads", "cc"]
    )
    page.keyboard.press("1")
    wait_pos(page, 2)
    page.evaluate(AFTER_PAINT_JS)
    browser.stop_tracing()
    data = json.loads(trace.read_text())
    events = data["traceEvents"] if isinstance(data, dict) else data
    layers = [
        state
        for e in events
        if e.get("name") == "LayerTreeHostImpl:snapshot" and e.get("ph") in ("O", "I")
        for rp in (e["args"]["snapshot"].get("frame") or {}).get("render_passes", [])
        for state in rp["shared_quad_state_list"]
        if state["opacity"] == 1 and state["quad_layer_rect"][3] in (height, height + 1)
    ]
    assert layers, "no frame showed the pair"
    assert all(s["quad_layer_rect"][3] == height and s["are_contents_opaque"] for s in layers), (
        layers
    )


def test_every_message_matches_its_typeddict(page: Any, tmp_path: Path) -> None:
    from prefnb.labeler import messages as m

    browser_types = {
        "hello": m.HelloRequest,
        "fetch": m.FetchRequest,
        "label": m.LabelRequest,
        "undo": m.UndoRequest,
        "edit": m.EditRequest,
        "note": m.NoteRequest,
        "goto": m.GotoRequest,
    }
    kernel_types = {
        "init": m.InitReply,
        "items": m.ItemsReply,
        "saved": m.SavedReply,
        "error": m.ErrorReply,
        "audit": m.AuditPush,
        "jump": m.JumpPush,
    }
    start(page, tmp_path, audit_rate=1.0)
    for key in ["1", "2", "u"]:
        page.keyboard.press(key)
    page.keyboard.press("e")
    page.keyboard.press("1")
    page.keyboard.press("Control+Enter")
    page.keyboard.press("n")
    page.locator(".pl-editor-note textarea").fill("n")
    page.keyboard.press("Control+Enter")
    page.locator(".pl-jump").fill("#7")
    page.locator(".pl-jump").press("Enter")
    wait_pos(page, 6)
    page.locator(".pl-jump").fill("no-such-pair")
    page.locator(".pl-jump").press("Enter")
    page.wait_for_function("() => model.received.some(r => r.type === 'error')")
    wait_saved(page)
    sent = page.evaluate("() => model.sent")
    received = page.evaluate("() => model.received")
    assert {s["type"] for s in sent} == set(browser_types)
    assert {r["type"] for r in received} == set(kernel_types)
    for msg in sent:
        assert set(msg) == set(browser_types[msg["type"]].__annotations__), msg
    for msg in received:
        assert set(msg) == set(kernel_types[msg["type"]].__annotations__), msg
    for msg in received:
        for item in msg.get("items", []) + ([msg["item"]] if "item" in msg else []):
            # NotRequired keys (``votes``, adjudication only) may be absent; the annotations
            # are strings here (postponed evaluation), so read NotRequired from their text.
            keys = m.Item.__annotations__
            required = {k for k, v in keys.items() if "NotRequired[" not in str(v)}
            assert required <= set(item) <= set(keys)


def test_sync_scroll_and_stacking_on_narrow_widths(page: Any, tmp_path: Path) -> None:
    long = "\n\n".join(f"Paragraph {i} " + "word " * 40 for i in range(60))
    df = pairs_frame([{"prompt": "q", "response_a": long, "response_b": long + "\n\nextra"}])
    start(page, tmp_path, df, shuffle=False)
    left = page.locator(".pl-stage > .pl-shown .pl-left .pl-body")
    right = page.locator(".pl-stage > .pl-shown .pl-right .pl-body")
    assert left.bounding_box()["y"] == right.bounding_box()["y"]  # side by side
    left.evaluate("el => { el.scrollTop = 400; }")
    page.wait_for_timeout(100)
    assert right.evaluate("el => el.scrollTop") == 0  # not synced by default
    page.locator('[data-toggle="sync"]').check()
    left.evaluate("el => { el.scrollTop = 800; }")
    page.wait_for_function(
        "() => document.querySelector('.pl-stage > .pl-shown .pl-right .pl-body').scrollTop > 500"
    )
    page.evaluate("() => { document.getElementById('host').style.width = '500px'; }")
    page.wait_for_function(
        "() => { const [a, b] = document.querySelectorAll('.pl-stage > .pl-shown .pl-body');"
        " return b.getBoundingClientRect().top > a.getBoundingClientRect().bottom; }"
    )  # stacked


def test_a_closed_comm_is_not_saved_with_retry_not_a_page_error(page: Any, tmp_path: Path) -> None:
    lab = start(page, tmp_path)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # What Jupyter does once the kernel behind this output restarted: send throws at once.
    page.evaluate(
        "() => { window.__send = model.send;"
        " model.send = () => { throw new Error('Cannot send on a closed comm'); } }"
    )
    page.keyboard.press("1")
    wait_pos(page, 1)
    page.wait_for_function("() => document.querySelector('.pl-saved').dataset.state === 'error'")
    assert "closed comm" in page.locator(".pl-status").inner_text()
    assert lab.labels.empty
    page.evaluate("() => { model.send = window.__send; }")  # back (a reconnected kernel)
    page.get_by_role("button", name="Retry").click()
    wait_saved(page)
    assert list(lab.labels["pair_id"]) == [lab._window.pair_id(0)]
    assert errors == []


def test_no_reply_from_kernel_is_shown_and_the_write_sent_again(page: Any, tmp_path: Path) -> None:
    lab = start(page, tmp_path)
    page.evaluate("() => model.set('reply_timeout_ms', 300)")
    # The next two messages are lost on the way (a comm message dropped, twice).
    page.evaluate(
        "() => { const send = model.send; let lost = 0; window.__lost = 0;"
        " model.send = (m) => { if (m.type === 'label' && lost < 2) { lost += 1;"
        " window.__lost = lost; return; } return send.call(model, m); } }"
    )
    page.keyboard.press("1")
    wait_pos(page, 1)  # labeling is not blocked
    page.wait_for_function("() => document.querySelector('.pl-saved').dataset.state === 'stalled'")
    assert page.locator(".pl-saved").inner_text() == "⚠ not confirmed"
    assert "No reply from the kernel" in page.locator(".pl-status").inner_text()
    assert lab.labels.empty
    # resent after 300 ms (lost again), then after 600 ms: stored, once
    wait_saved(page)
    assert page.evaluate("() => window.__lost") == 2
    assert list(lab.labels["pair_id"]) == [lab._window.pair_id(0)]
    assert len(LabelStore(tmp_path / "labels.sqlite").events()) == 1
    assert "No reply" not in page.locator(".pl-status").inner_text()
