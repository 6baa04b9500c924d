// solidity-coverage: measure the contracts, not the test doubles.
module.exports = {
  skipFiles: ["mocks/"],
  // Coverage instruments without the optimizer; keep the report where .gitignore expects it.
  istanbulReporter: ["text", "text-summary", "json-summary", "html"],
};
