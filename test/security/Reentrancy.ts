import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  DAY,
  ETH,
  ReferrerPolicy,
  deployConcord,
  makeTerms,
  signConsents,
  type TermsInput,
} from "../helpers/concord";
import type { HookToken, ReentrantAccount, SettlementLedger } from "../../typechain-types";

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
    const terms = makeTerms(
      [
        [hotel!.address, 6_000],
        [attackerAddress, 4_000],
      ],
      { referrerPolicy: ReferrerPolicy.Open, referralFeeBps: 500, reserveBps: 1_000, disputeWindow: DAY },
    );
    await registry.propose(terms);
    const id = await registry.agreementCount();
    await attacker.execute(registry, registry.interface.encodeFunctionData("approve", [id, 1]));
    await registry.activate(id, 1, terms, await signConsents(registry, [hotel!], id, 1n, terms));
    const attackerIndex = terms.parties.findIndex((p) => p.account === attackerAddress);

    // 1,000,000 wei settled with no referrer: 100,000 reserve, 900,000 pooled; attacker 40%.
    await ledger.connect(guest!).settle(id, ETH, 1_000_000n, ETH, ethers.id("eth-1"), { value: 1_000_000n });
    await ledger.distribute(id, 1, ETH, terms);
    return {
      registry,
      ledger,
      attacker,
      attackerAddress,
      attackerIndex,
      hookToken,
      terms,
      id,
      hotel: hotel!,
      guest: guest!,
      other: other!,
    };
  }

  const guardError = (ledger: SettlementLedger) => ledger.interface.getError("ReentrancyGuardReentrantCall")!.selector;

  async function expectBlockedReentry(attacker: ReentrantAccount, ledger: SettlementLedger) {
    expect(await attacker.reentryAttempts()).to.equal(1n);
    expect(await attacker.lastReentrySucceeded()).to.equal(false);
    expect(await attacker.lastReentryError()).to.equal(guardError(ledger));
  }

  describe("ETH receive hook", function () {
    const reentries: Array<{
      name: string;
      payload: (f: Awaited<ReturnType<typeof fixture>>) => string;
    }> = [
      {
        name: "withdraw again (double spend)",
        payload: ({ ledger, attackerAddress }) =>
          ledger.interface.encodeFunctionData("withdraw", [ETH, attackerAddress, 360_000n]),
      },
      {
        name: "claim its pool share again",
        payload: ({ ledger, id, terms, attackerIndex }) =>
          ledger.interface.encodeFunctionData("claim", [id, 1, ETH, terms, attackerIndex]),
      },
      {
        name: "distribute the pool",
        payload: ({ ledger, id, terms }) => ledger.interface.encodeFunctionData("distribute", [id, 1, ETH, terms]),
      },
      {
        name: "settle a new order",
        payload: ({ ledger, id }) => ledger.interface.encodeFunctionData("settle", [id, ETH, 1n, ETH, ethers.id("re")]),
      },
      {
        name: "settle with a permit",
        payload: ({ ledger, id }) =>
          ledger.interface.encodeFunctionData("settleWithPermit", [
            id,
            "0x0000000000000000000000000000000000000001", // any token: the guard refuses before it is touched
            1n,
            ETH,
            ethers.id("re-permit"),
            0n,
            27,
            ethers.ZeroHash,
            ethers.ZeroHash,
          ]),
      },
      {
        name: "release a reserve",
        payload: ({ ledger, id, guest }) =>
          ledger.interface.encodeFunctionData("releaseReserve", [
            ethers.id("eth-1"),
            { agreementId: id, version: 1n, token: ETH, payer: guest.address, reserve: 100_000n, releaseAt: 0n },
          ]),
      },
      {
        name: "refund a reserve",
        payload: ({ ledger, id, guest }) =>
          ledger.interface.encodeFunctionData("refund", [
            ethers.id("eth-1"),
            { agreementId: id, version: 1n, token: ETH, payer: guest.address, reserve: 100_000n, releaseAt: 0n },
            1n,
          ]),
      },
      {
        name: "withdraw through multicall",
        payload: ({ ledger, attackerAddress }) =>
          ledger.interface.encodeFunctionData("multicall", [
            [ledger.interface.encodeFunctionData("withdraw", [ETH, attackerAddress, 1n])],
          ]),
      },
    ];

    for (const r of reentries) {
      it(`refuses a recipient that re-enters to ${r.name}, and pays it exactly once`, async function () {
        const f = await loadFixture(fixture);
        const { ledger, attacker, attackerAddress } = f;
        expect(await ledger.balanceOf(attackerAddress, ETH)).to.equal(360_000n);
        await attacker.arm(ledger, r.payload(f));

        const withdraw = ledger.interface.encodeFunctionData("withdraw", [ETH, attackerAddress, 360_000n]);
        await expect(attacker.execute(ledger, withdraw)).to.changeEtherBalances(
          [ledger, attacker],
          [-360_000n, 360_000n],
        );
        await expectBlockedReentry(attacker, ledger);
        expect(await ledger.balanceOf(attackerAddress, ETH)).to.equal(0n);
        // What is left is exactly the hotel's balance plus the held reserve.
        expect(await ethers.provider.getBalance(ledger)).to.equal(
          (await ledger.balanceOf(f.hotel.address, ETH)) + 100_000n,
        );
      });
    }

    it("lets a recipient that reverts block only its own withdrawal", async function () {
      const { ledger, attacker, attackerAddress, hotel, other, id, terms } = await loadFixture(fixture);
      await attacker.setRevertHooks(true);
      const toSelf = ledger.interface.encodeFunctionData("withdraw", [ETH, attackerAddress, 360_000n]);
      await expect(attacker.execute(ledger, toSelf))
        .to.be.revertedWithCustomError(ledger, "LedgerEthTransferFailed")
        .withArgs(attackerAddress, 360_000n);
      expect(await ledger.balanceOf(attackerAddress, ETH)).to.equal(360_000n);

      // Settling, distributing and the hotel's withdrawal never call the attacker.
      await ledger.connect(other).settle(id, ETH, 10_000n, ETH, ethers.id("eth-2"), { value: 10_000n });
      await expect(ledger.distribute(id, 1, ETH, terms)).to.emit(ledger, "PartyCredited");
      await expect(ledger.connect(hotel).withdraw(ETH, hotel.address, 540_000n)).to.changeEtherBalances(
        [ledger, hotel],
        [-540_000n, 540_000n],
      );
      // It can still take its money out to an address that accepts it.
      const toOther = ledger.interface.encodeFunctionData("withdraw", [ETH, other.address, 360_000n]);
      await expect(attacker.execute(ledger, toOther)).to.changeEtherBalances([ledger, other], [-360_000n, 360_000n]);
    });

    it("refunds a hostile payer without calling it (refunds credit a balance)", async function () {
      const { registry, ledger, attacker, attackerAddress, hotel, guest } = await loadFixture(fixture);
      const terms: TermsInput = makeTerms([[hotel.address, 10_000]], {
        referrerPolicy: ReferrerPolicy.None,
        referralFeeBps: 0,
        reserveBps: 5_000,
        disputeWindow: DAY,
        refundAuthority: guest.address,
      });
      await registry.propose(terms);
      const id = await registry.agreementCount();
      await registry.activate(id, 1, terms, await signConsents(registry, [hotel], id, 1n, terms));
      await attacker.setRevertHooks(true);
      const settle = ledger.interface.encodeFunctionData("settle", [id, ETH, 2_000n, ETH, ethers.id("hostile")]);
      await attacker.execute(ledger, settle, { value: 2_000n });
      const record = {
        agreementId: id,
        version: 1n,
        token: ETH,
        payer: attackerAddress,
        reserve: 1_000n,
        releaseAt: BigInt(await time.latest()) + BigInt(DAY),
      };
      await expect(ledger.connect(guest).refund(ethers.id("hostile"), record, 1_000n))
        .to.emit(ledger, "ReserveRefunded")
        .withArgs(ethers.id("hostile"), id, 1n, ETH, attackerAddress, 1_000n, 0n);
      // Its 360,000 from the first agreement plus the refund.
      expect(await ledger.balanceOf(attackerAddress, ETH)).to.equal(361_000n);
    });
  });

  describe("ERC-777-style token hooks", function () {
    async function hookFixture() {
      const f = await loadFixture(fixture);
      const { ledger, attacker, hookToken, attackerAddress, guest, id, terms } = f;
      await attacker.execute(hookToken, hookToken.interface.encodeFunctionData("registerHooks"));
      await hookToken.mint(guest.address, 10n ** 18n);
      await hookToken.connect(guest).approve(ledger, ethers.MaxUint256);
      await ledger.connect(guest).settle(id, hookToken, 1_000_000n, ETH, ethers.id("hook-1"));
      await ledger.distribute(id, 1, hookToken, terms);
      expect(await ledger.balanceOf(attackerAddress, hookToken)).to.equal(360_000n);
      return f;
    }

    async function expectTokenConservation(ledger: SettlementLedger, token: HookToken, accounts: string[], held: bigint) {
      let balances = 0n;
      for (const a of accounts) balances += await ledger.balanceOf(a, token);
      expect(await token.balanceOf(ledger)).to.equal(balances + held);
    }

    it("refuses re-entry from tokensReceived during a withdrawal, and pays exactly once", async function () {
      const { ledger, attacker, attackerAddress, hookToken, hotel } = await loadFixture(hookFixture);
      await attacker.arm(ledger, ledger.interface.encodeFunctionData("withdraw", [await hookToken.getAddress(), attackerAddress, 360_000n]));
      const withdraw = ledger.interface.encodeFunctionData("withdraw", [await hookToken.getAddress(), attackerAddress, 360_000n]);
      await expect(attacker.execute(ledger, withdraw)).to.changeTokenBalances(
        hookToken,
        [ledger, attacker],
        [-360_000n, 360_000n],
      );
      await expectBlockedReentry(attacker, ledger);
      await expectTokenConservation(ledger, hookToken, [attackerAddress, hotel.address], 100_000n);
    });

    it("refuses re-entry from tokensToSend while the ledger collects a payment", async function () {
      const { ledger, attacker, attackerAddress, hookToken, hotel, id } = await loadFixture(hookFixture);
      const tokenAddress = await hookToken.getAddress();
      await hookToken.mint(attackerAddress, 50_000n);
      await attacker.execute(hookToken, hookToken.interface.encodeFunctionData("approve", [await ledger.getAddress(), 50_000n]));
      // Mid-settlement, the payer's hook tries to take its balance out before the payment lands.
      await attacker.arm(ledger, ledger.interface.encodeFunctionData("withdraw", [tokenAddress, attackerAddress, 360_000n]));
      const settle = ledger.interface.encodeFunctionData("settle", [id, tokenAddress, 50_000n, ETH, ethers.id("hook-2")]);
      await expect(attacker.execute(ledger, settle)).to.changeTokenBalances(hookToken, [ledger, attacker], [50_000n, -50_000n]);
      await expectBlockedReentry(attacker, ledger);
      // The attacker's balance is untouched; the new reserve (5,000) is held.
      expect(await ledger.balanceOf(attackerAddress, hookToken)).to.equal(360_000n);
      await expectTokenConservation(ledger, hookToken, [attackerAddress, hotel.address], 105_000n + 45_000n);
    });

    it("lets a token hook that reverts block only transfers to or from that account", async function () {
      const { ledger, attacker, attackerAddress, hookToken, hotel, other } = await loadFixture(hookFixture);
      await attacker.setRevertHooks(true);
      const withdraw = ledger.interface.encodeFunctionData("withdraw", [await hookToken.getAddress(), attackerAddress, 1n]);
      await expect(attacker.execute(ledger, withdraw)).to.be.revertedWithCustomError(attacker, "ReentrantAccountHookRefused");
      await expect(ledger.connect(hotel).withdraw(hookToken, hotel.address, 540_000n)).to.changeTokenBalances(
        hookToken,
        [ledger, hotel],
        [-540_000n, 540_000n],
      );
      const toOther = ledger.interface.encodeFunctionData("withdraw", [await hookToken.getAddress(), other.address, 360_000n]);
      await expect(attacker.execute(ledger, toOther)).to.changeTokenBalances(hookToken, [ledger, other], [-360_000n, 360_000n]);
    });
  });
});
