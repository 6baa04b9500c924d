// One auditor process for the store's concurrency and crash tests (test/audit/concurrency.ts):
// syncs a deployment into a store from the built package (dist/), a few blocks per batch, and
// prints one JSON line per stored batch and one at the end. Arguments come as one JSON object in
// argv[2]: { rpcUrl, ledger, fromBlock, databaseUrl?, dataDir?, range? }.
const path = require("node:path");
const { createPublicClient, http } = require("viem");
const { sync } = require(path.join(__dirname, "..", "..", "dist", "audit"));

const options = JSON.parse(process.argv[2]);
const range = BigInt(options.range ?? 1);
sync({
  client: createPublicClient({ transport: http(options.rpcUrl) }),
  ledger: options.ledger,
  fromBlock: BigInt(options.fromBlock),
  databaseUrl: options.databaseUrl,
  dataDir: options.dataDir,
  fetch: { initialRange: range, maxRange: range, concurrency: 1 },
  onProgress: (p) => process.stdout.write(`${JSON.stringify({ block: p.block.toString(), events: p.events })}\n`),
}).then(
  (result) => {
    const done = { done: true, newEvents: result.newEvents, storedEvents: result.storedEvents, toBlock: result.toBlock.toString(), violations: result.violations.length };
    process.stdout.write(`${JSON.stringify(done)}\n`);
  },
  (error) => {
    process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
    process.exitCode = 1;
  },
);
