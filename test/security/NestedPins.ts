import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer } from "ethers";
import type { AgreementRegistry } from "../../typechain-types";
import { ETH, deployConcord, makePayment, makeTerms, nestedChildren, type TermsInput } from "../helpers/concord";
import { packedOf } from "../helpers/ledger";
import { partyProof } from "../../src/sdk/partyTree";

/**
 * Regressions from an attacker's review of the rebuilt contracts: a nested party pinned to a
 * superseded child version (law 5: the child's current members must consent), and a child pool
 * swept while a superseded parent still owes it (laws 1 and 2: only the final remainder, under one
 * unit, goes to the dust party, and the ledger never owes more than it holds).
 */
const FAR = 2n ** 40n;

async function approveAll(registry: AgreementRegistry, id: bigint, version: number, signers: Signer[]): Promise<void> {
  for (const s of signers) await (await registry.connect(s).approve(id, version, FAR)).wait();
}

async function proposeAndApprove(registry: AgreementRegistry, terms: TermsInput, signers: Signer[]): Promise<bigint> {
  const id = (await registry.agreementCount()) + 1n;
  await (await registry.propose(terms)).wait();
  await approveAll(registry, id, 1, signers);
  await (await registry.activate(id, 1, terms, await nestedChildren(registry, terms), [])).wait();
  return id;
}

/** C v1 = {c1, c2}; P v1 = {p, C@v1}; then C's members replace c2 by d (C v2). */
async function staleChildFixture() {
  const [p, c1, c2, d, stranger] = await ethers.getSigners();
  const concord = await deployConcord();
  const { registry } = concord;
  const c1Terms = makeTerms([[c1!.address, 5_000], [c2!.address, 5_000]], { reserveBps: 0, disputeWindow: 0 });
  const C = await proposeAndApprove(registry, c1Terms, [c1!, c2!]);
  const pTerms = makeTerms([[p!.address, 5_000], [{ agreementId: C, version: 1 }, 5_000]], { reserveBps: 0, disputeWindow: 0 });
  const P = (await registry.agreementCount()) + 1n;
  await (await registry.propose(pTerms)).wait();
  const cNext = makeTerms([[c1!.address, 5_000], [d!.address, 5_000]], { reserveBps: 0, disputeWindow: 0 });
  return { ...concord, p: p!, c1: c1!, c2: c2!, d: d!, stranger: stranger!, C, P, c1Terms, pTerms, cNext };
}

async function amendChild(f: Awaited<ReturnType<typeof staleChildFixture>>): Promise<void> {
  await (await f.registry.connect(f.c1).proposeAmendment(f.C, f.cNext, f.c1Terms, [])).wait();
  await approveAll(f.registry, f.C, 2, [f.c1, f.c2, f.d]);
  await (await f.registry.activateAmendment(f.C, 2, f.cNext, f.c1Terms, [], [])).wait();
}

