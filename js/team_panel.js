// @ts-check
/**
 * TeamPanel front end (anywidget ESM): per-annotator progress, position bias and
 * self-consistency, pairwise Cohen's κ and Krippendorff's α. The kernel recomputes on each
 * store change (LISTEN/NOTIFY or a file watch) and replaces `stats`; this only draws it.
 * Names come from the store and are inserted as text, never as HTML.
 *
 * @typedef {{ annotator: string, n_labels: number, rate_per_hour: number | null,
 *   left_share: number | null, n_sided: number, self_consistency: number | null,
 *   n_audits_compared: number, claimed: number }} AnnotatorRow
 * @typedef {{ a: string, b: string, n_common: number, kappa: number | null }} PairwiseRow
 * @typedef {{ annotators: AnnotatorRow[], pairwise: PairwiseRow[], alpha: number | null,
 *   n_pairs: number, n_disagreements: number, n_adjudicated: number, n_claimed: number }} TeamStats
 * @typedef {{ stats: TeamStats, source: string, mode: string, updated: string, error: string }} PanelModel
 */

/** Below this many sided picks a left share is too noisy to flag. */
const MIN_SIDED = 20;

const CSS = `
.prefnb-team { font: 13px/1.45 var(--jp-ui-font-family, system-ui, sans-serif);
  color: var(--jp-ui-font-color1, #1f2328); display: grid; gap: 10px; max-width: 860px; }
.prefnb-team__head { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap;
  color: var(--jp-ui-font-color2, #57606a); font-size: 12px; }
.prefnb-team__title { font-weight: 600; font-size: 14px; color: var(--jp-ui-font-color1, #1f2328); }
.prefnb-team__live { border-radius: 10px; padding: 0 8px; background: #1a7f37; color: #fff; font-weight: 600; }
.prefnb-team__src { font-family: var(--jp-code-font-family, ui-monospace, monospace); }
.prefnb-team__spacer { flex: 1; }
.prefnb-team__chips { display: flex; gap: 6px; flex-wrap: wrap; }
.prefnb-team__chip { border: 1px solid var(--jp-border-color2, #d0d7de); border-radius: 6px; padding: 2px 8px;
  background: var(--jp-layout-color1, #fff); }
.prefnb-team__chip b { font-variant-numeric: tabular-nums; }
.prefnb-team table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
.prefnb-team th, .prefnb-team td { padding: 3px 10px; text-align: right; border-bottom: 1px solid var(--jp-border-color2, #eaeef2); }
.prefnb-team th { font-weight: 600; color: var(--jp-ui-font-color2, #57606a); font-size: 12px; }
.prefnb-team th:first-child, .prefnb-team td:first-child { text-align: left; }
.prefnb-team__bar { display: inline-block; position: relative; width: 80px; height: 8px; border-radius: 4px;
  background: var(--jp-layout-color3, #eaeef2); vertical-align: middle; margin-right: 6px; }
.prefnb-team__bar i { position: absolute; left: 0; top: 0; bottom: 0; border-radius: 4px; background: #0969da; }
.prefnb-team__bar::after { content: ""; position: absolute; left: 50%; top: -2px; bottom: -2px; width: 1px; background: #57606a; }
.prefnb-team__warn { color: #9a6700; font-weight: 600; }
.prefnb-team__kappa td.k { min-width: 48px; text-align: center; border-radius: 3px; }
.prefnb-team__muted { color: var(--jp-ui-font-color3, #8c959f); }
.prefnb-team__error { color: #cf222e; font-size: 12px; }
`;

/**
 * @param {string} tag
 * @param {string} [cls]
 * @param {string} [text]
 */
function h(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text != null) node.textContent = text;
  return node;
}

/** @param {number | null | undefined} x @param {number} [digits] */
const pct = (x, digits = 0) => (x == null ? "–" : `${(x * 100).toFixed(digits)}%`);
/** @param {number | null | undefined} x */
const num = (x) => (x == null ? "–" : x.toFixed(2));

/** κ/α colour: red below 0, amber to 0.4, green above 0.6 (Landis & Koch's bands, roughly). */
/** @param {number | null} k */
function kappaColor(k) {
  if (k == null) return "transparent";
  if (k < 0.2) return "rgba(207, 34, 46, 0.18)";
  if (k < 0.4) return "rgba(191, 135, 0, 0.20)";
  if (k < 0.6) return "rgba(191, 135, 0, 0.10)";
  return "rgba(26, 127, 55, 0.18)";
}

