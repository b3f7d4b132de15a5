"""Host a real :class:`Labeler` in a plain Playwright page, without Jupyter.

The page gets the built ``prefnb/static/labeler.js`` (imported from a ``blob:`` URL, as
anywidget does) and a small fake anywidget model whose ``send`` calls back into Python
through ``page.expose_function``: the widget's own message handler answers, against a real
SQLite store. Browser tests and ``bench/labeler.py`` use it; nothing else loads it.

Example:
    >>> from labeler_host import host  # doctest: +SKIP
    >>> sent = host(page, lab)  # doctest: +SKIP
    >>> page.locator(".pl-pair").wait_for()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from prefnb.labeler.widget import Labeler

__all__ = ["HARNESS_HTML", "ORIGIN", "host", "open_harness"]

#: The fake origin the harness page is served from (by ``page.route``; no server, no network).
ORIGIN = "http://widget.test/"

HARNESS_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>labeler harness</title></head>
<body><div id="host" style="width: 1100px"></div>
<script type="module">
  // A fake anywidget model: traits in `state`, custom messages answered by Python in order.
  window.makeModel = (state) => {
    const handlers = new Map();
    const emit = (name, ...args) => { for (const cb of handlers.get(name) || []) cb(...args); };
    let chain = Promise.resolve();
    const model = {
      sent: [],
      received: [],
      get: (k) => state[k],
      set: (k, v) => { state[k] = v; emit(`change:${k}`, v); },
      on: (name, cb) => {
        if (!handlers.has(name)) handlers.set(name, new Set());
        handlers.get(name).add(cb);
      },
      off: (name, cb) => { handlers.get(name)?.delete(cb); },
      save_changes: () => {},
      send: (msg) => {
        model.sent.push(msg);
        chain = chain.then(() => window.pyKernel(msg)).then((replies) => {
          for (const r of replies) { model.received.push(r); emit("msg:custom", r, []); }
        });
      },
      push: (msg) => { model.received.push(msg); emit("msg:custom", msg, []); },
      listeners: () => [...handlers.values()].reduce((n, s) => n + s.size, 0),
    };
    return model;
  };
  window.mountWidget = async (esm, state) => {
    const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
    const mod = await import(url);
    const widget = typeof mod.default === "function" ? await mod.default() : mod.default;
    const model = window.makeModel(state);
    const el = document.getElementById("host");
    window.model = model;
    window.cleanup = await widget.render({ model, el });
    return true;
  };
</script></body></html>"""


def open_harness(page: Any) -> None:
    """Load the harness page (served by ``page.route``) into ``page``."""
    page.route(
        ORIGIN,
        lambda route: route.fulfill(status=200, content_type="text/html", body=HARNESS_HTML),
    )
    page.goto(ORIGIN)


def host(page: Any, lab: Labeler, *, navigate: bool = True) -> list[dict[str, Any]]:
    """Serve the harness into ``page`` (unless ``navigate=False``: already open with
    :func:`open_harness`) and mount ``lab``'s front end there.

    Returns the live list of every message the widget sent to the browser (for asserts).
    Python-side pushes (``lab.goto``) are delivered the next time the page calls Python,
    or explicitly with ``page.evaluate("m => model.push(m)", msg)``.
    """
    out: list[dict[str, Any]] = []

    def kernel(msg: dict[str, Any]) -> list[dict[str, Any]]:
        start = len(out)
        lab._on_msg(lab, msg, [])
        return out[start:]

    lab.send = lambda msg, buffers=None: out.append(msg)
    page.expose_function("pyKernel", kernel)
    if navigate:
        open_harness(page)
    esm = str(lab._esm)
    # The Labeler's own synced traits, as Jupyter would hand them to the view.
    state = {
        name: getattr(lab, name)
        for name in Labeler.class_own_traits(sync=True)
        if not name.startswith("_")
    }
    page.evaluate("([esm, state]) => mountWidget(esm, state)", [esm, state])
    return out
