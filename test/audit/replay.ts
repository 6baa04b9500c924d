import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { fetchConcordLogs, type ConcordLog } from "../../src/audit/fetch";
import { ReplayState, storedLotHash } from "../../src/audit/replay";
import { settlementLedgerAbi } from "../../src/sdk/abi";
import { inProcessChain } from "./env";
import { buildRichHistory, ETH, orderRef } from "./history";

async function richHistoryFixture() {
  const history = await buildRichHistory(await inProcessChain());
  const { addresses, deployBlock, publicClient } = history.chain;
  const logs: ConcordLog[] = [];
  let raw = 0;
  for await (const batch of fetchConcordLogs(publicClient, { addresses, fromBlock: deployBlock, initialRange: 3n, growBelow: 2 })) {
    raw += batch.rawCount;
    logs.push(...batch.logs);
  }
  return { history, logs, raw };
}

/** Replays `logs` into a fresh state and returns it. */
function replay(logs: readonly ConcordLog[]): ReplayState {
  const state = new ReplayState();
  state.applyBatch(logs);
  state.finish();
  return state;
}

/** A copy of the history with one event's arguments changed. */
function tampered(logs: readonly ConcordLog[], eventName: string, change: (args: Record<string, unknown>) => void, nth = 0): ConcordLog[] {
  let seen = 0;
  return logs.map((log) => {
    if (log.eventName !== eventName || seen++ !== nth) return log;
    const args = { ...log.args };
    change(args);
    return { ...log, args };
  });
}

