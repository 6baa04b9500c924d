#!/usr/bin/env node
// The `concord` CLI, from the build (`npm run build`, or `npm ci`, whose prepare step builds).
"use strict";
const path = require("node:path");

let cli;
try {
  cli = require("../dist/cli/main.js");
} catch (error) {
  if (error && error.code === "MODULE_NOT_FOUND" && String(error.message).includes(path.join("dist", "cli", "main.js"))) {
    process.stderr.write(`error: ${path.join(__dirname, "..", "dist", "cli", "main.js")} is missing: run \`npm run build\` first\n`);
    process.exit(1);
  }
  throw error;
}
// Exit once the command is done: an open WebSocket transport (ws:// RPC URLs) would keep the process alive.
cli.main(process.argv).then(() => process.exit());
