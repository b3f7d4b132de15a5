// @ts-check
/**
 * JobMonitor front end (anywidget ESM): one card per fine-tuning job with its status,
 * a steps bar with ETA, the latest events, the W&B link and a cancel button that asks
 * for confirmation. Everything from the server is inserted as text, never as HTML.
 *
 * Messages use the Labeler's envelope (the name is `type`); the Python twins are the
 * TypedDicts of prefnb/launch/monitor.py.
 *
 * @typedef {{
 *   id: string, status: string, model: string | null, steps_done: number | null,
 *   total_steps: number | null, eta_seconds: number | null, wandb_url: string | null,
 *   model_output_name: string | null, events: string[], error: string | null,
 *   params: string[], final: string | null
 * }} MonitorRow
 * @typedef {{ rows: MonitorRow[], polling: boolean, last_poll: string }} MonitorTraits
 * @typedef {{ type: "cancel", id: string }} CancelRequest
 * @typedef {{ type: "cancel_result", id: string, ok: boolean, message: string }} CancelResult
 */

const TERMINAL = new Set(["completed", "error", "user_error", "cancelled"]);

const CSS = `
.prefnb-monitor { font: 13px/1.45 var(--jp-ui-font-family, system-ui, sans-serif);
  color: var(--jp-ui-font-color1, #1f2328); display: grid; gap: 8px; max-width: 860px; }
.prefnb-monitor__head { display: flex; justify-content: space-between; color: var(--jp-ui-font-color2, #57606a); font-size: 12px; }
.prefnb-monitor__card { border: 1px solid var(--jp-border-color2, #d0d7de); border-radius: 6px; padding: 8px 10px;
  background: var(--jp-layout-color1, #fff); display: grid; gap: 4px; }
.prefnb-monitor__body { display: grid; gap: 4px; }
.prefnb-monitor__top { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; }
.prefnb-monitor__id { font-family: var(--jp-code-font-family, ui-monospace, monospace); font-weight: 600; }
.prefnb-monitor__status { border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; color: #fff; background: #57606a; }
.prefnb-monitor__status[data-status="running"] { background: #0969da; }
.prefnb-monitor__status[data-status="completed"] { background: #1a7f37; }
.prefnb-monitor__status[data-status="error"], .prefnb-monitor__status[data-status="user_error"] { background: #cf222e; }
.prefnb-monitor__status[data-status="cancel_requested"] { background: #9a6700; }
.prefnb-monitor__params { font-family: var(--jp-code-font-family, ui-monospace, monospace); font-size: 12px; font-weight: 600;
  background: var(--jp-layout-color2, #eaeef2); border-radius: 4px; padding: 0 6px; }
.prefnb-monitor__final { font-size: 12px; font-weight: 600; }
.prefnb-monitor__card[data-status="completed"] .prefnb-monitor__final { color: #1a7f37; }
.prefnb-monitor__card[data-status="error"] .prefnb-monitor__final, .prefnb-monitor__card[data-status="user_error"] .prefnb-monitor__final { color: #cf222e; }
.prefnb-monitor__model { color: var(--jp-ui-font-color2, #57606a); font-family: var(--jp-code-font-family, ui-monospace, monospace); font-size: 12px; }
.prefnb-monitor__spacer { flex: 1; }
.prefnb-monitor__wandb { font-size: 12px; color: var(--jp-content-link-color, #0969da); text-decoration: none; }
.prefnb-monitor__wandb:hover { text-decoration: underline; }
.prefnb-monitor__bar { height: 6px; border-radius: 3px; background: var(--jp-layout-color3, #eaeef2); overflow: hidden; }
.prefnb-monitor__fill { height: 100%; background: #0969da; transition: width .4s ease; }
.prefnb-monitor__card[data-status="completed"] .prefnb-monitor__fill { background: #1a7f37; }
.prefnb-monitor__steps { font-size: 12px; color: var(--jp-ui-font-color2, #57606a); }
.prefnb-monitor__events { margin: 0; padding-left: 16px; font-size: 12px; color: var(--jp-ui-font-color2, #57606a); }
.prefnb-monitor__error { color: #cf222e; font-size: 12px; }
.prefnb-monitor button { font: inherit; font-size: 12px; border-radius: 4px; padding: 1px 8px; cursor: pointer;
  border: 1px solid var(--jp-border-color1, #d0d7de); background: var(--jp-layout-color2, #f6f8fa); color: inherit; }
.prefnb-monitor button.prefnb-monitor__danger { border-color: #cf222e; color: #cf222e; }
`;

