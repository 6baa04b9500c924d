import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { numberToHex, type Address, type Hex } from "viem";
import { fetchConcordLogs, reconcile, report, reportToCsv, reportToJson, ReplayState, lotIdOf, statementRows, verify, type ConcordLog } from "../../src/audit";
import { balanceSlot, lotSlot, poolSlot } from "../../src/audit/reads";
import { AuditStore } from "../../src/audit/store";
import { claimCredit } from "../../src/sdk/split";
import { settlementLedgerAbi } from "../../src/sdk/abi";
import { inProcessChain } from "./env";
import { buildRichHistory, ETH } from "./history";

describe("audit verify and report", function () {
  async function richHistoryFixture() {
    const history = await buildRichHistory(await inProcessChain());
    const { chain } = history;
    return { history, chain, parameters: { client: chain.publicClient, ledger: chain.addresses.ledger, fromBlock: chain.deployBlock, dataDir: null } as const };
  }
  const balanceOf = (f: Awaited<ReturnType<typeof richHistoryFixture>>, account: Address, token: Address) =>
    f.chain.publicClient.readContract({ address: f.chain.addresses.ledger, abi: settlementLedgerAbi, functionName: "balanceOf", args: [account, token] });

  describe("verify", function () {
    it("matches the chain everywhere after a rich history", async function () {
      const f = await loadFixture(richHistoryFixture);
      const result = await verify(f.parameters);
      expect(result.violations).to.deep.equal([]);
      expect(result.differences).to.deep.equal([]);
      expect(result.ok).to.equal(true);
      expect(result.reconcile.blockNumber).to.equal(await f.chain.publicClient.getBlockNumber());
      const { checked } = result.reconcile;
      const state = result.sync.state;
      expect(checked.balances).to.equal(state.accounts.size * 2); // every account named, in ETH and the token
      expect(checked.pools).to.equal(state.pools.size);
      expect(checked.lots).to.equal(state.lots.size);
      expect(checked.risk).to.equal(state.risk.size);
      expect([checked.orderBitmaps, checked.holdings]).to.deep.equal([0, 2]);
      const all = await verify({ ...f.parameters, orderReferences: "all" });
      expect(all.ok).to.equal(true);
      expect(all.reconcile.checked.orderBitmaps).to.equal([...state.orderBitmaps.values()].reduce((n, words) => n + words.size, 0));
    });

    it("names the account whose balance word was raised by one wei (not ok: the CLI exits 4)", async function () {
      const f = await loadFixture(richHistoryFixture);
      const hotel = f.history.people.hotel;
      const token = ETH;
      const before = await balanceOf(f, hotel, token);
      // The word holds balance + 1 once credited: raise it by one.
      await f.chain.setStorageAt(f.chain.addresses.ledger, balanceSlot(hotel, token), numberToHex(before + 2n, { size: 32 }));
      expect(await balanceOf(f, hotel, token)).to.equal(before + 1n);
      const result = await verify(f.parameters);
      expect(result.ok).to.equal(false);
      expect(result.violations).to.deep.equal([]);
      const balance = result.differences.filter((d) => d.kind === "balance");
      expect(balance.map((d) => [d.account, d.token, d.expected, d.actual])).to.deep.equal([[hotel, token, before, before + 1n]]);
      expect(balance[0]!.message).to.equal(`balance of ${hotel} in ${token}: rebuilt ${before}, chain ${before + 1n}`);
      expect(balance[0]!.events.map((e) => e.eventName)).to.include("Distributed");
      // The ledger does not hold that extra wei: the holdings still match.
      expect(result.differences.map((d) => d.kind)).to.deep.equal(["balance"]);
    });

    it("names a pool, a lot and a paidUpTo whose words differ from the events", async function () {
      const f = await loadFixture(richHistoryFixture);
      const { ids, terms } = f.history;
      const ledger = f.chain.addresses.ledger;
      const state = (await verify(f.parameters)).sync.state;
      const pool = state.pool(ids.c, 1, ETH)!;
      const lot = [...state.lots.values()].find((l) => l.open)!;
      await f.chain.setStorageAt(ledger, poolSlot(ids.c, 1, ETH), numberToHex(((pool.held + 1n) << 128n) | pool.total, { size: 32 }));
      await f.chain.setStorageAt(ledger, lotSlot(lot.lotId), numberToHex(1n, { size: 32 }));
      const result = await verify(f.parameters);
      expect(result.differences.map((d) => [d.kind, d.agreementId, d.version])).to.deep.equal([
        ["pool-held", ids.c, 1],
        ["lot", ids.c, 1],
      ]);
      expect(result.differences[0]!.message).to.equal(`pool of agreement ${ids.c} version 1 in ${ETH}: held: rebuilt ${pool.held}, chain ${pool.held + 1n}`);
      expect(result.differences[1]!.lotId).to.equal(lot.lotId);
      expect(result.differences[1]!.actual).to.equal(numberToHex(1n, { size: 32 }));
      expect(terms.c.parties.length).to.equal(2);
    });

    it("names an open lot whose settlements, as the events give them, do not chain to the stored hash", async function () {
      const f = await loadFixture(richHistoryFixture);
      const { publicClient, addresses, deployBlock } = f.chain;
      const logs: ConcordLog[] = [];
      for await (const batch of fetchConcordLogs(publicClient, { addresses, fromBlock: deployBlock })) logs.push(...batch.logs);
      // The last settlement holds its reserve to the end: name another refund beneficiary in its event.
      const last = logs.findLast((l) => l.eventName === "Settled")!;
      const state = new ReplayState();
      state.applyBatch(logs.map((l) => (l === last ? { ...l, args: { ...l.args, refundBeneficiary: f.history.people.chef } } : l)));
      state.finish();
      expect(state.violations).to.deep.equal([]); // the events alone are consistent
      const result = await reconcile(publicClient, state, { ledger: addresses.ledger, blockNumber: await publicClient.getBlockNumber() });
      // A direct payment, settled alone: its lot is named after it in the payer's scope.
      const lotId = lotIdOf({ scope: last.args.payer as Address, orderRef: last.args.orderRef as Hex });
      expect(result.differences.map((d) => [d.kind, d.lotId])).to.deep.equal([["lot", lotId]]);
    });

    it("keeps no store for dataDir null, and finds exactly what a run into a store finds", async function () {
      const f = await loadFixture(richHistoryFixture);
      const store = await AuditStore.open();
      try {
        const stored = await verify({ ...f.parameters, dataDir: undefined, store });
        const storeless = await verify(f.parameters);
        expect(await store.eventCount()).to.equal(stored.sync.newEvents);
        expect(storeless.sync.dataDir).to.equal(undefined);
        const outcome = (r: typeof stored) => ({ ok: r.ok, toBlock: r.sync.toBlock, events: r.sync.newEvents, checked: r.reconcile.checked, differences: r.differences.length });
        expect(outcome(storeless)).to.deep.equal(outcome(stored));
        // A second run resumes from the store and replays the same state from it.
        const again = await verify({ ...f.parameters, dataDir: undefined, store });
        expect([again.ok, again.sync.storedEvents, again.sync.newEvents]).to.deep.equal([true, stored.sync.newEvents, 0]);
      } finally {
        await store.close();
      }
    });
  });

  describe("report", function () {
    it("states each partner's referral fees, earnings, reserves, refunds and withdrawals", async function () {
      const f = await loadFixture(richHistoryFixture);
      const { people, ids } = f.history;
      const result = await report(f.parameters);
      const find = (partner: string) => result.partners.find((p) => p.partner === partner)!;
      // Earned + referral fees + refunds received - withdrawn = the balance on chain, for every partner and token.
      for (const p of result.partners) {
        for (const [token, t] of p.tokens) {
          const earned = [...t.earnedByAgreement.values()].reduce((s, x) => s + x, 0n);
          expect(earned + t.referralFees + t.refundsReceived - t.withdrawn, `${p.partner} ${token}`).to.equal(await balanceOf(f, p.partner, token));
        }
      }
      // Still to claim: what the claim rule gives each account party from the pools on chain.
      const synced = result.synced!.state;
      const owed = new Map<string, bigint>();
      for (const pool of synced.pools.values()) {
        const v = synced.termsOf(pool.agreementId, pool.version)!;
        const onChain = await f.chain.publicClient.readContract({ address: f.chain.addresses.ledger, abi: settlementLedgerAbi, functionName: "pool", args: [pool.agreementId, pool.version, pool.token] });
        for (const [i, party] of v.terms.parties.entries()) {
          if (party.agreementId !== 0n) continue;
          const paidUpTo = await f.chain.publicClient.readContract({ address: f.chain.addresses.ledger, abi: settlementLedgerAbi, functionName: "paidUpTo", args: [pool.agreementId, pool.version, pool.token, BigInt(i)] });
          const key = `${party.account} ${pool.token} ${pool.agreementId}`;
          owed.set(key, (owed.get(key) ?? 0n) + claimCredit(onChain, v.unit!, party.shareBps, paidUpTo).amount);
        }
      }
      expect([...owed.values()].some((x) => x > 0n)).to.equal(true);
      for (const [key, amount] of owed) {
        const [account, token, id] = key.split(" ") as [Address, Address, string];
        expect(find(account)?.tokens.get(token)?.toClaimByAgreement.get(BigInt(id)) ?? 0n, key).to.equal(amount);
      }
      const travel = find(people.travelSite).tokens.get(ETH)!;
      expect(travel.referralFees).to.be.greaterThan(0n);
      // The guest received the refunds of the payment it was named beneficiary of, and withdrew them.
      const guest = find(people.guest).tokens.get(ETH)!;
      expect(guest.refundsReceived).to.equal(33_333_333n + 1n);
      expect(guest.withdrawn).to.equal(guest.refundsReceived);
      const hotel = find(people.hotel).tokens.get(ETH)!;
      expect([...hotel.earnedByAgreement.keys()].sort()).to.include.members([ids.a, ids.c, ids.d]);
      // c-eth-2 and c-eth-3 (10,001 wei each under C, 5% reserve = 500) are still held; the hotel's 70%.
      expect(hotel.reservesHeld).to.equal(2n * 350n);
      expect(hotel.reservesReleased).to.be.greaterThan(0n);
      expect(hotel.refundsIssued).to.be.greaterThan(0n);
      const rows = statementRows(result);
      expect(rows.length).to.be.greaterThan(10);
      const json = JSON.parse(reportToJson(result)) as { partners: { tokens: { referralFees: string }[] }[] };
      expect(typeof json.partners[0]!.tokens[0]!.referralFees).to.equal("string");
      const csv = reportToCsv(result).trim().split("\n");
      expect(csv[0]).to.equal("partner,token,item,agreement,amount");
      expect(csv.length).to.equal(rows.length + 1);
    });

    it("limits a statement to a block period", async function () {
      const f = await loadFixture(richHistoryFixture);
      const head = await f.chain.publicClient.getBlockNumber();
      // The last three blocks hold the three withdrawals.
      const result = await report({ ...f.parameters, period: { fromBlock: head - 2n } });
      const flows = statementRows(result).filter((r) => r.item !== "reserves-held" && r.item !== "to-claim");
      expect(flows.map((r) => r.item)).to.deep.equal(["withdrawn", "withdrawn", "withdrawn"]);
    });
  });
});
