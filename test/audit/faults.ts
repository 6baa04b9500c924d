import { expect } from "chai";
import { createPublicClient, http } from "viem";
import { report, statementRows, verify } from "../../src/audit";
import { nodeChain } from "./env";
import { buildRichHistory, type RichHistory } from "./history";
import { startFaultyProxy, startHardhatNode, type SpawnedNode } from "./node";

describe("audit over HTTP with provider faults", function () {
  this.timeout(240_000);
  let node: SpawnedNode | undefined;
  let history: RichHistory;

  before(async function () {
    node = await startHardhatNode();
    history = await buildRichHistory(await nodeChain(node.url));
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
        ledger: history.chain.addresses.ledger,
        fromBlock: history.chain.deployBlock,
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
      const { registry, ledger, negotiationHub } = history.chain.addresses;
      const direct = createPublicClient({ transport: http(node!.url) });
      const total = (await direct.getLogs({ address: [registry, ledger, negotiationHub], fromBlock: history.chain.deployBlock })).length;
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
    const result = await report({ client, ledger: history.chain.addresses.ledger, fromBlock: history.chain.deployBlock, dataDir: null });
    const rows = statementRows(result);
    const referral = rows.filter((r) => r.partner === history.people.travelSite && r.item === "referral-fees");
    expect(referral.length).to.equal(2); // ETH and the token
  });
});
