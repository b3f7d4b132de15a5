// @ts-check
/**
 * Labeler front end (anywidget ESM): side-by-side preference labeling.
 * The controller lives in lib/app.js; this module only mounts it and returns the cleanup.
 *
 * @typedef {{ annotator: string, total: number, guidelines: string }} LabelerModel
 */
import { LabelerApp } from "./lib/app.js";
import css from "./labeler.css";

/** @type {import("@anywidget/types").Render<LabelerModel>} */
function render({ model, el }) {
  const style = document.createElement("style");
  style.textContent = css;
  el.append(style);
  const app = new LabelerApp(/** @type {any} */ (model), el);
  app.mount();
  return () => {
    app.destroy();
    style.remove();
  };
}

export default { render };
