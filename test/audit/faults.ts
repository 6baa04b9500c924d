import { expect } from "chai";
import { ethers } from "hardhat";
import { createPublicClient, http } from "viem";
import { report, statementRows, verify } from "../../src/audit";
import { buildRichHistory, type RichHistory } from "./history";
import { startFaultyProxy, startHardhatNode, type SpawnedNode } from "./node";

describe("audit over HTTP with provider faults", function () {
  this.timeout(240_000);
  let node: SpawnedNode | undefined;
  let history: RichHistory;

  before(async function () {
    node = await startHardhatNode();
    const provider = new ethers.JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const signers = await Promise.all(Array.from({ length: 10 }, (_, i) => provider.getSigner(i)));
    history = await buildRichHistory(signers, {
      increaseTime: async (seconds) => {
        await provider.send("evm_increaseTime", [seconds]);
        await provider.send("evm_mine", []);
      },
    });
    provider.destroy();
  });

  after(async function () {
    await node?.stop();
  });

  it("ends exact through a proxy that rejects large ranges and fails some requests", async function () {
    const proxy = await startFaultyProxy(node!.url, { maxLogRange: 5n, failEveryNthGetLogs: 3, failEveryNthOther: 7 });
    try {
      const client = createPublicClient({ transport: http(proxy.url, { retryCount: 5, retryDelay: 10 }) });
      const ranges: string[] = [];
      const result = await verify({
        client,
        ledger: history.addresses.ledger,
        fromBlock: history.deployBlock,
        dataDir: null,
        fetch: { initialRange: 64n, retryDelayMs: 5 },
        onRange: (event) => ranges.push(event.kind),
      });
      // Faults happened, and the adaptive reader shrank and retried through them.
      expect(proxy.stats.rangeRejected).to.be.greaterThan(0);
      expect(proxy.stats.getLogsFailed).to.be.greaterThan(0);
      expect(proxy.stats.otherFailed).to.be.greaterThan(0);
      expect(ranges).to.include("shrink");
      expect(ranges).to.include("retry");
      // Nothing skipped: exactly the node's logs, and the rebuilt state matches the chain.
      const direct = new ethers.JsonRpcProvider(node!.url, undefined, { staticNetwork: true });
      const total = (await direct.getLogs({ address: [history.addresses.registry, history.addresses.ledger], fromBlock: Number(history.deployBlock), toBlock: "latest" })).length;
      direct.destroy();
      expect(result.sync.newRawLogs).to.equal(total);
      expect(result.sync.newEvents).to.equal(total);
      expect(result.violations).to.deep.equal([]);
      expect(result.differences).to.deep.equal([]);
      expect(result.ok).to.equal(true);
    } finally {
      await proxy.close();
    }
  });

  it("reports statements from a node over HTTP", async function () {
    const client = createPublicClient({ transport: http(node!.url) });
    const result = await report({ client, ledger: history.addresses.ledger, fromBlock: history.deployBlock, dataDir: null });
    const rows = statementRows(result);
    const referral = rows.filter((r) => r.partner === history.people.travelSite && r.item === "referral-fees");
    expect(referral.length).to.equal(2); // ETH and the token
  });
});
