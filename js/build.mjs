// Bundle every top-level js/<widget>.js into prefnb/static/<widget>.js (shared code lives in
// js/lib/). One entry per widget keeps each anywidget's _esm small and independent.
// This package lives in js/, not the repository root: its "type": "module" would otherwise
// reach a .venv created in the checkout and make Node read JupyterLab's CommonJS scripts as
// ES modules. Paths are resolved from this file so the build runs from any directory.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, context } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/**
 * `import css from "katex-inline.css"`: KaTeX's stylesheet with its WOFF2 fonts inlined as
 * data: URLs and the WOFF/TTF fallbacks dropped (every browser the widget runs in reads
 * WOFF2), so typeset math never asks the host page's server, or any other, for a font.
 * @type {import("esbuild").Plugin}
 */
const katexInlineCss = {
  name: "katex-inline-css",
  setup(b) {
    b.onResolve({ filter: /^katex-inline\.css$/ }, () => ({
      path: require.resolve("katex/dist/katex.min.css"),
      namespace: "katex-inline",
    }));
    b.onLoad({ filter: /.*/, namespace: "katex-inline" }, (args) => {
      const dir = dirname(args.path);
      const css = readFileSync(args.path, "utf8").replace(/src:([^;}]*)/g, (_m, list) => {
        const woff2 = /url\(([^)]+\.woff2)\)/.exec(list);
        if (!woff2) throw new Error(`katex-inline.css: no woff2 font in ${list}`);
        const data = readFileSync(join(dir, woff2[1])).toString("base64");
        return `src:url(data:font/woff2;base64,${data}) format("woff2")`;
      });
      if (/url\((?!data:)/.test(css)) throw new Error("katex-inline.css: a url() is left");
      return { contents: css, loader: "text" };
    });
  },
};

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
  plugins: [katexInlineCss],
  logLevel: "info",
};
if (watch) {
  await (await context(options)).watch();
} else {
  await build(options);
}
