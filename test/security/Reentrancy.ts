import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { DAY, ETH, activateWithSignatures, deployConcord, makePayment, makeTerms, signConsents } from "../helpers/concord";
import { expectConservation, lotsOf, proofOf, packedOf } from "../helpers/ledger";
import type { ReentrantAccount, SettlementLedger } from "../../typechain-types";

/**
 * Law 7 (pull safety) under attack: a party, payer or recipient that re-enters the ledger from an
 * ETH receive hook or an ERC-777-style token hook, or that reverts, can neither drain nor block
 * anyone else. Every re-entry must fail on the guard, and every figure stays exact.
 */
describe("Security: reentrancy and hostile recipients", function () {
  async function fixture() {
    const [, hotel, guest, other] = await ethers.getSigners();
    const { registry, ledger } = await deployConcord();
    const attacker = await ethers.deployContract("ReentrantAccount");
    const attackerAddress = await attacker.getAddress();
    const hookToken = await ethers.deployContract("HookToken");
    const terms = makeTerms([[hotel!.address, 6_000], [attackerAddress, 4_000]], { reserveBps: 1_000, disputeWindow: DAY });
    await registry.propose(terms);
    const id = await registry.agreementCount();
    await attacker.execute(registry, registry.interface.encodeFunctionData("approve", [id, 1, (await time.latest()) + DAY]));
    await registry.activate(id, 1, terms, [], await signConsents(registry, [hotel!], id, 1n, terms));
    const attackerIndex = terms.parties.findIndex((p) => p.account === attackerAddress);

    // 1,000,000 wei settled: 100,000 reserved, 900,000 pooled (unit 5); the attacker's 40% is 360,000.
    const payment = await makePayment({ agreementId: id, gross: 1_000_000n });
    const [record] = await lotsOf(ledger, await ledger.connect(guest!).settle(payment, "0x", { value: 1_000_000n }));
    await ledger.distribute(id, 1, ETH, packedOf(terms.parties));
    return { registry, ledger, attacker, attackerAddress, attackerIndex, hookToken, terms, id, record: record!, payment, hotel: hotel!, guest: guest!, other: other! };
  }
  type Fixture = Awaited<ReturnType<typeof fixture>>;

  const guardError = (ledger: SettlementLedger) => ledger.interface.getError("ReentrancyGuardReentrantCall")!.selector;

  async function expectBlockedReentry(attacker: ReentrantAccount, ledger: SettlementLedger) {
    expect(await attacker.reentryAttempts()).to.equal(1n);
    expect(await attacker.lastReentrySucceeded()).to.equal(false);
    expect(await attacker.lastReentryError()).to.equal(guardError(ledger));
  }

  describe("ETH receive hook", function () {
    const reentries: Array<{ name: string; payload: (f: Fixture) => Promise<string> | string }> = [
      { name: "withdraw again (double spend)", payload: ({ ledger, attackerAddress }) => ledger.interface.encodeFunctionData("withdraw", [ETH, attackerAddress, 360_000n]) },
      {
        name: "claim its pool share again",
        payload: ({ ledger, id, terms, attackerIndex }) =>
          ledger.interface.encodeFunctionData("claim", [id, 1, ETH, attackerIndex, terms.parties[attackerIndex]!, proofOf(terms.parties, attackerIndex)]),
      },
      { name: "distribute the pool", payload: ({ ledger, id, terms }) => ledger.interface.encodeFunctionData("distribute", [id, 1, ETH, packedOf(terms.parties)]) },
      { name: "settle a new order", payload: async ({ ledger, id }) => ledger.interface.encodeFunctionData("settle", [await makePayment({ agreementId: id, gross: 1n }), "0x"]) },
      {
        name: "settle a batch",
        payload: async ({ ledger, id }) => ledger.interface.encodeFunctionData("settleBatch", [[await makePayment({ agreementId: id, gross: 1n })], []]),
      },
      {
        name: "settle with a permit",
        payload: async ({ ledger, id }) =>
          ledger.interface.encodeFunctionData("settleWithPermit", [
            // Any token: the guard refuses before it is touched.
            await makePayment({ agreementId: id, gross: 1n, token: "0x0000000000000000000000000000000000000001" }),
            "0x",
            0n,
            27,
            ethers.ZeroHash,
            ethers.ZeroHash,
          ]),
      },
      { name: "release a reserve", payload: ({ ledger, record }) => ledger.interface.encodeFunctionData("releaseReserve", [record.lotId, record.lot]) },
      { name: "refund a reserve", payload: ({ ledger, record }) => ledger.interface.encodeFunctionData("refund", [record.lotId, record.lot, record.entries, 0, 1n]) },
      {
        name: "sweep a remainder",
        payload: ({ ledger, id, terms }) => ledger.interface.encodeFunctionData("sweepRemainder", [id, 1, ETH, terms.parties[0]!, proofOf(terms.parties, 0)]),
      },
    ];

    for (const r of reentries) {
      it(`refuses a recipient that re-enters to ${r.name}, and pays it exactly once`, async function () {
        const f = await loadFixture(fixture);
        const { ledger, attacker, attackerAddress } = f;
        expect(await ledger.balanceOf(attackerAddress, ETH)).to.equal(360_000n);
        await attacker.arm(ledger, await r.payload(f));
        const withdraw = ledger.interface.encodeFunctionData("withdraw", [ETH, attackerAddress, 360_000n]);
        await expect(attacker.execute(ledger, withdraw)).to.changeEtherBalances([ledger, attacker], [-360_000n, 360_000n]);
        await expectBlockedReentry(attacker, ledger);
        expect(await ledger.balanceOf(attackerAddress, ETH)).to.equal(0n);
        await expectConservation(ledger, ETH, [f.hotel.address, attackerAddress], [{ agreementId: f.id, version: 1 }]);
      });
    }

    it("lets a recipient that reverts block only its own withdrawal", async function () {
      const { ledger, attacker, attackerAddress, hotel, other, id, terms } = await loadFixture(fixture);
      await attacker.setRevertHooks(true);
      const toSelf = ledger.interface.encodeFunctionData("withdraw", [ETH, attackerAddress, 360_000n]);
      await expect(attacker.execute(ledger, toSelf)).to.be.revertedWithCustomError(ledger, "LedgerEthTransferFailed").withArgs(attackerAddress, 360_000n);
      expect(await ledger.balanceOf(attackerAddress, ETH)).to.equal(360_000n);
      // Settling, distributing and the hotel's withdrawal never call the attacker.
      await ledger.connect(other).settle(await makePayment({ agreementId: id, gross: 10_000n }), "0x", { value: 10_000n });
      await expect(ledger.distribute(id, 1, ETH, packedOf(terms.parties))).to.emit(ledger, "Distributed");
      await expect(ledger.connect(hotel).withdraw(ETH, hotel.address, 545_400n)).to.changeEtherBalances([ledger, hotel], [-545_400n, 545_400n]);
      // It can still take its money out to an address that accepts it.
      const toOther = ledger.interface.encodeFunctionData("withdraw", [ETH, other.address, 363_600n]);
      await expect(attacker.execute(ledger, toOther)).to.changeEtherBalances([ledger, other], [-363_600n, 363_600n]);
    });

    it("refunds a hostile payer without calling it (refunds credit a balance)", async function () {
      const { registry, ledger, attacker, attackerAddress, hotel, guest } = await loadFixture(fixture);
      const terms = makeTerms([[hotel.address, 10_000]], { reserveBps: 5_000, disputeWindow: DAY, refundAuthority: guest.address });
      const id = await activateWithSignatures(registry, terms, [hotel]);
      await attacker.setRevertHooks(true);
      const payment = await makePayment({ agreementId: id, gross: 2_000n });
      const settle = ledger.interface.encodeFunctionData("settle", [payment, "0x"]);
      const [record] = await lotsOf(ledger, await attacker.execute(ledger, settle, { value: 2_000n }));
      expect(record!.entries[0]!.beneficiary).to.equal(attackerAddress);
      await expect(ledger.connect(guest).refund(record!.lotId, record!.lot, record!.entries, 0, 1_000n))
        .to.emit(ledger, "ReserveRefunded")
        .withArgs(record!.lotId, payment.orderRef, attackerAddress, 0, 1_000n, 0n);
      // Its 360,000 from the first agreement plus the refund.
      expect(await ledger.balanceOf(attackerAddress, ETH)).to.equal(361_000n);
    });
  });

  describe("ERC-777-style token hooks", function () {
    async function hookFixture() {
      const f = await fixture();
      const { ledger, attacker, hookToken, attackerAddress, guest, id, terms } = f;
      await attacker.execute(hookToken, hookToken.interface.encodeFunctionData("registerHooks"));
      await hookToken.mint(guest.address, 10n ** 18n);
      await hookToken.connect(guest).approve(ledger, ethers.MaxUint256);
      const token = await hookToken.getAddress();
      await ledger.connect(guest).settle(await makePayment({ agreementId: id, gross: 1_000_000n, token }), "0x");
      await ledger.distribute(id, 1, token, packedOf(terms.parties));
      expect(await ledger.balanceOf(attackerAddress, token)).to.equal(360_000n);
      return { ...f, token };
    }

    it("refuses re-entry from tokensReceived during a withdrawal, and pays exactly once", async function () {
      const { ledger, attacker, attackerAddress, hookToken, token, hotel, id } = await loadFixture(hookFixture);
      const withdraw = ledger.interface.encodeFunctionData("withdraw", [token, attackerAddress, 360_000n]);
      await attacker.arm(ledger, withdraw);
      await expect(attacker.execute(ledger, withdraw)).to.changeTokenBalances(hookToken, [ledger, attacker], [-360_000n, 360_000n]);
      await expectBlockedReentry(attacker, ledger);
      await expectConservation(ledger, token, [attackerAddress, hotel.address], [{ agreementId: id, version: 1 }]);
    });

    it("refuses re-entry from tokensToSend while the ledger collects a payment", async function () {
      const { ledger, attacker, attackerAddress, hookToken, token, hotel, id } = await loadFixture(hookFixture);
      await hookToken.mint(attackerAddress, 50_000n);
      await attacker.execute(hookToken, hookToken.interface.encodeFunctionData("approve", [await ledger.getAddress(), 50_000n]));
      // Mid-settlement, the payer's hook tries to take its balance out before the payment lands.
      await attacker.arm(ledger, ledger.interface.encodeFunctionData("withdraw", [token, attackerAddress, 360_000n]));
      const settle = ledger.interface.encodeFunctionData("settle", [await makePayment({ agreementId: id, gross: 50_000n, token }), "0x"]);
      await expect(attacker.execute(ledger, settle)).to.changeTokenBalances(hookToken, [ledger, attacker], [50_000n, -50_000n]);
      await expectBlockedReentry(attacker, ledger);
      expect(await ledger.balanceOf(attackerAddress, token)).to.equal(360_000n);
      await expectConservation(ledger, token, [attackerAddress, hotel.address], [{ agreementId: id, version: 1 }]);
    });

    it("lets a token hook that reverts block only transfers to or from that account", async function () {
      const { ledger, attacker, attackerAddress, hookToken, token, hotel, other } = await loadFixture(hookFixture);
      await attacker.setRevertHooks(true);
      const withdraw = ledger.interface.encodeFunctionData("withdraw", [token, attackerAddress, 1n]);
      await expect(attacker.execute(ledger, withdraw)).to.be.revertedWithCustomError(attacker, "ReentrantAccountHookRefused");
      await expect(ledger.connect(hotel).withdraw(token, hotel.address, 540_000n)).to.changeTokenBalances(hookToken, [ledger, hotel], [-540_000n, 540_000n]);
      const toOther = ledger.interface.encodeFunctionData("withdraw", [token, other.address, 360_000n]);
      await expect(attacker.execute(ledger, toOther)).to.changeTokenBalances(hookToken, [ledger, other], [-360_000n, 360_000n]);
    });
  });
});
