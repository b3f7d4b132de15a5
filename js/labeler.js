// @ts-check
/**
 * Labeler front end (anywidget ESM). The full UI lands with the Labeler issue;
 * this first module proves the build wiring: esbuild bundles js/ into prefnb/static/.
 *
 * @typedef {{ title: string }} LabelerModel
 */

/** @type {import("@anywidget/types").Render<LabelerModel>} */
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "prefnb-labeler";
  const update = () => {
    root.textContent = model.get("title");
  };
  update();
  model.on("change:title", update);
  el.appendChild(root);
  return () => {
    model.off("change:title", update);
    root.remove();
  };
}

export default { render };
