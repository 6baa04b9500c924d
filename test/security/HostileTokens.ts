import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { ETH, activateWithSignatures, deployConcord, makePayment, makeTerms, nestedChildren, signTerminations } from "../helpers/concord";
import { proofOf, packedOf } from "../helpers/ledger";

/**
 * Tokens that misbehave: return false, return nothing, take a fee on transfer, revert on zero
 * transfers. The ledger must either account exactly or refuse before anything is recorded, and one
 * token's trouble must never touch another token's accounting.
 */
describe("Security: hostile tokens", function () {
  async function fixture() {
    const [, hotel, restaurant, guest, travelSite] = await ethers.getSigners();
    const { registry, ledger } = await deployConcord();
    const terms = makeTerms(
      [
        [hotel!.address, 7_000],
        [restaurant!.address, 3_000],
      ],
      { referrers: [travelSite!.address], referralFeeBps: 500, reserveBps: 0, disputeWindow: 0 },
    );
    const id = await activateWithSignatures(registry, terms, [hotel!, restaurant!]);
    const noReturn = await ethers.deployContract("NoReturnToken");
    const falseReturn = await ethers.deployContract("FalseReturnToken");
    const feeOnTransfer = await ethers.deployContract("FeeOnTransferToken");
    const revertOnZero = await ethers.deployContract("RevertOnZeroToken");
    for (const token of [noReturn, falseReturn, feeOnTransfer, revertOnZero]) {
      await token.mint(guest!.address, 10n ** 24n);
      await token.connect(guest!).approve(ledger, ethers.MaxUint256);
    }
    /** The guest's direct payment of `gross` in `token`, with an optional referrer. */
    const pay = async (token: string | { getAddress(): Promise<string> }, gross: bigint, referrer = ethers.ZeroAddress, value = 0n) => {
      const address = typeof token === "string" ? token : await token.getAddress();
      return ledger.connect(guest!).settle(await makePayment({ agreementId: id, gross, token: address, referrer }), "0x", { value });
    };
    return {
      registry,
      ledger,
      pay,
      terms,
      id,
      hotel: hotel!,
      restaurant: restaurant!,
      guest: guest!,
      travelSite: travelSite!,
      noReturn,
      falseReturn,
      feeOnTransfer,
      revertOnZero,
    };
  }

  for (const name of ["noReturn", "revertOnZero"] as const) {
    it(`settles, distributes and withdraws a ${name === "noReturn" ? "token that returns nothing" : "token that reverts on zero transfers"} to the wei`, async function () {
      const f = await loadFixture(fixture);
      const { registry, ledger, pay, id, terms, hotel, restaurant, guest, travelSite } = f;
      const token = f[name];
      // 1,000,001: fee 50,000 to the referrer; net 950,001 in units of 10 -> 950,000 paid out, 1 waits in the pool.
      await expect(pay(token, 1_000_001n, travelSite.address)).to.changeTokenBalances(token, [guest, ledger], [-1_000_001n, 1_000_001n]);
      await ledger.distribute(id, 1, token, packedOf(terms.parties));
      const hotelShare = 665_000n;
      const restaurantShare = 285_000n;
      expect(await ledger.balanceOf(hotel.address, token)).to.equal(hotelShare);
      expect(await ledger.balanceOf(restaurant.address, token)).to.equal(restaurantShare);
      expect(await ledger.balanceOf(travelSite.address, token)).to.equal(50_000n);
      for (const [who, amount] of [
        [hotel, hotelShare],
        [restaurant, restaurantShare],
        [travelSite, 50_000n],
      ] as const) {
        await expect(ledger.connect(who).withdraw(token, who.address, amount)).to.changeTokenBalances(
          token,
          [ledger, who],
          [-amount, amount],
        );
      }
      expect(await token.balanceOf(ledger)).to.equal(1n);
      // Once the agreement ends, the final remainder goes to the dust party, and the ledger empties.
      await registry.terminate(id, terms, await nestedChildren(registry, terms), await signTerminations(registry, [hotel, restaurant], id, 1));
      await ledger.sweepRemainder(id, 1, token, terms.parties[0]!, proofOf(terms.parties, 0));
      const dust = [hotel, restaurant].find((s) => s.address === terms.parties[0]!.account)!;
      await ledger.connect(dust).withdraw(token, dust.address, 1n);
      expect(await token.balanceOf(ledger)).to.equal(0n);
    });
  }

  it("never asks a token to move zero: zero settlements and withdrawals are refused first", async function () {
    const { ledger, pay, hotel, revertOnZero } = await loadFixture(fixture);
    await expect(pay(revertOnZero, 0n)).to.be.revertedWithCustomError(
      ledger,
      "LedgerZeroAmount",
    );
    await expect(ledger.connect(hotel).withdraw(revertOnZero, hotel.address, 0n)).to.be.revertedWithCustomError(
      ledger,
      "LedgerZeroAmount",
    );
  });

  it("refuses amounts beyond the ledger's 128-bit accounting instead of wrapping", async function () {
    const { ledger, pay, guest } = await loadFixture(fixture);
    const huge = await ethers.deployContract("MockERC20", ["Huge", "HUGE", 18]);
    await huge.mint(guest.address, 2n ** 200n);
    await huge.connect(guest).approve(ledger, ethers.MaxUint256);
    await expect(pay(huge, 2n ** 128n)).to.be.revertedWithCustomError(ledger, "LedgerAmountOverflow").withArgs(2n ** 128n);
    await expect(pay(huge, 2n ** 128n - 1n)).to.emit(ledger, "Settled");
    await expect(pay(huge, 1n))
      .to.be.revertedWithCustomError(ledger, "LedgerAmountOverflow")
      .withArgs(2n ** 128n);
  });

  it("refuses a payment when the token returns false, and records nothing", async function () {
    const { ledger, id, guest, falseReturn } = await loadFixture(fixture);
    await falseReturn.setFailTransfers(true);
    const p = await makePayment({ agreementId: id, gross: 1_000n, token: await falseReturn.getAddress() });
    await expect(ledger.connect(guest).settle(p, "0x"))
      .to.be.revertedWithCustomError(ledger, "SafeERC20FailedOperation")
      .withArgs(await falseReturn.getAddress());
    expect(await ledger.isOrderSettled(guest.address, p.orderRef)).to.equal(false);
    const pool = await ledger.pool(id, 1, falseReturn);
    expect(pool.total + pool.held).to.equal(0n);
    expect((await ledger.riskCounters(id, falseReturn)).settledCount).to.equal(0n);
  });

  it("keeps a balance whole when the token returns false on withdrawal, and pays it once the token works", async function () {
    const { ledger, pay, id, terms, hotel, falseReturn } = await loadFixture(fixture);
    await pay(falseReturn, 10_000n);
    await ledger.distribute(id, 1, falseReturn, packedOf(terms.parties));
    await falseReturn.setFailTransfers(true);
    await expect(ledger.connect(hotel).withdraw(falseReturn, hotel.address, 7_000n))
      .to.be.revertedWithCustomError(ledger, "SafeERC20FailedOperation")
      .withArgs(await falseReturn.getAddress());
    expect(await ledger.balanceOf(hotel.address, falseReturn)).to.equal(7_000n);
    await falseReturn.setFailTransfers(false);
    await expect(ledger.connect(hotel).withdraw(falseReturn, hotel.address, 7_000n)).to.changeTokenBalances(
      falseReturn,
      [ledger, hotel],
      [-7_000n, 7_000n],
    );
  });

  it("refuses a fee-on-transfer token by what actually arrived, so pools never promise more than is held", async function () {
    const { ledger, id, guest, feeOnTransfer } = await loadFixture(fixture);
    const p = await makePayment({ agreementId: id, gross: 100_000n, token: await feeOnTransfer.getAddress() });
    await expect(ledger.connect(guest).settle(p, "0x"))
      .to.be.revertedWithCustomError(ledger, "LedgerTokenDeliveryShort")
      .withArgs(await feeOnTransfer.getAddress(), 100_000n, 99_000n);
    expect(await ledger.isOrderSettled(guest.address, p.orderRef)).to.equal(false);
    expect(await feeOnTransfer.balanceOf(ledger)).to.equal(0n);
  });

  it("keeps each token's accounting apart: a token that fails does not touch ETH or other tokens", async function () {
    const { ledger, pay, id, terms, hotel, falseReturn, noReturn } = await loadFixture(fixture);
    await pay(ETH, 10_000n, ethers.ZeroAddress, 10_000n);
    await pay(noReturn, 10_000n);
    await pay(falseReturn, 10_000n);
    for (const token of [ETH, await noReturn.getAddress(), await falseReturn.getAddress()]) await ledger.distribute(id, 1, token, packedOf(terms.parties));
    await falseReturn.setFailTransfers(true);
    await expect(ledger.connect(hotel).withdraw(falseReturn, hotel.address, 7_000n)).to.be.revertedWithCustomError(
      ledger,
      "SafeERC20FailedOperation",
    );
    await expect(ledger.connect(hotel).withdraw(ETH, hotel.address, 7_000n)).to.changeEtherBalances(
      [ledger, hotel],
      [-7_000n, 7_000n],
    );
    await expect(ledger.connect(hotel).withdraw(noReturn, hotel.address, 7_000n)).to.changeTokenBalances(
      noReturn,
      [ledger, hotel],
      [-7_000n, 7_000n],
    );
    expect(await ledger.balanceOf(hotel.address, falseReturn)).to.equal(7_000n);
  });
});
