"""What syntax highlighting costs the Labeler, per language, beside the same code unhighlighted.

Run: ``.venv/bin/python bench/code_render.py`` (about a minute; ``--keys N``).

For each language the bench's pairs hold one fenced code block per side (Python, JavaScript,
JSON: ~60 lines). The Labeler pre-renders each pair and lays it out when it comes within two
moves of the cursor, in one forced layout (see ``js/lib/stage.js``); this times those layouts
(every ``offsetHeight`` read on a pair) while keys label the pairs 150 ms apart, in headless
Chromium on the static harness. The baseline, in the same run and browser: the same code in a
fence that names no language, which the Labeler shows unhighlighted. Printed per language:
elements in a shown pair, and the forced layout per pair (p50, p95) beside the baseline's.

Example output line::

    json        244 elements (plain 44)   layout p50 4.9 ms, p95 7.8 (plain 2.1, 3.0) → 2.3×
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from prefnb.labeler import Labeler
from prefnb.pairs import pairs_frame

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from labeler import ARGS, CHROMIUM, pct  # bench/labeler.py: one browser setup for both
from labeler_host import host

# Times each forced layout of a pair: the stage's only reads of a pair's offsetHeight are the
# layouts it forces while pre-rendering (and, rarely, on show).
TIMED_LAYOUTS = """() => {
  window.__layouts = [];
  const get = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'offsetHeight').get;
  Object.defineProperty(HTMLElement.prototype, 'offsetHeight', { get() {
    const t = performance.now(); const v = get.call(this);
    if (this.classList?.contains('pl-pair')) window.__layouts.push(performance.now() - t);
    return v; } });
}"""


def code(lang: str, i: int) -> str:
    """About 60 lines of ``lang`` that vary with ``i``."""
    if lang == "python":
        return "\n".join(
            f"def f{n}(x, y=None):\n    return x * {n} + {i}  # step {n}" for n in range(30)
        )
    if lang == "javascript":
        return "\n".join(
            f"const v{n} = this.items.map((x) => x.value * {n + i}).filter(Boolean); // {n}"
            for n in range(60)
        )
    rows = [
        {"id": n + i, "name": f"item {n}", "tags": ["a", "b"], "active": n % 2 == 0}
        for n in range(10)
    ]
    return json.dumps(rows, indent=2)


def pairs(lang: str, fence: str, n: int) -> Any:
    def side(i: int) -> str:
        return f"Here it is:\n\n```{fence}\n{code(lang, i)}\n```\n"

    return pairs_frame(
        [
            {"prompt": f"Question {i}", "response_a": side(i), "response_b": side(i + 1)}
            for i in range(n)
        ]
    )


def measure(browser: Any, frame: Any, keys: int, workdir: Path) -> dict[str, Any]:
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.add_init_script(f"({TIMED_LAYOUTS})()")
    lab = Labeler(frame, store=workdir / "labels.sqlite", annotator="bench", seed=1, audit_rate=0)
    host(page, lab)
    page.locator(".pl-stage > .pl-shown").wait_for()
    page.wait_for_timeout(1500)  # the first pairs' pre-rendering settles
    page.evaluate("() => { window.__layouts = []; }")
    page.locator(".prefnb-labeler").focus()
    for _ in range(keys):
        page.keyboard.press("1")
        page.wait_for_timeout(150)
    page.wait_for_timeout(500)
    layouts: list[float] = page.evaluate("() => window.__layouts")
    elements: int = page.evaluate(
        "() => document.querySelector('.pl-stage > .pl-shown').querySelectorAll('*').length"
    )
    page.close()
    return {"layouts": layouts, "elements": elements}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=40)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(
        f"Forced layout of each pre-rendered pair, {args.keys} keys 150 ms apart, headless "
        "Chromium; baseline: the same code in a fence naming no language (not highlighted)"
    )
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for lang in ("python", "javascript", "json"):
            runs = {}
            for fence in (lang, ""):
                workdir = Path(tmp) / f"{lang}-{fence or 'plain'}"
                workdir.mkdir()
                runs[fence] = measure(
                    browser, pairs(lang, fence, args.keys + 20), args.keys, workdir
                )
            hl, plain = runs[lang], runs[""]
            a50, a95 = pct(hl["layouts"], 50), pct(hl["layouts"], 95)
            b50, b95 = pct(plain["layouts"], 50), pct(plain["layouts"], 95)
            print(
                f"{lang:11} {hl['elements']:4} elements (plain {plain['elements']})   layout "
                f"p50 {a50:.1f} ms, p95 {a95:.1f} (plain {b50:.1f}, {b95:.1f}) → {a50 / b50:.1f}×"
            )
        browser.close()


if __name__ == "__main__":
    main()