/** @param {number | null} s */
function fmtEta(s) {
  if (s == null || !isFinite(s)) return "";
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? `${h}:` : "") + `${mm}:${String(sec).padStart(2, "0")}`;
}

/** @param {unknown} url */
function safeUrl(url) {
  return typeof url === "string" && /^https?:\/\//.test(url) ? url : null;
}

/**
 * @param {string} tag
 * @param {string} cls
 * @param {string} [text]
 */
function h(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text != null) node.textContent = text;
  return node;
}

/** @type {import("@anywidget/types").Render<MonitorTraits>} */
function render({ model, el }) {
  const root = h("div", "prefnb-monitor");
  const style = h("style", "", CSS);
  const head = h("div", "prefnb-monitor__head");
  const list = h("div", "prefnb-monitor__list");
  list.style.display = "grid";
  list.style.gap = "8px";
  root.append(style, head, list);
  el.appendChild(root);
  /**
   * Jobs whose cancel is awaiting confirmation, and the last cancel outcome per job.
   * @type {Set<string>}
   */
  const confirming = new Set();
  /** @type {Map<string, string>} */
  const notes = new Map();

  /** @param {CancelRequest} msg */
  const send = (msg) => model.send(msg);

  /** @param {MonitorRow} row */
  const topOf = (row) => {
    const top = h("div", "prefnb-monitor__top");
    const status = h("span", "prefnb-monitor__status", row.status.replace("_", " "));
    status.dataset.status = row.status;
    top.append(h("span", "prefnb-monitor__id", row.id), status);
    // What sets this job apart from the others in the monitor (a sweep's β, say).
    if (row.params && row.params.length) top.append(h("span", "prefnb-monitor__params", row.params.join(" · ")));
    if (row.model) top.append(h("span", "prefnb-monitor__model", row.model));
    top.append(h("span", "prefnb-monitor__spacer"));
    const wandb = safeUrl(row.wandb_url);
    if (wandb) {
      const a = /** @type {HTMLAnchorElement} */ (h("a", "prefnb-monitor__wandb", "W&B run ↗"));
      a.href = wandb;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      top.append(a);
    }
    if (!TERMINAL.has(row.status) && row.status !== "cancel_requested") {
      if (confirming.has(row.id)) {
        const ask = h("span", "prefnb-monitor__confirm", "Cancel this job? ");
        const yes = h("button", "prefnb-monitor__danger prefnb-monitor__yes", "Yes, cancel");
        const no = h("button", "prefnb-monitor__no", "Keep running");
        yes.addEventListener("click", () => {
          confirming.delete(row.id);
          notes.set(row.id, "cancelling…");
          send({ type: "cancel", id: row.id });
          draw();
        });
        no.addEventListener("click", () => {
          confirming.delete(row.id);
          draw();
        });
        ask.append(yes, " ", no);
        top.append(ask);
      } else {
        const btn = h("button", "prefnb-monitor__cancel", "Cancel…");
        btn.addEventListener("click", () => {
          confirming.add(row.id);
          draw();
        });
        top.append(btn);
      }
    }
    return top;
  };

  /** @param {MonitorRow} row */
  const bodyOf = (row) => {
    const c = document.createDocumentFragment();
    const total = row.total_steps ?? 0;
    const done = row.steps_done ?? 0;
    const bar = h("div", "prefnb-monitor__bar");
    const fill = h("div", "prefnb-monitor__fill");
    const frac = row.status === "completed" ? 1 : total > 0 ? Math.min(done / total, 1) : 0;
    fill.style.width = `${(frac * 100).toFixed(1)}%`;
    bar.append(fill);
    c.append(bar);
    const parts = [];
    if (total) parts.push(`${done}/${total} steps`);
    const eta = fmtEta(row.eta_seconds);
    if (eta && !TERMINAL.has(row.status)) parts.push(`ETA ${eta}`);
    if (row.model_output_name && row.status === "completed") parts.push(`→ ${row.model_output_name}`);
    const note = notes.get(row.id);
    if (note) parts.push(note);
    c.append(h("div", "prefnb-monitor__steps", parts.join(" · ") || "waiting for the first step…"));
    // Once the job has ended its last event ("Job finished") is shown on its own line.
    const events = row.final ? row.events.slice(0, -1) : row.events;
    if (events.length) {
      const ul = h("ul", "prefnb-monitor__events");
      for (const e of events) ul.append(h("li", "", e));
      c.append(ul);
    }
    if (row.final) c.append(h("div", "prefnb-monitor__final", row.final));
    if (row.error) c.append(h("div", "prefnb-monitor__error", row.error));
    return c;
  };

  /**
   * One card per job, kept across draws: a part (the buttons row, the progress below it) is
   * rebuilt only when what it shows changed. Replacing a button on every poll would swallow a
   * click whose mousedown and mouseup land on different elements.
   * @type {Map<string, { el: HTMLElement, top: HTMLElement, topKey: string, body: HTMLElement, bodyKey: string }>}
   */
  const cards = new Map();

  /** @param {MonitorRow} row */
  const card = (row) => {
    const topKey = JSON.stringify([row.status, row.model, row.wandb_url, row.params, confirming.has(row.id)]);
    const bodyKey = JSON.stringify([row, notes.get(row.id) ?? null]);
    let c = cards.get(row.id);
    if (!c) {
      const el = h("div", "prefnb-monitor__card");
      el.dataset.job = row.id;
      const top = h("div", "prefnb-monitor__top");
      const body = h("div", "prefnb-monitor__body");
      el.append(top, body);
      c = { el, top, topKey: "", body, bodyKey: "" };
      cards.set(row.id, c);
    }
    c.el.dataset.status = row.status;
    if (c.topKey !== topKey) {
      const top = topOf(row);
      c.top.replaceWith(top);
      c.top = top;
      c.topKey = topKey;
    }
    if (c.bodyKey !== bodyKey) {
      c.body.replaceChildren(bodyOf(row));
      c.bodyKey = bodyKey;
    }
    return c.el;
  };

  const draw = () => {
    const rows = model.get("rows") ?? [];
    const running = rows.filter((r) => !TERMINAL.has(r.status)).length;
    const polled = model.get("last_poll");
    head.textContent = "";
    head.append(
      h("span", "", `${rows.length} job${rows.length === 1 ? "" : "s"}, ${running} active`),
      h("span", "prefnb-monitor__poll", model.get("polling") ? `updated ${polled}` : polled ? `stopped · last update ${polled}` : "stopped"),
    );
    const els = rows.map(card);
    const ids = new Set(rows.map((r) => r.id));
    for (const id of [...cards.keys()]) if (!ids.has(id)) cards.delete(id);
    // Moving a card detaches it too: touch the list only when the jobs or their order changed.
    if (els.length !== list.children.length || els.some((e, i) => list.children[i] !== e)) {
      list.replaceChildren(...els);
    }
  };

  /** @param {CancelResult} msg */
  const onMsg = (msg) => {
    if (msg && msg.type === "cancel_result") {
      notes.set(msg.id, msg.ok ? `cancel requested (${msg.message})` : `could not cancel: ${msg.message}`);
      draw();
    }
  };

  draw();
  model.on("change:rows", draw);
  model.on("change:polling", draw);
  model.on("change:last_poll", draw);
  model.on("msg:custom", onMsg);
  return () => {
    model.off("change:rows", draw);
    model.off("change:polling", draw);
    model.off("change:last_poll", draw);
    model.off("msg:custom", onMsg);
    root.remove();
  };
}

export default { render };
