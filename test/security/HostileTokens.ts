import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { ETH, ReferrerPolicy, activateWithSignatures, deployConcord, makeTerms } from "../helpers/concord";

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
      { referrerPolicy: ReferrerPolicy.Open, referralFeeBps: 500, reserveBps: 0, disputeWindow: 0 },
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
    return {
      ledger,
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
      const { ledger, id, terms, hotel, restaurant, guest, travelSite } = f;
      const token = f[name];
      // 1,000,001: fee 50,000 to the referrer; net 950,001 in units of 10 -> 950,000 + 1 dust to party 0.
      await expect(ledger.connect(guest).settle(id, token, 1_000_001n, travelSite.address, ethers.id(name))).to.changeTokenBalances(
        token,
        [guest, ledger],
        [-1_000_001n, 1_000_001n],
      );
      await ledger.distribute(id, 1, token, terms);
      // The dust party is party 0 in the sorted order.
      const hotelShare = 665_000n + (terms.parties[0]!.account === hotel.address ? 1n : 0n);
      const restaurantShare = 950_001n - hotelShare;
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
      expect(await token.balanceOf(ledger)).to.equal(0n);
    });
  }

  it("never asks a token to move zero: zero settlements and withdrawals are refused first", async function () {
    const { ledger, id, guest, hotel, revertOnZero } = await loadFixture(fixture);
    await expect(ledger.connect(guest).settle(id, revertOnZero, 0n, ETH, ethers.id("z"))).to.be.revertedWithCustomError(
      ledger,
      "LedgerZeroAmount",
    );
    await expect(ledger.connect(hotel).withdraw(revertOnZero, hotel.address, 0n)).to.be.revertedWithCustomError(
      ledger,
      "LedgerZeroAmount",
    );
  });

  it("refuses amounts beyond the ledger's 128-bit accounting instead of wrapping", async function () {
    const { ledger, id, guest } = await loadFixture(fixture);
    const huge = await ethers.deployContract("MockERC20", ["Huge", "HUGE", 18]);
    await huge.mint(guest.address, 2n ** 200n);
    await huge.connect(guest).approve(ledger, ethers.MaxUint256);
    await expect(ledger.connect(guest).settle(id, huge, 2n ** 128n, ETH, ethers.id("huge")))
      .to.be.revertedWithCustomError(ledger, "LedgerAmountOverflow")
      .withArgs(2n ** 128n);
    await expect(ledger.connect(guest).settle(id, huge, 2n ** 128n - 1n, ETH, ethers.id("max"))).to.emit(ledger, "Settled");
  });

  it("refuses a payment when the token returns false, and records nothing", async function () {
    const { ledger, id, guest, falseReturn } = await loadFixture(fixture);
    await falseReturn.setFailTransfers(true);
    const orderRef = ethers.id("false-in");
    await expect(ledger.connect(guest).settle(id, falseReturn, 1_000n, ETH, orderRef))
      .to.be.revertedWithCustomError(ledger, "SafeERC20FailedOperation")
      .withArgs(await falseReturn.getAddress());
    expect(await ledger.settlementState(orderRef)).to.equal(ethers.ZeroHash);
    const pool = await ledger.pool(id, 1, falseReturn);
    expect(pool.distributable + pool.dust).to.equal(0n);
    expect((await ledger.riskCounters(id, falseReturn)).settledCount).to.equal(0n);
  });

  it("keeps a balance whole when the token returns false on withdrawal, and pays it once the token works", async function () {
    const { ledger, id, terms, guest, hotel, falseReturn } = await loadFixture(fixture);
    await ledger.connect(guest).settle(id, falseReturn, 10_000n, ETH, ethers.id("false-out"));
    await ledger.distribute(id, 1, falseReturn, terms);
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
    const orderRef = ethers.id("fee");
    await expect(ledger.connect(guest).settle(id, feeOnTransfer, 100_000n, ETH, orderRef))
      .to.be.revertedWithCustomError(ledger, "LedgerTokenDeliveryShort")
      .withArgs(await feeOnTransfer.getAddress(), 100_000n, 99_000n);
    expect(await ledger.settlementState(orderRef)).to.equal(ethers.ZeroHash);
    expect(await feeOnTransfer.balanceOf(ledger)).to.equal(0n);
  });

  it("keeps each token's accounting apart: a token that fails does not touch ETH or other tokens", async function () {
    const { ledger, id, terms, guest, hotel, falseReturn, noReturn } = await loadFixture(fixture);
    await ledger.connect(guest).settle(id, ETH, 10_000n, ETH, ethers.id("eth"), { value: 10_000n });
    await ledger.connect(guest).settle(id, noReturn, 10_000n, ETH, ethers.id("nr"));
    await ledger.connect(guest).settle(id, falseReturn, 10_000n, ETH, ethers.id("fr"));
    for (const token of [ETH, noReturn, falseReturn]) await ledger.distribute(id, 1, token, terms);
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
