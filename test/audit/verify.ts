import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { createPublicClient, custom, type Address, type PublicClient } from "viem";
import { heldAReserve, report, reportToCsv, reportToJson, statementRows, verify } from "../../src/audit";
import { AuditStore } from "../../src/audit/store";
import { createConcordContext, getBalance, hardhatTransport } from "../../src/sdk";
import { ETH } from "../helpers/concord";
import { buildRichHistory } from "./history";

const increaseTime = async (s: number) => void (await time.increase(s));

describe("audit verify and report", function () {
  async function richHistoryFixture() {
    const history = await buildRichHistory(await ethers.getSigners(), { increaseTime });
    return { history, client: createPublicClient({ transport: custom(hre.network.provider) }) };
  }

  async function faultyHistoryFixture() {
    const history = await buildRichHistory(await ethers.getSigners(), { increaseTime }, { ledgerName: "FaultyLedger" });
    return { history, client: createPublicClient({ transport: custom(hre.network.provider) }) };
  }

  describe("verify", function () {
    it("matches the chain everywhere after a rich history", async function () {
      const { history, client } = await loadFixture(richHistoryFixture);
      const result = await verify({ client, ledger: history.addresses.ledger, fromBlock: history.deployBlock, dataDir: null });
      expect(result.violations).to.deep.equal([]);
      expect(result.differences).to.deep.equal([]);
      expect(result.ok).to.equal(true);
      expect(result.reconcile.mode).to.equal("multicall");
      expect(result.reconcile.blockNumber).to.equal(BigInt(await ethers.provider.getBlockNumber()));
      const { checked } = result.reconcile;
      expect(checked.balances).to.be.greaterThan(10);
      // Every settlement that held a reserve (by default); with "all", every order reference.
      const settlements = [...result.sync.state.settlements.values()];
      expect(checked.reserves).to.equal(settlements.filter(heldAReserve).length);
      expect(result.reconcile.orderReferences).to.equal("reserves");
      const all = await verify({ client, ledger: history.addresses.ledger, fromBlock: history.deployBlock, dataDir: null, orderReferences: "all" });
      expect([all.ok, all.reconcile.checked.reserves]).to.deep.equal([true, 10]);
      expect(checked.pools).to.be.greaterThan(5);
      expect(checked.holdings).to.equal(2); // ETH and the token
      expect(result.sync.newEvents).to.equal(result.sync.newRawLogs);
      // Through the SDK's in-process transport (log answers kept as text, storage words in engine
      // batches): the same checks and the same result.
      const engine = await verify({ client: createPublicClient({ transport: hardhatTransport(hre.network.provider) }), ledger: history.addresses.ledger, fromBlock: history.deployBlock, dataDir: null });
      expect(result.reconcile.storage.via).to.equal("slot reader");
      expect(engine.reconcile.storage).to.include({ balances: "slots", reserves: "slots", via: "engine batches" });
      expect([engine.ok, engine.reconcile.checked, engine.sync.newEvents]).to.deep.equal([true, checked, result.sync.newEvents]);
    });

    it("names the account a faulty ledger over-credits by one wei", async function () {
      const { history, client } = await loadFixture(faultyHistoryFixture);
      const result = await verify({ client, ledger: history.addresses.ledger, fromBlock: history.deployBlock, dataDir: null });
      expect(result.ok).to.equal(false);
      const referrer = history.people.travelSite;
      // The referrer withdrew its whole on-chain token balance, two wei more than the events ever
      // credited: replaying the events alone already shows a negative balance at that withdrawal.
      expect(result.violations.map((v) => [v.law, v.account, v.token, v.event.eventName])).to.deep.equal([
        ["no-negative-balance", referrer, history.addresses.token, "Withdrawn"],
      ]);
      // Every balance difference is a referrer's, one wei per fee-paying settlement in that token:
      // travelSite had 3 ETH and 2 token referrals, guest 1 token referral.
      const balanceDiffs = result.differences
        .filter((d) => d.kind === "balance")
        .map((d) => [d.account, d.token, (d.actual as bigint) - (d.expected as bigint)]);
      expect(balanceDiffs).to.have.deep.members([
        [referrer, ETH, 3n],
        [referrer, history.addresses.token, 2n],
        [history.people.guest, history.addresses.token, 1n],
      ]);
      const eth = result.differences.find((d) => d.kind === "balance" && d.account === referrer && d.token === ETH)!;
      expect(eth.message).to.contain(referrer);
      expect(eth.events.some((e) => e.eventName === "Settled")).to.equal(true);
      // And the ledger holds less ETH than it owes: the extra wei exist only in its books.
      expect(result.differences.some((d) => d.kind === "holdings")).to.equal(false);
      // The same through the SDK's in-process transport.
      const engine = await verify({ client: createPublicClient({ transport: hardhatTransport(hre.network.provider) }), ledger: history.addresses.ledger, fromBlock: history.deployBlock, dataDir: null });
      expect(engine.reconcile.storage.via).to.equal("engine batches");
      expect(engine.differences).to.deep.equal(result.differences);
      expect(engine.violations).to.deep.equal(result.violations);
    });
    it("keeps no store for dataDir null, and finds exactly what a run into a store finds", async function () {
      const { history, client } = await loadFixture(faultyHistoryFixture);
      const parameters = { client, ledger: history.addresses.ledger, fromBlock: history.deployBlock };
      const store = await AuditStore.open();
      let opened = 0;
      const open = AuditStore.open.bind(AuditStore);
      AuditStore.open = (dataDir?: string) => {
        opened += 1;
        return open(dataDir);
      };
      let stored: Awaited<ReturnType<typeof verify>>;
      let storeless: Awaited<ReturnType<typeof verify>>;
      try {
        stored = await verify({ ...parameters, store });
        storeless = await verify({ ...parameters, dataDir: null });
        expect(await store.eventCount()).to.equal(stored.sync.newEvents);
      } finally {
        AuditStore.open = open;
        await store.close();
      }
      expect(opened).to.equal(0);
      expect(storeless.sync.dataDir).to.equal(undefined);
      const outcome = (r: Awaited<ReturnType<typeof verify>>) => ({
        ok: r.ok,
        toBlock: r.sync.toBlock,
        events: r.sync.newEvents,
        checked: r.reconcile.checked,
        violations: r.violations.map((v) => [v.law, v.account, v.token, v.event.blockNumber, v.event.logIndex]),
        differences: r.differences.map((d) => [d.kind, d.account, d.token, d.expected, d.actual, d.eventCount]),
      });
      expect(outcome(storeless)).to.deep.equal(outcome(stored));
      expect(outcome(storeless).ok).to.equal(false); // the faulty ledger: there is something to find
      expect(outcome(storeless).differences.length).to.be.greaterThan(0);
    });
  });

  describe("report", function () {
    it("states each partner's referral fees, earnings, reserves, refunds and withdrawals", async function () {
      const { history, client } = await loadFixture(richHistoryFixture);
      const ledger = history.ledger;
      const result = await report({ client, ledger: history.addresses.ledger, fromBlock: history.deployBlock, dataDir: null });
      const find = (partner: string) => result.partners.find((p) => p.partner === partner)!;
      // Referral fees: exactly the Settled events' fees to travelSite, per token.
      const settled = await ledger.queryFilter(ledger.filters.Settled());
      for (const token of [ETH, history.addresses.token]) {
        const fees = settled.filter((e) => e.args.referrer === history.people.travelSite && e.args.token === token).reduce((s, e) => s + e.args.referralFee, 0n);
        expect(find(history.people.travelSite).tokens.get(token as Address)!.referralFees).to.equal(fees);
      }
      // Earned + refunds received - withdrawn = the balance on chain, for every partner and token.
      for (const p of result.partners) {
        for (const [token, t] of p.tokens) {
          const earned = [...t.earnedByAgreement.values()].reduce((s, x) => s + x, 0n);
          expect(earned + t.referralFees + t.refundsReceived - t.withdrawn, `${p.partner} ${token}`).to.equal(await ledger.balanceOf(p.partner, token));
        }
      }
      // Still to claim: exactly what the ledger lets each partner claim from pools, per token.
      const context = await createConcordContext({ publicClient: client as PublicClient, addresses: { registry: history.addresses.registry, ledger: history.addresses.ledger } });
      let owedSomewhere = 0n;
      for (const p of result.partners) {
        for (const [token, t] of p.tokens) {
          const toClaim = [...t.toClaimByAgreement.values()].reduce((s, x) => s + x, 0n);
          expect(toClaim, `${p.partner} ${token}`).to.equal((await getBalance(context, { account: p.partner, token })).claimable);
          owedSomewhere += toClaim;
        }
      }
      expect(owedSomewhere).to.be.greaterThan(0n);
      // The guest2 payer got its ETH reserve refunded in full and withdrew everything.
      const guest2 = find(history.people.guest2).tokens.get(ETH as Address)!;
      expect(guest2.refundsReceived).to.equal(33_333_333n);
      expect(guest2.withdrawn).to.equal(33_333_333n);
      // Hotel earned under A and C (and nothing is held: every reserve was released).
      const hotel = find(history.people.hotel).tokens.get(ETH as Address)!;
      expect([...hotel.earnedByAgreement.keys()].sort()).to.deep.equal([history.ids.a, history.ids.c]);
      // Only c-eth-2 (10,001 wei under C, 5% reserve = 500) is still held; the hotel's 70% of it.
      expect(hotel.reservesHeld).to.equal(350n);
      expect(hotel.reservesReleased).to.be.greaterThan(0n);
      expect(hotel.refundsIssued).to.be.greaterThan(0n);
      // Outputs: rows, JSON with decimal strings, CSV.
      const rows = statementRows(result);
      expect(rows.length).to.be.greaterThan(10);
      const json = JSON.parse(reportToJson(result)) as { partners: { partner: string; tokens: { referralFees: string }[] }[] };
      expect(typeof json.partners[0]!.tokens[0]!.referralFees).to.equal("string");
      const csv = reportToCsv(result).trim().split("\n");
      expect(csv[0]).to.equal("partner,token,item,agreement,amount");
      expect(csv.length).to.equal(rows.length + 1);
    });

    it("limits a statement to a block period", async function () {
      const { history, client } = await loadFixture(richHistoryFixture);
      const head = BigInt(await ethers.provider.getBlockNumber());
      // The last three blocks hold the three withdrawals only.
      const result = await report({ client, ledger: history.addresses.ledger, fromBlock: history.deployBlock, dataDir: null, period: { fromBlock: head - 2n } });
      const rows = statementRows(result);
      const flows = rows.filter((r) => r.item !== "reserves-held" && r.item !== "to-claim"); // end-of-period snapshots
      expect(flows.map((r) => r.item)).to.deep.equal(["withdrawn", "withdrawn", "withdrawn"]);
      expect(rows.filter((r) => r.item === "reserves-held").map((r) => [r.partner, r.amount])).to.deep.equal([[history.people.hotel, 350n]]);
    });
  });
});
