import path from "node:path";
import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig } from "hardhat/config";
import "@nomicfoundation/hardhat-toolbox";

/** The one compiler version of the project; the npm `solc` package is pinned to it. */
export const SOLC_VERSION = "0.8.28";

// Hardhat would download the compiler list and a native build; these machines have no
// route to it. Serve the solc-js build that ships in the pinned npm `solc` package instead.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper(args);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solcPackage = require("solc/package.json") as { version: string };
  if (solcPackage.version !== SOLC_VERSION) {
    throw new Error(`npm package solc is ${solcPackage.version}; the config needs exactly ${SOLC_VERSION}`);
  }
  const compilerPath = path.join(path.dirname(require.resolve("solc/package.json")), "soljson.js");
  return { compilerPath, isSolcJs: true, version: SOLC_VERSION, longVersion: `${SOLC_VERSION}+commit.7893614a` };
});

/**
 * Hardhat's chain engine (EDR, in Rust) allocates through mimalloc, which by default gives memory
 * back to the system 10 ms after it is freed (`purge_delay`). The engine frees and allocates again
 * megabytes for every large answer (an auditor's `eth_getLogs`, a batch of storage reads), so each
 * answer faulted fresh pages in. With a delay of one second a busy engine reuses what it freed;
 * what stays free longer is still given back, at the engine's next allocations. Measured on the
 * replay bench's history (README, "Replay"): the engine's threads took 0.48-0.56 CPU s per auditor
 * run (0.10-0.19 of it in the kernel) against 0.15-0.18 (almost none in the kernel), and the
 * process's peak RSS was about 230 MB higher (2.45 GB, most of it the chain's state). mimalloc
 * reads the setting when the engine is loaded (at the first request to the in-process chain, or
 * when `hardhat node` starts), which is after this config, so it applies to every chain this
 * config runs. A value already in the environment wins (MIMALLOC_PURGE_DELAY=10 measures without).
 */
export const ENGINE_PURGE_DELAY_MS = "1000";
process.env.MIMALLOC_PURGE_DELAY ??= ENGINE_PURGE_DELAY_MS;

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      optimizer: { enabled: true, runs: 10_000 },
      evmVersion: "cancun",
      viaIR: false,
    },
  },
  paths: {
    sources: "contracts",
    tests: "test",
    ignition: "deploy",
  },
  networks: {
    hardhat: {
      // Large-party benchmarks and fixtures stay within a realistic block.
      blockGasLimit: 60_000_000,
    },
    // Any JSON-RPC endpoint: a local `hardhat node` by default, another EVM chain with CONCORD_RPC_URL.
    // Transactions are signed by CONCORD_PRIVATE_KEY when set, else by the node's unlocked accounts.
    localhost: {
      url: process.env.CONCORD_RPC_URL ?? "http://127.0.0.1:8545",
      accounts: process.env.CONCORD_PRIVATE_KEY ? [process.env.CONCORD_PRIVATE_KEY] : "remote",
    },
  },
  mocha: {
    timeout: 120_000,
  },
  gasReporter: {
    enabled: false,
  },
};

export default config;
