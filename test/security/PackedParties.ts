/**
 * distribute's packed party list (PartyTree.pack, checked against the registry's list hash), tried
 * as an attacker would: raw calldata with a truncated, oversized or overlapping array, the list at
 * an unusual offset, single flipped bits, and lists of other versions across activation,
 * amendment and termination.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { Address } from "viem";
import { partiesListHash } from "../../src/sdk/partyTree";
import { ETH, activateWithSignatures, amendWithSignatures, deployConcord, makePayment, makeTerms, nestedChildren, signTerminations, type TermsInput } from "../helpers/concord";
import { packedOf } from "../helpers/ledger";

const word = (x: bigint) => x.toString(16).padStart(64, "0");
const listHash = (terms: TermsInput) => partiesListHash(terms.parties.map((p) => ({ ...p, account: p.account as Address })));

async function pooledFixture() {
  const [, a, b, c, guest, stranger] = await ethers.getSigners();
  const { registry, ledger } = await deployConcord();
  const terms = makeTerms([[a!.address, 5000], [b!.address, 3000], [c!.address, 2000]], {});
  const id = await activateWithSignatures(registry, terms, [a!, b!, c!]);
  await ledger.connect(guest!).settle(await makePayment({ agreementId: id, gross: 1_000_000n }), "0x", { value: 1_000_000n });
  return { registry, ledger, terms, id, parties: [a!, b!, c!], stranger: stranger! };
}

describe("Security: distribute's packed parties", function () {
  it("takes only the recorded words: malformed arrays revert, a flipped bit anywhere is refused, the list at any offset pays the real parties", async function () {
    const { ledger, terms, id, parties, stranger } = await loadFixture(pooledFixture);
    const packed = packedOf(terms.parties);
    const selector = ledger.interface.getFunction("distribute").selector;
    const head = (offset: bigint) => selector + word(id) + word(1n) + word(0n) + word(offset);
    const send = (data: string) => stranger.sendTransaction({ to: ledger, data, gasLimit: 2_000_000 });
    // A length beyond the calldata (no zero-padded words are hashed), a huge length, an offset past
    // the end, and an array overlapping the head (its length word is the version, 1): all revert.
    await expect(send(head(0x80n) + word(3n) + word(packed[0]!) + word(packed[1]!))).to.be.reverted;
    await expect(send(head(0x80n) + word(1n << 64n) + word(packed[0]!))).to.be.reverted;
    await expect(send(head(1n << 200n))).to.be.reverted;
    await expect(send(head(0x20n))).to.be.reverted;
    for (const bit of [31n, 159n, 160n, 176n, 200n, 254n, 255n]) {
      for (let i = 0; i < packed.length; i += 1) {
        const forged = packed.map((x, j) => (j === i ? x ^ (1n << bit) : x));
        await expect(ledger.distribute(id, 1, ETH, forged)).to.be.revertedWithCustomError(ledger, "LedgerPartiesMismatch").withArgs(id, 1);
      }
    }
    // The real list at an odd offset, junk before and after it: accepted, and pays exactly the shares.
    await send(head(0xa0n) + word(0xdeadn) + word(3n) + packed.map(word).join("") + word(123n));
    const balances = await Promise.all(parties.map((p) => ledger.balanceOf(p.address, ETH)));
    expect(balances).to.deep.equal([450_000n, 270_000n, 180_000n]);
    expect(await ledger.balanceOf(stranger.address, ETH)).to.equal(0n);
  });

  it("records every version's list at activation and amendment, keeps it after termination, and refuses another version's list or a re-pointed nested party", async function () {
    const [, a, b, c, guest] = await ethers.getSigners();
    const { registry, ledger } = await deployConcord();
    const childTerms = makeTerms([[a!.address, 6000], [b!.address, 4000]], {});
    const child = await activateWithSignatures(registry, childTerms, [a!, b!]);
    const v1 = makeTerms([[c!.address, 7000], [child, 3000]], {});
    const parent = await activateWithSignatures(registry, v1, [c!, a!, b!], await nestedChildren(registry, v1));
    expect((await registry.distribution(parent, 1))[0]).to.equal(listHash(v1));
    expect((await registry.distribution(child, 1))[0]).to.equal(listHash(childTerms));
    await ledger.connect(guest!).settle(await makePayment({ agreementId: parent, gross: 1_000_000n }), "0x", { value: 1_000_000n });
    const v2 = makeTerms([[c!.address, 5000], [child, 5000]], {});
    await amendWithSignatures(registry, parent, v2, c!, [c!, a!, b!]);
    expect(await registry.distribution(parent, 2)).to.deep.equal([listHash(v2), 2n]);
    expect(await registry.distribution(parent, 3)).to.deep.equal([ethers.ZeroHash, 0n]);
    await ledger.connect(guest!).settle(await makePayment({ agreementId: parent, version: 2, gross: 1_000_000n }), "0x", { value: 1_000_000n });
    await registry.terminate(parent, v2, await nestedChildren(registry, v2), await signTerminations(registry, [c!, a!, b!], parent, 2));
    expect((await registry.distribution(parent, 2))[0]).to.equal(listHash(v2));
    await expect(ledger.distribute(parent, 2, ETH, packedOf(v1.parties))).to.be.revertedWithCustomError(ledger, "LedgerPartiesMismatch").withArgs(parent, 2);
    // The nested party pointed at the child's version 2, which v1 does not pin.
    const repointed = packedOf(v1.parties).map((w) => (w >> 255n ? w + 1n : w));
    await expect(ledger.distribute(parent, 1, ETH, repointed)).to.be.revertedWithCustomError(ledger, "LedgerPartiesMismatch").withArgs(parent, 1);
    const t1 = (await ledger.pool(parent, 1, ETH)).total;
    const t2 = (await ledger.pool(parent, 2, ETH)).total;
    await ledger.distribute(parent, 1, ETH, packedOf(v1.parties));
    await ledger.distribute(parent, 2, ETH, packedOf(v2.parties));
    expect(await ledger.balanceOf(c!.address, ETH)).to.equal((t1 * 7000n) / 10_000n + (t2 * 5000n) / 10_000n);
    expect((await ledger.pool(child, 1, ETH)).total).to.equal((t1 * 3000n) / 10_000n + (t2 * 5000n) / 10_000n);
  });
});