describe("security: nested pins and pool remainders", function () {
  describe("a pin to a superseded child version", function () {
    it("cannot be activated directly: the proposal went stale when the child amended", async function () {
      const f = await loadFixture(staleChildFixture);
      await amendChild(f);
      await approveAll(f.registry, f.P, 1, [f.p, f.c1, f.c2]);
      const children = [{ agreementId: f.C, version: 1, terms: f.c1Terms }];
      await expect(f.registry.activate(f.P, 1, f.pTerms, children, []))
        .to.be.revertedWithCustomError(f.registry, "RegistryNestedAgreementInvalid")
        .withArgs(f.C, 1);
    });

    it("cannot be offered or agreed in the hub, and the child's new member is a consenter of a fresh pin", async function () {
      const f = await loadFixture(staleChildFixture);
      await approveAll(f.registry, f.P, 1, [f.p, f.c1, f.c2]);
      await (await f.registry.activate(f.P, 1, f.pTerms, [{ agreementId: f.C, version: 1, terms: f.c1Terms }], [])).wait();
      await amendChild(f);
      const stale = makeTerms([[f.p.address, 1_000], [{ agreementId: f.C, version: 1 }, 9_000]], { reserveBps: 0, disputeWindow: 0 });
      const children = [{ agreementId: f.C, version: 1, terms: f.c1Terms }];
      await expect(f.hub.connect(f.p).open(f.P, 5, 86_400, 3_600, stale, f.pTerms, children))
        .to.be.revertedWithCustomError(f.registry, "RegistryNestedAgreementInvalid")
        .withArgs(f.C, 1);
      // Re-pinning to C v2 goes through an amendment whose consenters include d, the member who replaced c2.
      const fresh = makeTerms([[f.p.address, 5_000], [{ agreementId: f.C, version: 2 }, 5_000]], { reserveBps: 0, disputeWindow: 0 });
      expect(await f.registry.consenters(fresh, await nestedChildren(f.registry, fresh))).to.include(f.d.address);
      await (await f.registry.connect(f.p).proposeAmendment(f.P, fresh, f.pTerms, children)).wait();
      await approveAll(f.registry, f.P, 2, [f.p, f.c1, f.c2]);
      await expect(f.registry.activateAmendment(f.P, 2, fresh, f.pTerms, await nestedChildren(f.registry, fresh, f.pTerms), []))
        .to.be.revertedWithCustomError(f.registry, "RegistryMissingConsent")
        .withArgs(f.d.address);
    });
  });

  it("a negotiated version names the participant whose offer was agreed as its proposer", async function () {
    const [a, b] = await ethers.getSigners();
    const { registry, hub } = await deployConcord();
    const terms = makeTerms([[a!.address, 5_000], [b!.address, 5_000]], { reserveBps: 0, disputeWindow: 0 });
    const id = await proposeAndApprove(registry, terms, [a!, b!]);
    const offer = makeTerms([[a!.address, 6_000], [b!.address, 4_000]], { reserveBps: 0, disputeWindow: 0 });
    await (await hub.connect(a!).open(id, 3, 86_400, 3_600, offer, terms, [])).wait();
    await expect(hub.connect(b!).accept(id, offer))
      .to.emit(registry, "VersionProposed")
      .withArgs(id, 2, a!.address, await registry.hashTerms(offer), () => true);
  });

  it("a child pool is final only once every parent that pinned it has paid out: its dust party gets its share plus the one final remainder", async function () {
    const [p, c1, c2, stranger] = await ethers.getSigners();
    const { registry, ledger } = await deployConcord();
    // C v1: 3333 / 6667 (unit 10,000), the dust party is c1.
    const cTerms0 = makeTerms([[c1!.address, 3_333], [c2!.address, 6_667]], { reserveBps: 0, disputeWindow: 0 });
    const cTerms = { ...cTerms0, dustPartyIndex: cTerms0.parties.findIndex((x) => x.account === c1!.address) };
    const C = await proposeAndApprove(registry, cTerms, [c1!, c2!]);
    // P v1 = {p 5000, C@v1 5000}, 10% reserve for an hour.
    const pTerms = makeTerms([[p!.address, 5_000], [{ agreementId: C, version: 1 }, 5_000]], { reserveBps: 1_000, disputeWindow: 3_600 });
    const P = await proposeAndApprove(registry, pTerms, [p!, c1!, c2!]);
    const children = await nestedChildren(registry, pTerms);

    const direct = await makePayment({ agreementId: C, gross: 19_999n });
    await (await ledger.connect(stranger!).settle(direct, "0x", { value: direct.gross })).wait();
    const viaParent = await makePayment({ agreementId: P, gross: 40_000n });
    const receipt = await (await ledger.connect(stranger!).settle(viaParent, "0x", { value: viaParent.gross })).wait();
    const held = receipt!.logs.map((l) => { try { return ledger.interface.parseLog(l); } catch { return null; } }).find((e) => e?.name === "ReservesHeld")!;
    const lot = { agreementId: P, version: 1, token: ETH, releaseAt: held.args.releaseAt, held: held.args.held, entriesHash: held.args.entriesHash };

    // C amends (C v1 can no longer settle) and P is terminated (nothing active pins C v1).
    const cNext = { ...cTerms, documentHash: ethers.id("C v2") };
    await (await registry.connect(c1!).proposeAmendment(C, cNext, cTerms, [])).wait();
    await approveAll(registry, C, 2, [c1!, c2!]);
    await (await registry.activateAmendment(C, 2, cNext, cTerms, [], [])).wait();
    for (const s of [p!, c1!, c2!]) await (await registry.connect(s).approveTermination(P, 1, FAR)).wait();
    await (await registry.terminate(P, pTerms, children, [])).wait();
    expect((await registry.pinnedBy(C, 1)).map((r) => [r.agreementId, r.version])).to.deep.equal([[P, 1n]]);

    const dustIndex = cTerms.dustPartyIndex;
    const sweep = () => ledger.connect(stranger!).sweepRemainder(C, 1, ETH, cTerms.parties[dustIndex]!, partyProof(cTerms.parties as never, dustIndex));
    // P still owes C v1 its undistributed units and, later, its released reserve.
    await expect(sweep()).to.be.revertedWithCustomError(ledger, "LedgerPoolStillOpen").withArgs(P, 1, ETH);
    await (await ledger.connect(stranger!).distribute(P, 1, ETH, packedOf(pTerms.parties))).wait();
    await expect(sweep()).to.be.revertedWithCustomError(ledger, "LedgerPoolStillOpen").withArgs(P, 1, ETH);
    await time.increase(3_601);
    await (await ledger.connect(stranger!).releaseReserve(held.args.lotId, lot)).wait();
    await (await ledger.connect(stranger!).distribute(P, 1, ETH, packedOf(pTerms.parties))).wait();
    await (await sweep()).wait();
    await (await ledger.connect(stranger!).distribute(C, 1, ETH, packedOf(cTerms.parties))).wait();
    await (await sweep()).wait(); // nothing left: the remainder was final

    // The oracle, from the law's words: C v1 received 19,999 + half of P's 40,000 (20,000).
    const intoChild = 19_999n + 20_000n;
    const units = intoChild - (intoChild % 10_000n);
    const c1Got = await ledger.balanceOf(c1!.address, ETH);
    const c2Got = await ledger.balanceOf(c2!.address, ETH);
    expect(c2Got).to.equal((units * 6_667n) / 10_000n);
    expect(c1Got).to.equal((units * 3_333n) / 10_000n + (intoChild % 10_000n));
    expect(c1Got + c2Got).to.equal(intoChild);
    expect(c1Got - (intoChild * 3_333n) / 10_000n).to.be.lessThan(10_000n);
  });

  it("a late credit after a parent drains never lets the ledger owe more than it holds", async function () {
    const [x, y, z, w, payer] = await ethers.getSigners();
    const { registry, ledger } = await deployConcord();
    const noReserve = { reserveBps: 0, disputeWindow: 0 };
    // C v1 = {x 7000, y 3000} (unit 10, dust y); P v1 = {z 5000, C@v1 5000}; D = {w}, unrelated money.
    const c0 = makeTerms([[x!.address, 7_000], [y!.address, 3_000]], noReserve);
    const cTerms = { ...c0, dustPartyIndex: c0.parties.findIndex((q) => q.account === y!.address) };
    const C = await proposeAndApprove(registry, cTerms, [x!, y!]);
    const pTerms = makeTerms([[z!.address, 5_000], [{ agreementId: C, version: 1 }, 5_000]], noReserve);
    const P = await proposeAndApprove(registry, pTerms, [z!, x!, y!]);
    const dTerms = makeTerms([[w!.address, 10_000]], noReserve);
    const D = await proposeAndApprove(registry, dTerms, [w!]);
    const pay = async (agreementId: bigint, gross: bigint) => {
      const payment = await makePayment({ agreementId, gross });
      await (await ledger.connect(payer!).settle(payment, "0x", { value: gross })).wait();
    };
    const accounts = [x!, y!, z!, w!].map((s) => s.address);
    const solvent = async () => {
      let owed = 0n;
      for (const a of accounts) owed += await ledger.balanceOf(a, ETH);
      expect(await ethers.provider.getBalance(await ledger.getAddress())).to.be.gte(owed);
    };
    await pay(D, 100n);
    await (await ledger.distribute(D, 1, ETH, packedOf(dTerms.parties))).wait();
    await pay(P, 18n);
    await (await ledger.distribute(P, 1, ETH, packedOf(pTerms.parties))).wait(); // C v1 total 9
    await pay(P, 2n); // P v1 owes 2 more, undistributed
    const cNext = { ...cTerms, documentHash: ethers.id("C v2") };
    await (await registry.connect(x!).proposeAmendment(C, cNext, cTerms, [])).wait();
    await approveAll(registry, C, 2, [x!, y!]);
    await (await registry.activateAmendment(C, 2, cNext, cTerms, [], [])).wait();
    for (const s of [z!, x!, y!]) await (await registry.connect(s).approveTermination(P, 1, FAR)).wait();
    await (await registry.terminate(P, pTerms, await nestedChildren(registry, pTerms), [])).wait();
    const dustIndex = cTerms.dustPartyIndex;
    const sweepC = () => ledger.sweepRemainder(C, 1, ETH, cTerms.parties[dustIndex]!, partyProof(cTerms.parties as never, dustIndex));
    await expect(sweepC()).to.be.revertedWithCustomError(ledger, "LedgerPoolStillOpen").withArgs(P, 1, ETH);
    await solvent();
    await (await ledger.distribute(P, 1, ETH, packedOf(pTerms.parties))).wait(); // C v1 total 10: one whole unit
    await (await sweepC()).wait(); // final, and nothing below one unit is left
    await (await ledger.distribute(C, 1, ETH, packedOf(cTerms.parties))).wait();
    await solvent();
    expect(await ledger.balanceOf(x!.address, ETH)).to.equal(7n);
    expect(await ledger.balanceOf(y!.address, ETH)).to.equal(3n);
    for (const s of [x!, y!, z!, w!]) {
      const balance = await ledger.balanceOf(s.address, ETH);
      await (await ledger.connect(s).withdraw(ETH, s.address, balance)).wait();
    }
    expect(await ethers.provider.getBalance(await ledger.getAddress())).to.equal(0n);
  });
});
