// Bundle every top-level js/<widget>.js into prefnb/static/<widget>.js (shared code lives in
// js/lib/). One entry per widget keeps each anywidget's _esm small and independent.
// This package lives in js/, not the repository root: its "type": "module" would otherwise
// reach a .venv created in the checkout and make Node read JupyterLab's CommonJS scripts as
// ES modules. Paths are resolved from this file so the build runs from any directory.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, context } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const entryPoints = readdirSync(here)
  .filter((f) => f.endsWith(".js"))
  .map((f) => join(here, f));
const watch = process.argv.includes("--watch");
const options = {
  entryPoints,
  bundle: true,
  format: "esm",
  target: "es2020",
  outdir: join(here, "..", "prefnb", "static"),
  minify: !watch,
  sourcemap: watch ? "inline" : false,
  loader: { ".css": "text" },
  logLevel: "info",
};
if (watch) {
  await (await context(options)).watch();
} else {
  await build(options);
}
