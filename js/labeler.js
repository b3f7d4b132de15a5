// @ts-check
/**
 * Labeler front end (anywidget ESM): side-by-side preference labeling.
 * The controller lives in lib/app.js; this module only mounts it and returns the cleanup.
 */
import { LabelerApp } from "./lib/app.js";
import { holdMathStyle } from "./lib/math.js";
import css from "./labeler.css";

/** @typedef {import("./lib/protocol.js").LabelerTraits} LabelerTraits */

/** @type {import("@anywidget/types").Render<LabelerTraits>} */
function render({ model, el }) {
  const style = document.createElement("style");
  style.textContent = css;
  el.append(style);
  const releaseMath = holdMathStyle();
  const app = new LabelerApp(model, el);
  app.mount();
  return () => {
    app.destroy();
    style.remove();
    releaseMath();
  };
}

export default { render };
