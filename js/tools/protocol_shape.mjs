// Print the shape of every JSDoc typedef in js/lib/protocol.js and the vocabularies of
// js/lib/vocab.js as JSON, for tests/labeler/test_labeler_protocol.py to compare with the
// Python side. Types are described structurally: a union is its sorted members, a literal
// its JSON, an array `Array<…>`, an object typedef its name.
//
// Run: node js/tools/protocol_shape.mjs
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const ts = require("typescript");
const lib = join(dirname(fileURLToPath(import.meta.url)), "..", "lib");
const file = join(lib, "protocol.js");

const program = ts.createProgram([file], {
  allowJs: true,
  checkJs: true,
  noEmit: true,
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
  types: [],
});
const checker = program.getTypeChecker();
const source = program.getSourceFile(file);
const moduleSymbol = checker.getSymbolAtLocation(source);

/** @param {import("typescript").Type} t @returns {string[]} */
function members(t) {
  if (t.isUnion()) {
    const out = [...new Set(t.types.flatMap(members))];
    if (out.includes("true") && out.includes("false")) {
      return [...out.filter((m) => m !== "true" && m !== "false"), "boolean"].sort();
    }
    return out.sort();
  }
  if (t.isStringLiteral()) return [JSON.stringify(t.value)];
  if (t.isNumberLiteral()) return [String(t.value)];
  const f = t.flags;
  if (f & ts.TypeFlags.BooleanLiteral) return [checker.typeToString(t)];
  if (f & ts.TypeFlags.String) return ["string"];
  if (f & ts.TypeFlags.Number) return ["number"];
  if (f & ts.TypeFlags.Boolean) return ["boolean"];
  if (f & ts.TypeFlags.Null) return ["null"];
  if (f & ts.TypeFlags.Undefined) return ["undefined"];
  if (checker.isArrayType(t)) {
    const [elem] = checker.getTypeArguments(/** @type {any} */ (t));
    return [`Array<${members(elem).join("|")}>`];
  }
  const index = checker.getIndexInfoOfType(t, ts.IndexKind.String);
  if (index) return [`Record<string, ${members(index.type).join("|")}>`];
  if (t.aliasSymbol) return [t.aliasSymbol.name];
  return [checker.typeToString(t)];
}

/** @type {Record<string, Record<string, string[]> | string[]>} */
const types = {};
for (const sym of checker.getExportsOfModule(moduleSymbol)) {
  if (!(sym.flags & ts.SymbolFlags.TypeAlias)) continue;
  const t = checker.getDeclaredTypeOfSymbol(sym);
  if (t.isUnion() && t.types.every((m) => m.aliasSymbol && m.getProperties().length)) {
    types[sym.name] = t.types.map((m) => /** @type {any} */ (m.aliasSymbol).name).sort();
  } else if (t.flags & ts.TypeFlags.Object && t.getProperties().length) {
    /** @type {Record<string, string[]>} */
    const fields = {};
    for (const prop of t.getProperties()) fields[prop.name] = members(checker.getTypeOfSymbol(prop));
    types[sym.name] = fields;
  }
}
const errors = ts.getPreEmitDiagnostics(program, source).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));

const vocab = await import(join(lib, "vocab.js"));
console.log(
  JSON.stringify({
    types,
    errors,
    vocab: {
      VERDICTS: vocab.VERDICTS,
      STRENGTHS: vocab.STRENGTHS,
      VERDICT_NAMES: vocab.VERDICT_NAMES,
      CHOICES: vocab.CHOICES,
      ACTIONS: vocab.ACTIONS,
    },
  }),
);
