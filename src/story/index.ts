/** The Concord story of the demo: every public export, in one place. */
export { runStory, StoryReconciliationError } from "./story";
export type { Payout, RunStoryParameters, StoryCast, StoryResult, StoryWallet } from "./story";
export { makeStage } from "./stage";
export type { StoryStage } from "./stage";
export { STANCES, bundleAgents, bundleIssueSpace } from "./agents";
export type { BundleAgent, PartnerName, PartnerRisk, PartnerStance } from "./agents";
export { CAST_INDEX, DEV_MNEMONIC, hardhatStage } from "./hardhat";
export type { HardhatStage } from "./hardhat";
export { amount, heading, percent, table } from "./format";
export type { TokenUnit } from "./format";
