"""TeX math in the Labeler: typeset by the bundled KaTeX, currency left alone, nothing loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from labeler_host import ORIGIN, host

from prefnb.labeler import Labeler
from prefnb.pairs import pairs_frame

pytestmark = pytest.mark.browser

SHOWN = ".pl-stage > .pl-shown"
MATH = (
    "By the product rule, $(uv)' = u'v + uv'$ with $u = x^2$ and $v = \\sin x$:\n\n"
    "$$f'(x) = 2x\\sin x + x^2\\cos x.$$\n\n"
    "Inline \\(a_1 * b_1\\) and display \\[\\sum_{i=1}^n i = \\frac{n(n+1)}{2}\\]\n\n"
    "$$\n- x + y\n$$\n\n"
    "and `$not math$` in code."
)
CURRENCY = (
    "It costs $5 and $10, or US$7 and 8$ off; between $5-$10; a \\$ sign; "
    "price: $20. Shell: `echo $HOME $PATH`."
)


def test_math_typeset_and_currency_stays_text(page: Any, tmp_path: Path) -> None:
    requests: list[str] = []
    page.on("request", lambda r: None if r.url == ORIGIN else requests.append(r.url))
    df = pairs_frame([{"prompt": "$17 \\equiv 2 \\pmod 5$?", "response_a": MATH,
                       "response_b": CURRENCY}])  # fmt: skip
    lab = Labeler(df, store=tmp_path / "l.sqlite", shuffle=False, audit_rate=0.0)
    host(page, lab)
    page.locator(SHOWN).wait_for()
    left = page.locator(f"{SHOWN} .pl-left .pl-md")
    # 3 inline $…$, 1 $$…$$, \(…\), \[…\], and the block $$ with a "-" line: 7 formulas.
    assert left.locator(".pl-math .katex").count() == 7
    assert left.locator(".katex-display").count() == 3
    assert left.locator("ul").count() == 0  # "- x + y" inside display math is not a list
    assert left.locator("code").inner_text() == "$not math$"
    annotations = [a.text_content() for a in left.locator("annotation").all()]
    assert "a_1 * b_1" in annotations  # `*` inside TeX is not emphasis
    assert "$" not in left.locator(".katex-html").first.inner_text()
    # The prompt's math is typeset too.
    assert page.locator(f"{SHOWN} .pl-prompt .katex").count() == 1
    right = page.locator(f"{SHOWN} .pl-right .pl-md")
    assert right.locator(".katex").count() == 0
    text = right.inner_text()
    assert "It costs $5 and $10, or US$7 and 8$ off; between $5-$10; a $ sign" in text
    # KaTeX's fonts are inlined: typeset glyphs use its font, loaded without a request.
    font = page.evaluate(
        "() => getComputedStyle(document.querySelector('.katex .mord.mathnormal')).fontFamily"
    )
    assert "KaTeX_Math" in font
    page.evaluate("() => document.fonts.ready")
    loaded = page.evaluate(
        "() => [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)"
    )
    assert any("KaTeX" in f for f in loaded)
    assert requests == []


def test_math_stylesheet_is_shared_and_removed_with_the_last_view(
    page: Any, tmp_path: Path
) -> None:
    df = pairs_frame([{"prompt": "q", "response_a": "$x^2$", "response_b": "no math"}])
    lab = Labeler(df, store=tmp_path / "l.sqlite", shuffle=False, audit_rate=0.0)
    host(page, lab)
    page.locator(f"{SHOWN} .katex").wait_for()
    assert page.locator("style[data-prefnb-katex]").count() == 1
    page.evaluate("() => window.cleanup()")
    assert page.locator("style[data-prefnb-katex]").count() == 0
