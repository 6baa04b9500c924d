#!/usr/bin/env node
// The `concord` CLI: runs the TypeScript sources through a cached transpile (bin/register-ts.js).
"use strict";
require("./register-ts");
require("../src/cli/main.ts").main(process.argv);
