// Bundle every top-level js/<widget>.js into prefnb/static/<widget>.js (shared code lives in
// js/lib/). One entry per widget keeps each anywidget's _esm small and independent.
import { readdirSync } from "node:fs";
import { build, context } from "esbuild";

const entryPoints = readdirSync("js")
  .filter((f) => f.endsWith(".js") && f !== "build.mjs")
  .map((f) => `js/${f}`);
const watch = process.argv.includes("--watch");
const options = {
  entryPoints,
  bundle: true,
  format: "esm",
  target: "es2020",
  outdir: "prefnb/static",
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
