import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { Signature } from "ethers";
import {
  CONSENT_TYPES,
  DAY,
  consentDomain,
  deployConcord,
  makeTerms,
  signConsents,
  sortConsents,
  type SignedConsent,
} from "../helpers/concord";

/** secp256k1 group order: s and n - s verify the same message under raw ecrecover. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * Consent signatures under attack: each must be bound to the chain, the deployment, the agreement,
 * the version, the terms, a single-use nonce and a deadline; malleable or mis-encoded signatures,
 * duplicated or unsorted signers and misbehaving ERC-1271 wallets must never count as consent.
 */
describe("Security: consent signatures", function () {
  async function fixture() {
    const [deployer, hotel, restaurant, outsider, walletOwner] = await ethers.getSigners();
    const { registry } = await deployConcord();
    const terms = makeTerms([
      [hotel!.address, 6_000],
      [restaurant!.address, 4_000],
    ]);
    await registry.propose(terms);
    const id = await registry.agreementCount();
    const deadline = BigInt(await time.latest()) + BigInt(DAY);
    /** Signs (agreement, version, terms) for `signer` with an explicit nonce, deadline and domain. */
    const sign = async (
      signer: typeof hotel,
      o: { agreementId?: bigint; version?: bigint; nonce?: bigint; deadline?: bigint; chainId?: bigint; verifyingContract?: string } = {},
    ): Promise<SignedConsent> => {
      const domain = { ...(await consentDomain(registry)) };
      if (o.chainId !== undefined) domain.chainId = o.chainId;
      if (o.verifyingContract !== undefined) domain.verifyingContract = o.verifyingContract;
      const value = {
        agreementId: o.agreementId ?? id,
        version: o.version ?? 1n,
        terms,
        signer: signer!.address,
        nonce: o.nonce ?? 1n,
        deadline: o.deadline ?? deadline,
      };
      const signature = await signer!.signTypedData(domain, CONSENT_TYPES, value);
      return { signer: signer!.address, nonce: value.nonce, deadline: value.deadline, signature };
    };
    return {
      registry,
      terms,
      id,
      deadline,
      sign,
      deployer: deployer!,
      hotel: hotel!,
      restaurant: restaurant!,
      outsider: outsider!,
      walletOwner: walletOwner!,
    };
  }

  describe("replay", function () {
    it("refuses a signature made for another chain id", async function () {
      const { registry, id, terms, sign, hotel, restaurant } = await loadFixture(fixture);
      const sigs = sortConsents([await sign(hotel, { chainId: 1n }), await sign(restaurant)]);
      await expect(registry.activate(id, 1, terms, [], sigs))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSignature")
        .withArgs(hotel.address);
    });

    it("refuses a signature made for another deployment of the registry", async function () {
      const { registry, id, terms, sign, hotel, restaurant } = await loadFixture(fixture);
      const { registry: other } = await deployConcord();
      await other.propose(terms);
      const forOther = sortConsents([await sign(hotel, { verifyingContract: await other.getAddress() }), await sign(restaurant)]);
      await expect(registry.activate(id, 1, terms, [], forOther))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSignature")
        .withArgs(hotel.address);
      // And the genuine signatures for this registry do not activate the other one.
      const genuine = sortConsents([await sign(hotel, { nonce: 2n }), await sign(restaurant, { nonce: 2n })]);
      await expect(other.activate(1, 1, terms, [], genuine)).to.be.revertedWithCustomError(other, "RegistryInvalidSignature");
    });

    it("refuses a signature made for another agreement with identical terms", async function () {
      const { registry, id, terms, sign, hotel, restaurant } = await loadFixture(fixture);
      await registry.propose(terms);
      const twin = id + 1n;
      const forFirst = sortConsents([await sign(hotel), await sign(restaurant)]);
      await expect(registry.activate(twin, 1, terms, [], forFirst)).to.be.revertedWithCustomError(
        registry,
        "RegistryInvalidSignature",
      );
    });

    it("refuses a signature made for another version with identical terms", async function () {
      const { registry, id, terms, sign, hotel, restaurant } = await loadFixture(fixture);
      await registry.activate(id, 1, terms, [], sortConsents([await sign(hotel), await sign(restaurant)]));
      await registry.connect(hotel).proposeAmendment(id, terms, terms, []); // version 2, the very same terms
      const forVersion1 = sortConsents([await sign(hotel, { nonce: 5n }), await sign(restaurant, { nonce: 5n })]);
      await expect(registry.activateAmendment(id, 2, terms, terms, [], forVersion1)).to.be.revertedWithCustomError(
        registry,
        "RegistryInvalidSignature",
      );
      const forVersion2 = sortConsents([
        await sign(hotel, { nonce: 6n, version: 2n }),
        await sign(restaurant, { nonce: 6n, version: 2n }),
      ]);
      await expect(registry.activateAmendment(id, 2, terms, terms, [], forVersion2)).to.emit(registry, "VersionActivated");
    });

    it("refuses a second signature with a nonce already used, even for another agreement", async function () {
      const { registry, id, terms, sign, hotel, restaurant } = await loadFixture(fixture);
      await registry.propose(terms);
      const twin = id + 1n;
      // Hotel signs both agreements with nonce 7; the first activation spends it.
      const first = sortConsents([await sign(hotel, { nonce: 7n }), await sign(restaurant, { nonce: 7n })]);
      await registry.activate(id, 1, terms, [], first);
      expect(await registry.isNonceUsed(hotel.address, 7n)).to.equal(true);
      const second = sortConsents([
        await sign(hotel, { nonce: 7n, agreementId: twin }),
        await sign(restaurant, { nonce: 8n, agreementId: twin }),
      ]);
      await expect(registry.activate(twin, 1, terms, [], second))
        .to.be.revertedWithCustomError(registry, "RegistryNonceUsed")
        .withArgs(hotel.address, 7n);
    });

    it("refuses a signature one second after its deadline", async function () {
      const { registry, id, terms, sign, hotel, restaurant, deadline } = await loadFixture(fixture);
      const sigs = sortConsents([await sign(hotel), await sign(restaurant)]);
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(registry.activate(id, 1, terms, [], sigs))
        .to.be.revertedWithCustomError(registry, "RegistrySignatureExpired")
        .withArgs(sigs[0]!.signer, deadline);
    });

    it("accepts a signature in the block of its deadline", async function () {
      const { registry, id, terms, sign, hotel, restaurant, deadline } = await loadFixture(fixture);
      const sigs = sortConsents([await sign(hotel), await sign(restaurant)]);
      await time.setNextBlockTimestamp(deadline);
      await expect(registry.activate(id, 1, terms, [], sigs)).to.emit(registry, "VersionActivated");
    });

    it("refuses a signature whose nonce its signer cancelled", async function () {
      const { registry, id, terms, sign, hotel, restaurant } = await loadFixture(fixture);
      const sigs = sortConsents([await sign(hotel, { nonce: 9n }), await sign(restaurant, { nonce: 9n })]);
      await expect(registry.connect(hotel).cancelNonce(9n)).to.emit(registry, "NonceCancelled").withArgs(hotel.address, 9n);
      await expect(registry.activate(id, 1, terms, [], sigs))
        .to.be.revertedWithCustomError(registry, "RegistryNonceUsed")
        .withArgs(hotel.address, 9n);
      await expect(registry.connect(hotel).cancelNonce(9n))
        .to.be.revertedWithCustomError(registry, "RegistryNonceUsed")
        .withArgs(hotel.address, 9n);
    });
  });

  describe("encoding", function () {
    it("refuses the high-s twin of a valid signature, which raw ecrecover accepts", async function () {
      const { registry, id, terms, sign, hotel, restaurant } = await loadFixture(fixture);
      const good = await sign(hotel);
      const sig = Signature.from(good.signature);
      const highS = SECP256K1_N - BigInt(sig.s);
      const flippedV = sig.v === 27 ? 28 : 27;
      const malleable = ethers.concat([sig.r, ethers.toBeHex(highS, 32), ethers.toBeHex(flippedV, 1)]);

      // The precompile recovers the hotel from the twin: only the low-s rule tells them apart.
      const digest = await registry.consentDigest(id, 1, await registry.hashTerms(terms), hotel.address, good.nonce, good.deadline);
      const recovered = await ethers.provider.call({
        to: "0x0000000000000000000000000000000000000001",
        data: ethers.AbiCoder.defaultAbiCoder().encode(
          ["bytes32", "uint8", "bytes32", "bytes32"],
          [digest, flippedV, sig.r, ethers.toBeHex(highS, 32)],
        ),
      });
      expect(ethers.getAddress(ethers.dataSlice(recovered, 12))).to.equal(hotel.address);

      const sigs = sortConsents([{ ...good, signature: malleable }, await sign(restaurant)]);
      await expect(registry.activate(id, 1, terms, [], sigs))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSignature")
        .withArgs(hotel.address);
      // The canonical form still works: the refusal is about the encoding, not the consent.
      await expect(registry.activate(id, 1, terms, [], sortConsents([good, await sign(restaurant)]))).to.emit(
        registry,
        "VersionActivated",
      );
    });

    it("refuses a 64-byte compact (EIP-2098) encoding and an invalid v", async function () {
      const { registry, id, terms, sign, hotel, restaurant } = await loadFixture(fixture);
      const good = await sign(hotel);
      const sig = Signature.from(good.signature);
      for (const bad of [sig.compactSerialized, ethers.concat([sig.r, sig.s, "0x1d"])]) {
        const sigs = sortConsents([{ ...good, signature: bad }, await sign(restaurant)]);
        await expect(registry.activate(id, 1, terms, [], sigs))
          .to.be.revertedWithCustomError(registry, "RegistryInvalidSignature")
          .withArgs(hotel.address);
      }
    });

    it("refuses a signature by one key presented as another signer's", async function () {
      const { registry, id, terms, sign, hotel, restaurant } = await loadFixture(fixture);
      const byRestaurant = await sign(restaurant);
      const sigs = sortConsents([{ ...byRestaurant, signer: hotel.address }, await sign(restaurant, { nonce: 2n })]);
      await expect(registry.activate(id, 1, terms, [], sigs))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSignature")
        .withArgs(hotel.address);
    });
  });

  describe("signer lists", function () {
    it("refuses a duplicated signer, even with two different valid signatures", async function () {
      const { registry, id, terms, sign, hotel, restaurant } = await loadFixture(fixture);
      const twice = [await sign(hotel, { nonce: 1n }), await sign(hotel, { nonce: 2n })];
      const sigs = sortConsents([...twice, await sign(restaurant)]);
      await expect(registry.activate(id, 1, terms, [], sigs))
        .to.be.revertedWithCustomError(registry, "RegistryDuplicateSigner")
        .withArgs(hotel.address);
    });

    it("refuses signers out of ascending order, naming the first out of place", async function () {
      const { registry, id, terms, sign, hotel, restaurant } = await loadFixture(fixture);
      const sorted = sortConsents([await sign(hotel), await sign(restaurant)]);
      const reversed = [sorted[1]!, sorted[0]!];
      await expect(registry.activate(id, 1, terms, [], reversed))
        .to.be.revertedWithCustomError(registry, "RegistrySignersNotSorted")
        .withArgs(sorted[0]!.signer);
    });

    it("refuses a valid signature from an address that is not a party", async function () {
      const { registry, id, terms, sign, hotel, restaurant, outsider } = await loadFixture(fixture);
      const sigs = sortConsents([await sign(hotel), await sign(restaurant), await sign(outsider)]);
      await expect(registry.activate(id, 1, terms, [], sigs))
        .to.be.revertedWithCustomError(registry, "RegistrySignerNotParty")
        .withArgs(outsider.address);
    });
  });

  describe("ERC-1271 wallets", function () {
    async function walletFixture() {
      const f = await loadFixture(fixture);
      const { registry, hotel, walletOwner } = f;
      const wallet = await ethers.deployContract("MockERC1271Wallet", [walletOwner.address, 0]);
      const stateful = await ethers.deployContract("StatefulERC1271Wallet", [walletOwner.address]);
      const build = async (party: string) => {
        const terms = makeTerms([
          [hotel.address, 5_000],
          [party, 5_000],
        ]);
        await registry.propose(terms);
        const id = await registry.agreementCount();
        return { terms, id };
      };
      /** The owner's EIP-712 signature of the consent naming the wallet as signer. */
      const walletConsent = async (party: string, id: bigint, terms: ReturnType<typeof makeTerms>) => {
        const [sig] = await signConsents(registry, [{ owner: walletOwner, account: party }], id, 1n, terms, { nonce: 1n });
        return sig!;
      };
      return { ...f, wallet, stateful, build, walletConsent };
    }

    const modes = [
      { mode: 1, name: "rejects (returns 0xffffffff)" },
      { mode: 2, name: "reverts" },
      { mode: 3, name: "returns short data" },
      { mode: 4, name: "returns the wrong magic value" },
    ];
    for (const { mode, name } of modes) {
      it(`refuses a wallet that ${name}, and accepts the same signature once it approves`, async function () {
        const { registry, hotel, wallet, build, walletConsent } = await loadFixture(walletFixture);
        const address = await wallet.getAddress();
        const { terms, id } = await build(address);
        const sigs = sortConsents([await walletConsent(address, id, terms), ...(await signConsents(registry, [hotel], id, 1n, terms))]);
        await wallet.setMode(mode);
        await expect(registry.activate(id, 1, terms, [], sigs))
          .to.be.revertedWithCustomError(registry, "RegistryInvalidSignature")
          .withArgs(address);
        await wallet.setMode(0);
        await expect(registry.activate(id, 1, terms, [], sigs)).to.emit(registry, "VersionActivated");
      });
    }

    it("refuses a wallet whose check writes state: verification is a static call", async function () {
      const { registry, hotel, stateful, build, walletConsent } = await loadFixture(walletFixture);
      const address = await stateful.getAddress();
      const { terms, id } = await build(address);
      const sigs = sortConsents([await walletConsent(address, id, terms), ...(await signConsents(registry, [hotel], id, 1n, terms))]);
      await expect(registry.activate(id, 1, terms, [], sigs))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSignature")
        .withArgs(address);
      expect(await stateful.checks()).to.equal(0n);
    });

    it("does not count the owner's own valid consent as the wallet's", async function () {
      const { registry, hotel, wallet, walletOwner, build } = await loadFixture(walletFixture);
      const address = await wallet.getAddress();
      const { terms, id } = await build(address);
      const sigs = await signConsents(registry, [walletOwner, hotel], id, 1n, terms);
      await expect(registry.activate(id, 1, terms, [], sigs))
        .to.be.revertedWithCustomError(registry, "RegistryMissingConsent")
        .withArgs(address);
    });
  });
});
