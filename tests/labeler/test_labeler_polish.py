"""The Labeler's finish in real Chromium: imported labels, the pressed verdict on revisit,
the modal help listing every key, word-boundary wrapping and the diff's line fallback."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from labeler_host import host

from prefnb.labeler import Labeler
from prefnb.pairs import pairs_frame

pytestmark = pytest.mark.browser

ROOT = ".prefnb-labeler"
SHOWN = ".pl-stage > .pl-shown"


def wait_pos(page: Any, p: int) -> None:
    page.wait_for_function(
        "p => document.querySelector('.prefnb-labeler').dataset.pos === String(p)", arg=p
    )


def start(page: Any, tmp_path: Path, rows: list[dict[str, Any]], **kw: Any) -> Labeler:
    kw.setdefault("audit_rate", 0.0)
    kw.setdefault("shuffle", False)
    lab = Labeler(pairs_frame(rows), store=tmp_path / "labels.sqlite", **kw)
    host(page, lab)
    page.locator(f"{ROOT}[data-state]").wait_for()
    page.locator(ROOT).focus()
    return lab


def pressed(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        ".pl-verdicts .pl-btn[aria-pressed=true]", "bs => bs.map(b => b.dataset.action)"
    )


def test_imported_labels_count_apart_show_and_can_be_overruled(page: Any, tmp_path: Path) -> None:
    rows = [
        {"prompt": f"q{i}", "response_a": f"a{i}", "response_b": f"b{i}", "label": lab}
        for i, lab in enumerate(["b", None, "tie", None, "a"])
    ]
    lab = start(page, tmp_path, rows)
    wait_pos(page, 0)  # imported labels are there to review: resume at the first pair
    progress = page.locator(".pl-progress")
    assert progress.inner_text().startswith("0 / 5 labeled · 3 imported · A 0 · B 0")
    assert page.locator(".pl-current").inner_text() == "imported label: right"
    imported = page.eval_on_selector_all(
        ".pl-verdicts .pl-imported", "bs => bs.map(b => b.dataset.action)"
    )
    assert imported == ["right"]
    assert pressed(page) == []
    page.keyboard.press("1")  # overrule: left (a) is better
    wait_pos(page, 1)
    page.wait_for_function("() => document.querySelector('.pl-saved').dataset.state === 'saved'")
    assert progress.inner_text().startswith("1 / 5 labeled · 2 imported · A 1")
    assert lab.labels["label"].tolist() == ["a"]
    page.keyboard.press("k")
    wait_pos(page, 0)
    assert page.locator(".pl-current").inner_text() == (
        "your label: left · overrules imported label: right"
    )
    assert pressed(page) == ["left"]
    # "unlabeled only" skips imported pairs as labeled: from 0, j goes to 1 then 3.
    page.keyboard.press("f")
    assert page.locator('[data-toggle="unlabeled"]').is_checked()
    page.keyboard.press("j")
    wait_pos(page, 1)
    page.keyboard.press("j")
    wait_pos(page, 3)
    page.keyboard.press("j")
    page.locator(f"{ROOT}[data-state=done]").wait_for()
    # Pairs 1 and 3 have no label of any kind: the end screen says so (not "all labeled").
    assert "2 pairs still without a label" in page.locator(".pl-stage .pl-done").inner_text()


def test_revisited_pair_presses_its_verdict_and_strength(page: Any, tmp_path: Path) -> None:
    rows = [{"prompt": f"q{i}", "response_a": f"a{i}", "response_b": f"b{i}"} for i in range(4)]
    start(page, tmp_path, rows, shuffle=True, seed=2)
    wait_pos(page, 0)
    assert pressed(page) == []
    page.keyboard.press("5")  # strength: strong
    assert page.locator(".pl-strength [aria-pressed=true]").inner_text().startswith("strong")
    page.keyboard.press("2")
    wait_pos(page, 1)
    assert pressed(page) == []  # a fresh pair: nothing pressed
    page.keyboard.press("b")
    wait_pos(page, 2)
    page.keyboard.press("k")
    wait_pos(page, 1)
    assert pressed(page) == ["both_bad"]
    page.keyboard.press("k")
    wait_pos(page, 0)
    assert pressed(page) == ["right"]
    assert page.locator(".pl-current").inner_text() == "your label: right (strong)"


def test_help_is_modal_and_lists_every_key(page: Any, tmp_path: Path) -> None:
    rows = [{"prompt": "q", "response_a": "a", "response_b": "b"}]
    start(page, tmp_path, rows)
    page.keyboard.press("?")
    backdrop = page.locator(".pl-help-backdrop")
    assert backdrop.is_visible()
    box = page.locator(ROOT).bounding_box()
    cover = backdrop.bounding_box()
    # The backdrop covers the whole widget inside its 1 px border.
    assert abs(cover["x"] - box["x"]) <= 1
    assert abs(cover["y"] - box["y"]) <= 1
    assert cover["width"] >= box["width"] - 2
    assert cover["height"] >= box["height"] - 2
    dialog = page.locator(".pl-help").bounding_box()
    assert dialog["y"] + dialog["height"] <= cover["y"] + cover["height"]  # not cut off
    # Everything else is inert: the verdict button under the backdrop takes no click.
    assert page.evaluate(
        "() => [...document.querySelector('.prefnb-labeler').children]"
        ".filter(c => !c.matches('.pl-help-backdrop, style')).every(c => c.inert)"
    )
    assert page.evaluate("() => document.activeElement.dataset.action") == "help-close"
    text = page.locator(".pl-help").inner_text()
    shortcuts = page.eval_on_selector_all(".pl-kbd", "ks => ks.map(k => k.textContent)")
    for key in [*shortcuts, "3", "4", "5", "r", "d", "l", "f", "g", "Esc"]:
        assert key.split(" / ")[0] in text, key
    for word in ["slight", "clear", "strong", "raw", "diff", "sync", "unlabeled", "imported"]:
        assert word in text, word
    page.keyboard.press("Escape")
    assert not backdrop.is_visible()
    assert not page.evaluate(
        "() => [...document.querySelector('.prefnb-labeler').children].some(c => c.inert)"
    )


PROSE = (
    "Whatever happens, everything depends on what the reader expects from unbelievably "
    "long-winded explanations that somewhere contain internationalization considerations. "
) * 6


def test_raw_and_diff_wrap_only_between_words(page: Any, tmp_path: Path) -> None:
    other = PROSE.replace("reader", "writer").replace("explanations", "descriptions")
    start(page, tmp_path, [{"prompt": "q", "response_a": PROSE, "response_b": other}])
    page.evaluate("() => document.getElementById('host').style.width = '620px'")
    # A host page's own rules (a notebook theme, an output area) must not make words break.
    page.add_style_tag(content="pre, div { word-break: break-all; overflow-wrap: anywhere; }")
    broken_words = """() => {
      const out = [];
      for (const pre of document.querySelectorAll(
          '.pl-stage > .pl-shown .pl-raw, .pl-stage > .pl-shown .pl-diffview')) {
        if (!pre.offsetParent) continue;
        const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          for (const m of n.data.matchAll(/\\S+/g)) {
            const r = document.createRange();
            r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
            const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
            if (tops.size > 1) out.push(m[0]);
          }
        }
      }
      return out;
    }"""
    page.keyboard.press("r")
    assert page.locator(f"{SHOWN} .pl-raw").first.is_visible()
    assert page.evaluate(broken_words) == []
    page.keyboard.press("d")
    assert page.locator(f"{SHOWN} .pl-diffview").first.is_visible()
    assert page.locator(f"{SHOWN} .pl-diffview ins").count() > 0
    assert page.evaluate(broken_words) == []


def test_diff_falls_back_to_lines_when_little_is_shared(page: Any, tmp_path: Path) -> None:
    rows = [
        {"prompt": "similar", "response_a": PROSE, "response_b": PROSE.replace("reader", "user")},
        {
            "prompt": "different",
            "response_a": "Use a set.\nIt is fast.\nDone.",
            "response_b": "Sorting first, then scanning neighbours,\nkeeps memory low\nDone.",
        },
    ]
    start(page, tmp_path, rows)
    page.keyboard.press("d")
    assert page.locator(f"{SHOWN} .pl-diff-note").count() == 0  # a word diff
    assert page.locator(f"{SHOWN} .pl-right ins").first.inner_text() == "user"
    page.keyboard.press("j")
    wait_pos(page, 1)
    note = page.locator(f"{SHOWN} .pl-left .pl-diff-note")
    assert "line diff" in note.inner_text()
    assert "little in common" in note.inner_text()
    # Whole lines are marked, and the shared last line is not.
    assert page.locator(f"{SHOWN} .pl-left del").all_inner_texts() == ["Use a set.\nIt is fast.\n"]
    assert "Done." not in "".join(page.locator(f"{SHOWN} .pl-right ins").all_inner_texts())


# WCAG relative luminance and contrast of two computed "rgb(r, g, b)" colours.
_CONTRAST = """([fg, bg]) => {
    const lum = (c) => {
        const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
            v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
}"""

DARK_THEME = (
    Path(sys.prefix) / "share/jupyter/lab/themes/@jupyterlab/theme-dark-extension/index.css"
)


def test_code_tokens_stay_readable_in_jupyterlabs_dark_theme(page: Any, tmp_path: Path) -> None:
    code = '```python\ndef f(x):\n    # a comment\n    return len("text") + 42 if x else None\n```'
    start(page, tmp_path, [{"prompt": "q", "response_a": code, "response_b": code}])
    page.add_style_tag(content=DARK_THEME.read_text(encoding="utf-8"))
    tokens = page.eval_on_selector_all(
        f"{SHOWN} .pl-left code.hljs [class^=hljs-]",
        """els => els.map(e => [e.className, getComputedStyle(e).color,
            getComputedStyle(e.closest('pre')).backgroundColor])""",
    )
    kinds = {cls for cls, _, _ in tokens}
    assert {"hljs-keyword", "hljs-string", "hljs-number", "hljs-comment"} <= kinds, kinds
    for cls, fg, bg in tokens:
        # 3:1, WCAG's floor for text of this weight in a UI: the light palette's dark blue
        # strings on the dark theme's background came to about 1.3:1
        assert page.evaluate(_CONTRAST, [fg, bg]) >= 3, (cls, fg, bg)


JSON_ANSWER = """Here it is:

```json
{"id": 7, "name": "widget", "tags": ["a", "b"], "active": true, "parent": null}
```

```javascript
const total = this.items.map((x) => x.value * 2).filter(Boolean); // doubled
```
"""


def test_code_keeps_only_the_spans_that_carry_a_colour(page: Any, tmp_path: Path) -> None:
    start(page, tmp_path, [{"prompt": "q", "response_a": JSON_ANSWER, "response_b": "no"}])
    blocks = page.eval_on_selector_all(
        f"{SHOWN} .pl-left pre > code.hljs",
        """els => els.map(e => ({ text: e.textContent,
            spans: [...e.querySelectorAll('span')].map(s => [s.className,
                getComputedStyle(s).color, getComputedStyle(e).color]),
            texts: [...e.childNodes].filter(n => n.nodeType === 3).length,
            adjacent: [...e.childNodes].some((n, i, a) => n.nodeType === 3
                && a[i + 1] && a[i + 1].nodeType === 3) }))""",
    )
    assert len(blocks) == 2
    json_src = '{"id": 7, "name": "widget", "tags": ["a", "b"], "active": true, "parent": null}\n'
    assert blocks[0]["text"] == json_src  # unwrapping moved no character
    for block in blocks:
        assert block["spans"], block
        for cls, colour, plain in block["spans"]:
            # hljs's attr, punctuation, params, property … spans are gone; every span left
            # has a colour of its own
            assert any(c.startswith("hljs-") for c in cls.split()), cls
            assert colour != plain, (cls, colour)
        assert not block["adjacent"]  # unwrapped text merged back into single nodes
    kinds = {c for block in blocks for cls, _, _ in block["spans"] for c in cls.split()}
    assert {"hljs-string", "hljs-number", "hljs-literal", "hljs-keyword", "hljs-comment"} <= kinds
    assert not kinds & {"hljs-attr", "hljs-punctuation", "hljs-params", "hljs-property"}


def test_the_token_kinds_the_highlighter_keeps_are_those_the_css_colours() -> None:
    js = Path(__file__).resolve().parents[2] / "js"
    source = (js / "lib" / "highlight.js").read_text(encoding="utf-8")
    listed = re.search(r"STYLED_TOKENS = new Set\(\[(.*?)\]\)", source, re.S)
    assert listed
    kept = set(re.findall(r'"([\w-]+)"', listed.group(1)))
    coloured = set(re.findall(r"\.hljs-([\w-]+)", (js / "labeler.css").read_text("utf-8")))
    assert kept == coloured


TABLE = (
    "| | TCP | UDP |\n|---|---|---|\n"
    "| Connection | connection-oriented (handshake) | connectionless |\n"
    "| Reliability | retransmits lost packets, in-order delivery | no guarantees |\n"
    "| Typical uses | web, email, file transfer | video calls, games, DNS |\n"
)


def test_markdown_tables_are_ruled_and_their_cells_never_run_together(
    page: Any, tmp_path: Path
) -> None:
    start(page, tmp_path, [{"prompt": "TCP or UDP?", "response_a": TABLE, "response_b": "TCP."}])
    page.evaluate("() => document.getElementById('host').style.width = '620px'")
    cells = page.eval_on_selector_all(
        f"{SHOWN} .pl-body :is(th, td)",
        """cs => cs.map(c => { const s = getComputedStyle(c); const r = document.createRange();
          r.selectNodeContents(c); const t = r.getBoundingClientRect();
          return { border: s.borderTopWidth, pad: parseFloat(s.paddingLeft), align: s.textAlign,
                   text: [t.left, t.top, t.right, t.bottom], empty: !c.textContent.trim() }; })""",
    )
    assert len(cells) == 12
    assert {c["border"] for c in cells} == {"1px"}
    assert all(c["pad"] >= 6 and c["align"] in ("left", "start") for c in cells)
    # Wrapped cells in a 620 px widget: no cell's text reaches into another's.
    boxes = [c["text"] for c in cells if not c["empty"]]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            overlap = (
                min(a[2], b[2]) - max(a[0], b[0]) > 0.5 and min(a[3], b[3]) - max(a[1], b[1]) > 0.5
            )
            assert not overlap, (a, b)
    # In JupyterLab's dark theme the header and its rules stay readable.
    page.add_style_tag(content=DARK_THEME.read_text(encoding="utf-8"))
    th, border, bg = page.eval_on_selector(
        f"{SHOWN} .pl-body th:nth-child(2)",
        """th => { const s = getComputedStyle(th);
          return [[s.color, s.backgroundColor], s.borderTopColor,
                  getComputedStyle(th.closest('.pl-pair')).backgroundColor]; }""",
    )
    assert page.evaluate(_CONTRAST, th) >= 4.5, th
    print("dark table: header", th, "rule", border, "on", bg)
    assert page.evaluate(_CONTRAST, [border, bg]) >= 1.3, (border, bg)
