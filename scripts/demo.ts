/**
 * The main job: `npm run demo`. Tells the whole Concord story (src/story/story.ts) on the
 * in-process Hardhat network, with nothing else to start.
 *
 * Against a running node (then inspect the result with the `concord` CLI):
 *   npx hardhat node                                   # in another terminal
 *   npm run demo -- --network localhost                # or: npx hardhat run --network localhost scripts/demo.ts
 *
 * Exits non-zero, naming every figure that does not reconcile, when the story does not add up.
 */
import hre from "hardhat";
import { StoryReconciliationError, hardhatStage, runStory } from "../src/story";

async function main(): Promise<void> {
  const started = performance.now();
  const stage = await hardhatStage(hre);
  console.log(`Concord demo on the ${stage.network === "hardhat" ? "in-process Hardhat network" : `"${stage.network}" network`}`);
  for (const note of stage.notes) console.log(note);
  await runStory({ ...stage, log: (line) => console.log(line) });
  console.log(`\n(the story took ${((performance.now() - started) / 1_000).toFixed(1)} s)`);
  if (stage.network !== "hardhat") {
    const url = "url" in hre.network.config ? hre.network.config.url : "<rpc url>";
    console.log(`Inspect it with the CLI, e.g.: npx concord agreement list --rpc-url ${url}; npx concord audit report --rpc-url ${url}`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof StoryReconciliationError) {
    console.error(`\nDEMO FAILED: ${error.failures.length} figure(s) do not reconcile:\n  - ${error.failures.join("\n  - ")}`);
  } else {
    console.error("\nDEMO FAILED:", error);
  }
  process.exitCode = 1;
});
