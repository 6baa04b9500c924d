#!/usr/bin/env node
// The `concord` CLI. Runs the TypeScript sources through ts-node (transpile only, so start-up stays quick).
"use strict";
const path = require("node:path");
require("ts-node").register({
  transpileOnly: true,
  project: path.join(__dirname, "..", "tsconfig.json"),
  compilerOptions: { module: "commonjs" },
});
require("../src/cli/main.ts").main(process.argv);
