#!/usr/bin/env node
// Runs Foundry's forge from its npm platform package (that package's own `bin`) and exits with
// forge's status. The @foundry-rs/forge wrapper (bin.mjs in 1.7.1) does not pass its child's exit
// code on: through it a compile error or a failing invariant exits 0, and CI would pass.
"use strict";
const { spawnSync } = require("node:child_process");
const path = require("node:path");

const arch = { x64: "amd64", arm64: "arm64" }[process.arch];
const name = `@foundry-rs/forge-${process.platform}-${arch}`;
let manifest;
try {
  manifest = require.resolve(`${name}/package.json`);
} catch {
  console.error(`forge: no ${name} installed for ${process.platform}/${process.arch} (npm ci installs it with @foundry-rs/forge)`);
  process.exit(1);
}
const binary = path.join(path.dirname(manifest), require(manifest).bin.forge);
const result = spawnSync(binary, process.argv.slice(2), { stdio: "inherit" });
if (result.error) {
  console.error(`forge: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