describe("audit replay", function () {
  describe("fetch", function () {
    it("returns every Concord log once, decoded, in (block, tx, log) order", async function () {
      const { history, logs, raw } = await loadFixture(richHistoryFixture);
      const { addresses, deployBlock, publicClient } = history.chain;
      const all = await publicClient.getLogs({ address: [addresses.registry, addresses.ledger, addresses.negotiationHub], fromBlock: deployBlock });
      expect(raw).to.equal(all.length);
      expect(logs.length).to.equal(all.length);
      for (let i = 1; i < logs.length; i += 1) {
        const [a, b] = [logs[i - 1]!, logs[i]!];
        const ordered = a.blockNumber < b.blockNumber || (a.blockNumber === b.blockNumber && (a.transactionIndex < b.transactionIndex || (a.transactionIndex === b.transactionIndex && a.logIndex < b.logIndex)));
        expect(ordered, `log ${i} out of order`).to.equal(true);
      }
      const names = new Set(logs.map((l) => l.eventName));
      for (const name of ["AgreementProposed", "VersionProposed", "VersionApproved", "ConsentSigned", "VersionActivated", "TerminationApproved", "TerminationSigned", "AgreementTerminated", "NegotiationOpened", "OfferMade", "OfferAccepted", "NegotiationAgreed", "Settled", "ReservesHeld", "ReserveRefunded", "ReserveReleased", "Distributed", "Claimed", "RemainderSwept", "Withdrawn"]) {
        expect(names.has(name), name).to.equal(true);
      }
      // Activations and terminations carry their block's time (approvals are counted until they expire).
      for (const log of logs.filter((l) => l.eventName === "VersionActivated" || l.eventName === "AgreementTerminated")) {
        const block = await publicClient.getBlock({ blockNumber: log.blockNumber });
        expect(log.blockTimestamp).to.equal(block.timestamp);
      }
    });
  });

  describe("state", function () {
    it("rebuilds every balance, pool, paidUpTo, lot, order reference and risk counter the ledger holds, with no violation", async function () {
      const { history, logs } = await loadFixture(richHistoryFixture);
      const state = replay(logs);
      expect(state.violations).to.deep.equal([]);
      const { publicClient, addresses } = history.chain;
      const read = (functionName: string, args: readonly unknown[]) =>
        publicClient.readContract({ address: addresses.ledger, abi: settlementLedgerAbi, functionName, args } as never) as Promise<unknown>;
      expect(state.balances.size).to.be.greaterThan(10);
      for (const b of state.balances.values()) expect(await read("balanceOf", [b.account, b.token]), `${b.account} ${b.token}`).to.equal(b.amount);
      expect(state.pools.size).to.be.greaterThan(8);
      for (const pool of state.pools.values()) {
        expect(await read("pool", [pool.agreementId, pool.version, pool.token])).to.deep.equal({ total: pool.total, held: pool.held, distributed: pool.distributed });
        for (let i = 0; i < pool.paidUpTo.length; i += 1) expect(await read("paidUpTo", [pool.agreementId, pool.version, pool.token, BigInt(i)])).to.equal(pool.paidUpTo[i]);
      }
      // Only the lots of the two settlements on C after the releases still hold a reserve.
      expect([...state.lots.values()].filter((l) => l.open).map((l) => l.entries!.map((e) => e.orderRef))).to.deep.equal([[orderRef("c-eth-2")], [orderRef("c-eth-3")]]);
      for (const lot of state.lots.values()) expect(await read("lotHash", [lot.lotId])).to.equal(storedLotHash(lot));
      for (const risk of state.risk.values()) {
        expect(await read("riskCounters", [risk.agreementId, risk.token])).to.deep.equal({ settledVolume: risk.settledVolume, settledCount: risk.settledCount, refundCount: risk.refundCount, refundedVolume: risk.refundedVolume });
      }
      expect(await read("isOrderSettled", [history.people.merchant, orderRef("d-eth-1")])).to.equal(true);
      expect(state.orderBitmaps.get(history.people.merchant)?.size).to.equal(2);
      expect(state.orderBitmaps.has(history.people.guest)).to.equal(true);
      // Conservation per token: what the ledger holds equals balances + held reserves + undistributed.
      for (const token of [ETH, history.chain.addresses.token]) {
        const t = state.totalsOf(token);
        expect(t.holdings).to.equal(t.balances + t.heldReserves + t.undistributed);
        const held = token === ETH ? await publicClient.getBalance({ address: addresses.ledger }) : ((await publicClient.readContract({ address: token, abi: [{ type: "function", name: "balanceOf", stateMutability: "view", inputs: [{ name: "a", type: "address" }], outputs: [{ name: "", type: "uint256" }] }], functionName: "balanceOf", args: [addresses.ledger] })) as bigint);
        expect(t.holdings).to.equal(held);
      }
      // The negotiated version names the participant whose offer was agreed, and was consented in the hub.
      expect([state.termsOf(history.ids.e, 2)?.proposer, state.termsOf(history.ids.e, 2)?.negotiated]).to.deep.equal([history.people.airline, true]);
      expect(state.agreements.get(history.ids.d)?.status).to.equal("terminated");
    });
  });

  describe("law oracles", function () {
    it("consent: an activation without a consenter's signature or approval names that consenter", async function () {
      const { history, logs } = await loadFixture(richHistoryFixture);
      // Drop the chef's signature on C: the chef consents only through nested agreement B.
      const chef = history.people.chef;
      const withoutChef = logs.filter((l) => !(l.eventName === "ConsentSigned" && l.args.agreementId === history.ids.c && l.args.party === chef));
      const violations = replay(withoutChef).violations;
      expect(violations.map((v) => [v.law, v.account])).to.deep.equal([["consent", chef]]);
      expect(violations[0]!.message).to.contain(`agreement ${history.ids.c} version 1 activated without the consent of ${chef}`);
    });

    it("consent: an approval that expired before the activation does not count", async function () {
      const { history, logs } = await loadFixture(richHistoryFixture);
      const expired = tampered(logs, "VersionApproved", (a) => (a.expiry = 1n));
      expect(replay(expired).violations.map((v) => [v.law, v.account])).to.deep.equal([["consent", history.people.airline]]);
      const revoked = logs.flatMap((l) => (l.eventName === "VersionApproved" ? [l, { ...l, logIndex: l.logIndex + 1, eventName: "ApprovalRevoked" }] : [l]));
      expect(replay(revoked).violations.map((v) => [v.law, v.account])).to.deep.equal([["consent", history.people.airline]]);
    });

    it("consent: a termination without a consenter's signature or live termination approval names that consenter", async function () {
      const { history, logs } = await loadFixture(richHistoryFixture);
      const unsigned = logs.filter((l) => l.eventName !== "TerminationSigned");
      expect(replay(unsigned).violations.map((v) => [v.law, v.account])).to.deep.equal([["consent", history.people.airline]]);
      const lapsed = tampered(logs, "TerminationApproved", (a) => (a.expiry = 1n));
      const violations = replay(lapsed).violations;
      expect(violations.map((v) => [v.law, v.account])).to.deep.equal([["consent", history.people.hotel]]);
      expect(violations[0]!.message).to.equal(`agreement ${history.ids.d} terminated without the consent of ${history.people.hotel}`);
    });

    it("consent: a negotiated version needs every participant's acceptance of the latest offer", async function () {
      const { history, logs } = await loadFixture(richHistoryFixture);
      const unaccepted = logs.filter((l) => l.eventName !== "OfferAccepted");
      const laws = replay(unaccepted).violations.map((v) => [v.law, v.account]);
      expect(laws).to.deep.include(["consent", history.people.chef]);
    });

    it("attribution: a direct payment's referrer the terms do not list, and the payer as its own referrer, are named", async function () {
      const { history, logs } = await loadFixture(richHistoryFixture);
      const direct = logs.find((l) => l.eventName === "Settled" && l.args.referrer === history.people.travelSite)!;
      const unlisted = replay(logs.map((l) => (l === direct ? { ...l, args: { ...l.args, referrer: history.people.chef } } : l))).violations;
      expect(unlisted.map((v) => [v.law, v.account, v.event.eventName])).to.deep.include(["single-attribution", history.people.chef, "Settled"]);
      expect(unlisted.map((v) => v.message).join("\n")).to.match(/referrer 0x[0-9a-fA-F]{40} is not on version \d+'s list/);
      const self = replay(logs.map((l) => (l === direct ? { ...l, args: { ...l.args, referrer: l.args.payer } } : l))).violations;
      expect(self.map((v) => v.message).join("\n")).to.match(/is its own referrer/);
    });

    it("exactness: a distribution beyond the pool's whole units, and a claim paid more than owed", async function () {
      const { logs } = await loadFixture(richHistoryFixture);
      const over = replay(tampered(logs, "Distributed", (a) => (a.toTotal = (a.toTotal as bigint) + 10n))).violations;
      expect(over[0]!.law).to.equal("exactness");
      expect(over[0]!.message).to.contain("up to");
      const claimed = replay(tampered(logs, "Claimed", (a) => (a.amount = (a.amount as bigint) + 1n))).violations;
      expect(claimed.map((v) => [v.law, v.event.eventName])).to.deep.include(["exactness", "Claimed"]);
      expect(claimed[0]!.message).to.match(/paid \d+; it was owed \d+/);
    });

    it("idempotency: an order reference settled twice in its scope", async function () {
      const { logs } = await loadFixture(richHistoryFixture);
      const settled = logs.find((l) => l.eventName === "Settled")!;
      const last = logs.at(-1)!;
      const again = { ...settled, blockNumber: last.blockNumber + 1n, transactionHash: `0x${"ab".repeat(32)}` as const };
      const violations = replay([...logs, again]).violations;
      expect(violations.map((v) => v.law)).to.include("unique-order-reference");
    });

    it("a remainder swept while its pool can still receive value", async function () {
      const { history, logs } = await loadFixture(richHistoryFixture);
      const last = logs.at(-1)!;
      const sweep = logs.find((l) => l.eventName === "RemainderSwept")!;
      const early = { ...sweep, blockNumber: last.blockNumber + 1n, args: { ...sweep.args, agreementId: history.ids.c, version: 1, amount: 0n } };
      const violations = replay([...logs, early]).violations;
      expect(violations.map((v) => v.message).join("\n")).to.contain(`remainder of agreement ${history.ids.c} version 1`);
    });
  });
});
