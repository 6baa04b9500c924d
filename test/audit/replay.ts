import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { createPublicClient, custom, type Address } from "viem";
import { ConcordLogDecoder, fetchConcordLogs, type ConcordLog } from "../../src/audit/fetch";
import { ReplayState } from "../../src/audit/replay";
import { ETH } from "../helpers/concord";

const ZERO = "0x0000000000000000000000000000000000000000";
import { buildRichHistory } from "./history";

describe("audit replay", function () {
  async function richHistoryFixture() {
    const history = await buildRichHistory(await ethers.getSigners(), { increaseTime: async (s) => void (await time.increase(s)) });
    const client = createPublicClient({ transport: custom(hre.network.provider) });
    return { history, client };
  }

  async function replayAll(fixture: Awaited<ReturnType<typeof richHistoryFixture>>, initialRange = 3n) {
    const { history, client } = fixture;
    const state = new ReplayState();
    const seen: ConcordLog[] = [];
    let raw = 0;
    for await (const batch of fetchConcordLogs(client, {
      addresses: { registry: history.addresses.registry, ledger: history.addresses.ledger },
      fromBlock: history.deployBlock,
      initialRange,
      growBelow: 2,
    })) {
      raw += batch.rawCount;
      seen.push(...batch.logs);
      state.applyBatch(batch.logs);
    }
    state.finish();
    return { state, seen, raw };
  }

  describe("fetch", function () {
    it("returns every Concord log once, decoded, in (block, tx, log) order", async function () {
      const fixture = await loadFixture(richHistoryFixture);
      const { seen, raw } = await replayAll(fixture);
      const { history } = fixture;
      const expected = (await ethers.provider.getLogs({
        address: [history.addresses.registry, history.addresses.ledger],
        fromBlock: Number(history.deployBlock),
        toBlock: "latest",
      })).length;
      expect(raw).to.equal(expected);
      expect(seen.length).to.equal(expected);
      for (let i = 1; i < seen.length; i += 1) {
        const [a, b] = [seen[i - 1]!, seen[i]!];
        const order = a.blockNumber < b.blockNumber || (a.blockNumber === b.blockNumber && (a.transactionIndex < b.transactionIndex || (a.transactionIndex === b.transactionIndex && a.logIndex < b.logIndex)));
        expect(order, `log ${i} out of order`).to.equal(true);
      }
      const names = new Set(seen.map((l) => l.eventName));
      for (const name of ["AgreementProposed", "VersionProposed", "VersionActivated", "ConsentSigned", "Settled", "ReserveRefunded", "ReserveReleased", "PartyCredited", "NestedShareReceived", "Withdrawn"]) {
        expect(names.has(name), name).to.equal(true);
      }
    });

    it("decodes static events on its fast path exactly as viem's decodeEventLog does", async function () {
      const { history } = await loadFixture(richHistoryFixture);
      const addresses = { registry: history.addresses.registry, ledger: history.addresses.ledger };
      const fast = new ConcordLogDecoder(addresses);
      const reference = new ConcordLogDecoder(addresses, { viemOnly: true });
      const raw = (await hre.network.provider.request({
        method: "eth_getLogs",
        params: [{ address: [addresses.registry, addresses.ledger], fromBlock: `0x${history.deployBlock.toString(16)}`, toBlock: "latest" }],
      })) as Parameters<ConcordLogDecoder["decode"]>[0][];
      expect(raw.length).to.be.greaterThan(50);
      for (const log of raw) expect(fast.decode(log)).to.deep.equal(reference.decode(log));
      // Strict: a word out of its type's range is an error on the fast path too.
      const settled = raw.find((l) => fast.decode(l).eventName === "Settled")!;
      const badVersion = { ...settled, data: (`0x${"f".repeat(64)}${settled.data.slice(66)}`) as `0x${string}` };
      expect(() => fast.decode(badVersion)).to.throw(/does not decode as Settled/);
      expect(() => reference.decode(badVersion)).to.throw(/does not decode as Settled/);
    });

    it("throws on a log it cannot decode instead of dropping it", async function () {
      const { history, client } = await loadFixture(richHistoryFixture);
      // Present the token as the ledger: its Transfer/Approval logs come from a "Concord" address.
      const run = async () => {
        for await (const _batch of fetchConcordLogs(client, {
          addresses: { registry: history.addresses.registry, ledger: history.addresses.token },
          fromBlock: history.deployBlock,
        })) {
          // consume
        }
      };
      let error: unknown;
      try {
        await run();
      } catch (e) {
        error = e;
      }
      expect((error as Error | undefined)?.name).to.equal("UndecodableLogError");
      expect((error as Error).message).to.match(/unknown topic0 0xddf252ad/);
    });
  });

  describe("rebuilt state", function () {
    it("rebuilds every balance, pool, released amount and reserve of a rich history with no violation", async function () {
      const fixture = await loadFixture(richHistoryFixture);
      const { history } = fixture;
      const { state } = await replayAll(fixture);
      expect(state.violations).to.deep.equal([]);
      const { ledger } = history;
      expect(state.balances.size).to.be.greaterThan(6);
      for (const entry of state.balances.values()) {
        expect(await ledger.balanceOf(entry.account, entry.token), `${entry.account} in ${entry.token}`).to.equal(entry.amount);
      }
      // Accounts that never appear hold nothing on chain either.
      for (const who of Object.values(history.people)) {
        for (const token of [ETH, history.addresses.token]) {
          expect(await ledger.balanceOf(who, token)).to.equal(state.balanceOf(who as Address, token as Address));
        }
      }
      expect(state.pools.size).to.be.greaterThan(5);
      for (const pool of state.pools.values()) {
        const onChain = await ledger.pool(pool.agreementId, pool.version, pool.token);
        expect(onChain.distributable).to.equal(pool.distributable);
        expect(onChain.dust).to.equal(pool.dust);
        for (let i = 0; i < pool.released.length; i += 1) {
          expect(await ledger.released(pool.agreementId, pool.version, pool.token, i)).to.equal(pool.released[i]);
        }
      }
      // Holdings per token: what the ledger actually holds.
      expect(state.totalsOf(ETH as Address).holdings).to.equal(await ethers.provider.getBalance(history.addresses.ledger));
      expect(state.totalsOf(history.addresses.token).holdings).to.equal(await history.token.balanceOf(history.addresses.ledger));
      // The amendment and the nesting are in the rebuilt agreements.
      const a = state.agreements.get(history.ids.a)!;
      expect(a.activeVersion).to.equal(2);
      expect(a.versions.get(2)!.terms.reserveBps).to.equal(2_000);
      expect(state.pool(history.ids.b, 1, ETH as Address)!.provenance.recent.some((e) => e.eventName === "NestedShareReceived")).to.equal(true);
      const refunded = state.settlements.get(ethers.id("concord:audit:a1-eth-2") as `0x${string}`)!;
      expect(refunded.closed).to.equal(true);
      expect(refunded.reserve).to.equal(0n);
      expect(refunded.refunded).to.equal(33_333_333n);
    });

    it("reports a law broken by a forged event, with the event that broke it", async function () {
      const fixture = await loadFixture(richHistoryFixture);
      const { seen } = await replayAll(fixture);
      const state = new ReplayState();
      const forgedAt = seen.findIndex((l) => l.eventName === "Settled");
      for (let i = 0; i < seen.length; i += 1) {
        const log = seen[i]!;
        if (i === forgedAt) {
          // A Settled event whose referral fee is one wei above the terms.
          state.apply({ ...log, args: { ...log.args, referralFee: (log.args.referralFee as bigint) + 1n } });
        } else {
          state.apply(log);
        }
      }
      const first = state.violations[0]!;
      expect(first.law).to.equal("single-attribution");
      expect(first.event.blockNumber).to.equal(seen[forgedAt]!.blockNumber);
      expect(first.event.logIndex).to.equal(seen[forgedAt]!.logIndex);
      expect(first.message).to.match(/referral fee \d+, the terms give \d+/);
    });

    it("reports a negative balance from a forged withdrawal", async function () {
      const fixture = await loadFixture(richHistoryFixture);
      const { seen } = await replayAll(fixture);
      const state = new ReplayState();
      for (const log of seen) {
        const forged = log.eventName === "Withdrawn" ? { ...log, args: { ...log.args, amount: (log.args.amount as bigint) * 10n } } : log;
        state.apply(forged);
      }
      const negative = state.violations.find((v) => v.law === "no-negative-balance")!;
      expect(negative.account).to.equal(seen.find((l) => l.eventName === "Withdrawn")!.args.account);
      expect(negative.event.eventName).to.equal("Withdrawn");
    });

    it("rebuilds the same state when events spell the same addresses in other letter cases", async function () {
      const fixture = await loadFixture(richHistoryFixture);
      const { state, seen } = await replayAll(fixture);
      // Every other event names its accounts and tokens in lower case, every third in upper case.
      const respell = (args: Readonly<Record<string, unknown>>, i: number) =>
        Object.fromEntries(
          Object.entries(args).map(([k, v]) => [k, typeof v === "string" && /^0x[0-9a-fA-F]{40}$/.test(v) ? (i % 3 === 0 ? `0x${v.slice(2).toUpperCase()}` : i % 2 === 0 ? v.toLowerCase() : v) : v]),
        );
      const mixed = new ReplayState();
      seen.forEach((log, i) => mixed.apply({ ...log, args: respell(log.args, i) }));
      mixed.finish();
      expect(mixed.violations).to.deep.equal([]);
      const amounts = (s: ReplayState) => [...s.balances].map(([key, b]) => [key, b.amount, b.provenance.count]);
      expect(amounts(mixed)).to.deep.equal(amounts(state));
      const pools = (s: ReplayState) => [...s.pools].map(([key, p]) => [key, p.distributable, p.dust, p.released, p.provenance.count]);
      expect(pools(mixed)).to.deep.equal(pools(state));
      // A payer named as its own referrer in another case is still its own referrer.
      const settled = seen.find((l) => l.eventName === "Settled" && l.args.referrer !== ZERO)!;
      const selfReferred = new ReplayState();
      for (const log of seen) selfReferred.apply(log === settled ? { ...log, args: { ...log.args, referrer: (log.args.payer as string).toLowerCase() } } : log);
      expect(selfReferred.violations.map((v) => v.message)).to.include.members([`settlement ${settled.args.orderRef as string}: payer ${settled.args.payer as string} is its own referrer`]);
    });

    it("reports a replayed order reference", async function () {
      const fixture = await loadFixture(richHistoryFixture);
      const { seen } = await replayAll(fixture);
      const state = new ReplayState();
      const settled = seen.find((l) => l.eventName === "Settled")!;
      const last = seen.at(-1)!;
      for (const log of seen) state.apply(log);
      state.apply({ ...settled, blockNumber: last.blockNumber + 1n, logIndex: 0 });
      expect(state.violations.map((v) => v.law)).to.include("unique-order-reference");
    });
  });
});
