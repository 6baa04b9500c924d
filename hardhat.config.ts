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

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      optimizer: { enabled: true, runs: 10_000 },
      evmVersion: "cancun",
      viaIR: true,
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