/** @param {AnnotatorRow} r */
function biased(r) {
  return r.left_share != null && r.n_sided >= MIN_SIDED && Math.abs(r.left_share - 0.5) > 0.1;
}

/** @type {import("@anywidget/types").Render<PanelModel>} */
function render({ model, el }) {
  const root = h("div", "prefnb-team");
  root.append(h("style", "", CSS));
  const body = h("div");
  body.style.display = "contents";
  root.append(body);
  el.appendChild(root);

  const draw = () => {
    const stats = model.get("stats");
    const rows = stats.annotators ?? [];
    const head = h("div", "prefnb-team__head");
    head.append(h("span", "prefnb-team__title", "Team"), h("span", "prefnb-team__src", model.get("source")));
    head.append(h("span", "prefnb-team__spacer"));
    const live = h("span", "prefnb-team__live", model.get("mode") === "listen" ? "live · LISTEN" : "live · file watch");
    const updated = model.get("updated");
    head.append(live, h("span", "", updated ? `updated ${updated.slice(11, 19)} UTC` : ""));

    const chips = h("div", "prefnb-team__chips");
    /** @param {string} label @param {string} value */
    const chip = (label, value) => {
      const c = h("span", "prefnb-team__chip", `${label} `);
      c.append(h("b", "", value));
      chips.append(c);
    };
    chip("pairs labeled", String(stats.n_pairs ?? 0));
    chip("disagreements", String(stats.n_disagreements ?? 0));
    chip("adjudicated", String(stats.n_adjudicated ?? 0));
    chip("claimed now", String(stats.n_claimed ?? 0));
    chip("Krippendorff's α", num(stats.alpha));

    const table = h("table", "prefnb-team__annotators");
    const tr = h("tr");
    for (const t of ["Annotator", "Labels", "Per hour", "Left picks", "Self-consistency", "Claimed"]) tr.append(h("th", "", t));
    table.append(tr);
    for (const r of rows) {
      const row = h("tr");
      row.dataset.annotator = r.annotator;
      row.append(h("td", "", r.annotator), h("td", "", String(r.n_labels)));
      row.append(h("td", "", r.rate_per_hour == null ? "–" : r.rate_per_hour.toFixed(0)));
      const left = h("td", "prefnb-team__left");
      const bar = h("span", "prefnb-team__bar");
      const fill = h("i");
      fill.style.width = `${((r.left_share ?? 0) * 100).toFixed(1)}%`;
      bar.append(fill);
      left.append(bar, h("span", biased(r) ? "prefnb-team__warn" : "", `${pct(r.left_share)}`));
      left.append(h("span", "prefnb-team__muted", ` of ${r.n_sided}`));
      if (biased(r)) left.title = "Left share far from 50% with randomized sides: position bias";
      row.append(left);
      const sc = h("td", "", pct(r.self_consistency));
      sc.append(h("span", "prefnb-team__muted", ` of ${r.n_audits_compared}`));
      row.append(sc, h("td", "", String(r.claimed)));
      table.append(row);
    }

    const parts = [head, chips, rows.length ? table : h("div", "prefnb-team__muted", "No labels yet.")];
    if (rows.length > 1) {
      const names = rows.map((r) => r.annotator);
      /** @type {Map<string, PairwiseRow>} */
      const byKey = new Map();
      for (const p of stats.pairwise ?? []) byKey.set(`${p.a}\u0000${p.b}`, p);
      const k = h("table", "prefnb-team__kappa");
      const kh = h("tr");
      kh.append(h("th", "", "Cohen's κ"));
      for (const n of names.slice(1)) kh.append(h("th", "", n));
      k.append(kh);
      names.slice(0, -1).forEach((a, i) => {
        const row = h("tr");
        row.append(h("th", "", a));
        names.slice(1).forEach((b, j) => {
          const p = j >= i ? byKey.get(`${a}\u0000${b}`) : undefined;
          const cell = h("td", "k", p ? (p.kappa == null ? "–" : p.kappa.toFixed(2)) : "");
          if (p) {
            cell.style.background = kappaColor(p.kappa);
            cell.title = `${a} vs ${b}: ${p.n_common} pairs labeled by both`;
          }
          row.append(cell);
        });
        k.append(row);
      });
      parts.push(k);
    }
    const error = model.get("error");
    if (error) parts.push(h("div", "prefnb-team__error", error));
    body.replaceChildren(...parts);
  };

  draw();
  const events = ["change:stats", "change:updated", "change:error", "change:mode", "change:source"];
  for (const e of events) model.on(e, draw);
  return () => {
    for (const e of events) model.off(e, draw);
    root.remove();
  };
}

export default { render };
