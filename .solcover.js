// solidity-coverage: measure the contracts, not the test doubles.
module.exports = {
  skipFiles: ["mocks/"],
  // Coverage instruments without the optimizer; keep the report where .gitignore expects it.
  istanbulReporter: ["text", "text-summary", "json-summary", "html"],
  // Instrumented contracts run several times slower: the SplitMath conservation property took
  // 115 s of hardhat.config's 120 s under coverage and timed out on a loaded machine, and a
  // timed-out test keeps sending transactions, which broke the snapshots of every later suite.
  mocha: { timeout: 600_000 },
};
