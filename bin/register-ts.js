"use strict";
// Loads the CLI's TypeScript sources without a build step, as ts-node's transpile-only mode does,
// but keeps each file's JavaScript in a content-addressed cache (node_modules/.cache/concord-ts),
// so that only the first run after a change loads the TypeScript compiler. Type checking is
// `npm run lint`'s job, not the CLI's.
const crypto = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const CACHE = path.join(ROOT, "node_modules", ".cache", "concord-ts");
const TYPESCRIPT_VERSION = require("typescript/package.json").version;
let typescript;
let compilerOptions;

function transpile(source, filename) {
  if (!typescript) {
    typescript = require("typescript");
    compilerOptions = {
      module: typescript.ModuleKind.CommonJS,
      target: typescript.ScriptTarget.ES2022,
      esModuleInterop: true,
      resolveJsonModule: true,
      sourceMap: false,
    };
  }
  return typescript.transpileModule(source, { compilerOptions, fileName: filename }).outputText;
}

function compiled(source, filename) {
  const key = crypto.createHash("sha256").update(`${TYPESCRIPT_VERSION}\0${filename}\0${source}`).digest("hex");
  const file = path.join(CACHE, `${key}.js`);
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    const code = transpile(source, filename);
    try {
      fs.mkdirSync(CACHE, { recursive: true });
      // Written whole and renamed, so that a concurrent run never reads half a file.
      const temporary = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, code);
      fs.renameSync(temporary, file);
    } catch {
      // A read-only checkout still runs, only without the cache.
    }
    return code;
  }
}

Module._extensions[".ts"] = function loadTypeScript(module, filename) {
  module._compile(compiled(fs.readFileSync(filename, "utf8"), filename), filename);
};
