import { expect } from "chai";
import { hashTypedData, parseEther, zeroAddress, type Address } from "viem";
import {
  ContractRevertError,
  activateAgreement,
  activateAmendment,
  agreementRegistryAbi,
  approveTermination,
  approveVersion,
  buildTerms,
  consentDigest,
  consentersOf,
  getAgreement,
  getConsentTypedData,
  getConsenters,
  getNestedTerms,
  getVersion,
  hashTerms,
  partiesRoot,
  paymentIntentDigest,
  proposeAgreement,
  proposeAmendment,
  revokeApproval,
  revokeTerminationApproval,
  settlementLedgerAbi,
  signConsent,
  signTermination,
  terminateAgreement,
  terminationDigest,
  type ConcordContext,
  type Terms,
} from "../../src/sdk";
import { accountTerms, concordFixture, proposeAndActivate, type ConcordFixture } from "./fixtures";

/** Runs `action` and returns the Concord revert it must throw. */
async function revertOf(action: () => Promise<unknown>): Promise<ContractRevertError> {
  try {
    await action();
  } catch (error) {
    expect(error).to.be.instanceOf(ContractRevertError);
    return error as ContractRevertError;
  }
  throw new Error("expected a revert");
}

describe("SDK: agreements and consent", function () {
  let f: ConcordFixture;
  let keeper: ConcordContext, hotel: ConcordContext, restaurant: ConcordContext, airline: ConcordContext, chef: ConcordContext, stranger: ConcordContext;
  let at: (c: ConcordContext) => Address;

  beforeEach(async function () {
    f = await concordFixture();
    [keeper, hotel, restaurant, airline, chef, stranger] = f.contexts as [ConcordContext, ConcordContext, ConcordContext, ConcordContext, ConcordContext, ConcordContext];
    at = f.addressOf;
  });

  const registryRead = <const N extends "consentDigest" | "terminationDigest" | "hashTerms" | "approvalExpiry" | "terminationApprovalExpiry" | "versionPayout" | "eip712Domain">(
    functionName: N,
    args: readonly unknown[],
  ) => f.env.publicClient.readContract({ address: f.env.addresses.registry, abi: agreementRegistryAbi, functionName, args } as never) as Promise<unknown>;

  describe("typed data", function () {
    it("hashes terms and builds the consent, termination and payment intent digests exactly as the contracts do", async function () {
      const terms = buildTerms({
        parties: [{ account: at(hotel), shareBps: 7_000 }, { account: at(restaurant), shareBps: 3_000 }],
        referralFeeBps: 250,
        orderSigner: at(hotel),
        reserveBps: 500,
        disputeWindow: 86_400,
        refundAuthority: at(hotel),
        documentHash: hashTerms(accountTerms([at(airline)])),
      });
      const common = { chainId: f.env.chainId, registry: f.env.addresses.registry };
      const [name, version] = ((await registryRead("eip712Domain", [])) as readonly unknown[]).slice(1, 3);
      expect([name, version]).to.deep.equal(["Concord", "2"]);
      expect(await registryRead("hashTerms", [terms])).to.equal(hashTerms(terms));
      const consent = { agreementId: 7n, version: 3, terms, signer: at(chef), nonce: 2n ** 70n + 5n, deadline: 1_900_000_000n };
      expect(await registryRead("consentDigest", [7n, 3, hashTerms(terms), at(chef), consent.nonce, consent.deadline])).to.equal(
        consentDigest({ ...common, ...consent }),
      );
      expect(hashTypedData(getConsentTypedData({ ...common, ...consent }))).to.equal(consentDigest({ ...common, ...consent }));
      expect(await registryRead("terminationDigest", [7n, 3, at(chef), 9n, 1_900_000_000n])).to.equal(
        terminationDigest({ ...common, agreementId: 7n, version: 3, signer: at(chef), nonce: 9n, deadline: 1_900_000_000n }),
      );
      const payment = {
        agreementId: 7n,
        version: 3,
        token: zeroAddress,
        gross: parseEther("1.25"),
        referrer: at(airline),
        orderRef: hashTerms(terms),
        refundBeneficiary: at(stranger),
        deadline: 1_900_000_000n,
      };
      const onChain = await f.env.publicClient.readContract({
        address: f.env.addresses.ledger,
        abi: settlementLedgerAbi,
        functionName: "intentDigest",
        args: [payment],
      });
      expect(onChain).to.equal(paymentIntentDigest({ chainId: f.env.chainId, ledger: f.env.addresses.ledger, payment }));
    });
  });

  describe("activation", function () {
    let terms: Terms;
    let agreementId: bigint;
    beforeEach(async function () {
      terms = accountTerms([at(hotel), at(restaurant), at(airline)], { referralFeeBps: 500, referrers: [at(stranger)] });
      ({ agreementId } = await proposeAgreement(hotel, { terms }));
    });

    it("counts signatures and a live on-chain approval, and commits the parties root the SDK computes", async function () {
      const approved = await approveVersion(airline, { agreementId, version: 1 });
      const block = await f.env.publicClient.getBlock();
      expect(approved.party).to.equal(at(airline));
      expect(approved.expiry - block.timestamp).to.be.within(30n * 86_400n - 5n, 30n * 86_400n);
      expect(await registryRead("approvalExpiry", [agreementId, 1, at(airline)])).to.equal(approved.expiry);
      const signatures = [await signConsent(restaurant, { agreementId, version: 1, terms }), await signConsent(hotel, { agreementId, version: 1, terms })];
      const activated = await activateAgreement(stranger, { agreementId, terms, signatures });
      expect(activated.partiesRoot).to.equal(partiesRoot(terms.parties));
      expect(activated.signers).to.deep.equal([at(hotel), at(restaurant)].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
      const version = await getVersion(stranger, { agreementId, version: 1 });
      expect(version).to.include({ status: "active", partiesRoot: partiesRoot(terms.parties), depth: 0, proposer: at(hotel) });
      expect(version.terms).to.deep.equal(terms);
      expect(await getAgreement(stranger, { agreementId })).to.include({ status: "active", activeVersion: 1, referralFeeBps: 500, orderSigner: zeroAddress });
    });

    it("does not count an approval after its expiry or once revoked", async function () {
      const now = (await f.env.publicClient.getBlock()).timestamp;
      await approveVersion(airline, { agreementId, version: 1, expiry: now + 100n });
      const signatures = [await signConsent(restaurant, { agreementId, version: 1, terms }), await signConsent(hotel, { agreementId, version: 1, terms })];
      await f.env.increaseTime(200);
      const expired = await revertOf(() => activateAgreement(keeper, { agreementId, terms, signatures }));
      expect([expired.errorName, ...expired.args]).to.deep.equal(["RegistryMissingConsent", at(airline)]);
      await approveVersion(airline, { agreementId, version: 1 });
      await revokeApproval(airline, { agreementId, version: 1 });
      expect(await registryRead("approvalExpiry", [agreementId, 1, at(airline)])).to.equal(0n);
      const revoked = await revertOf(() => activateAgreement(keeper, { agreementId, terms, signatures }));
      expect([revoked.errorName, ...revoked.args]).to.deep.equal(["RegistryMissingConsent", at(airline)]);
      const late = await revertOf(() => approveVersion(airline, { agreementId, version: 1, expiry: now }));
      expect(late.errorName).to.equal("RegistryApprovalExpiryInvalid");
    });

    it("refuses a signature made by another account than the signer it names, and one from an account whose consent is not needed", async function () {
      const deadline = (await f.env.publicClient.getBlock()).timestamp + 3_600n;
      // The restaurant signs a consent that names the hotel as its signer.
      const forged = await restaurant.walletClient!.signTypedData({
        account: restaurant.walletClient!.account!,
        ...getConsentTypedData({ chainId: f.env.chainId, registry: f.env.addresses.registry, agreementId, version: 1, terms, signer: at(hotel), nonce: 1n, deadline }),
      });
      const bad = await revertOf(() =>
        activateAgreement(keeper, { agreementId, terms, signatures: [{ signer: at(hotel), nonce: 1n, deadline, signature: forged }] }),
      );
      expect([bad.errorName, ...bad.args]).to.deep.equal(["RegistryInvalidSignature", at(hotel)]);
      const all = await Promise.all([hotel, restaurant, airline, stranger].map((c) => signConsent(c, { agreementId, version: 1, terms })));
      const extra = await revertOf(() => activateAgreement(keeper, { agreementId, terms, signatures: all }));
      expect([extra.errorName, ...extra.args]).to.deep.equal(["RegistrySignerNotParty", at(stranger)]);
    });
  });

  describe("nesting", function () {
    let groupId: bigint;
    let group: Terms;
    let parent: Terms;
    let parentId: bigint;
    beforeEach(async function () {
      group = accountTerms([at(restaurant), at(chef)]);
      groupId = await proposeAndActivate(restaurant, group, [restaurant, chef]);
      parent = buildTerms({ parties: [{ account: at(hotel), shareBps: 6_000 }, { agreementId: groupId, version: 1, shareBps: 4_000 }] });
      ({ agreementId: parentId } = await proposeAgreement(hotel, { terms: parent }));
    });

    it("collects the pinned children from the events and names every member as a consenter, as the registry does", async function () {
      const children = await getNestedTerms(stranger, { terms: parent });
      expect(children).to.deep.equal([{ agreementId: groupId, version: 1, terms: group }]);
      const expected = [at(hotel), at(restaurant), at(chef)].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      expect(await getConsenters(stranger, { terms: parent })).to.deep.equal(expected);
      expect(consentersOf(parent, children)).to.deep.equal(expected);
    });

    it("activates with the consent of a nested party's members over the parent's digest, and not without it", async function () {
      const { termsHash } = await getVersion(chef, { agreementId: parentId, version: 1 });
      const hotelSig = await signConsent(hotel, { agreementId: parentId, version: 1, terms: parent });
      const restaurantSig = await signConsent(restaurant, { agreementId: parentId, version: 1, terms: parent });
      const missing = await revertOf(() => activateAgreement(keeper, { agreementId: parentId, terms: parent, signatures: [hotelSig, restaurantSig] }));
      expect([missing.errorName, ...missing.args]).to.deep.equal(["RegistryMissingConsent", at(chef)]);
      const chefSig = await signConsent(chef, { agreementId: parentId, version: 1, termsHash });
      const activated = await activateAgreement(keeper, { agreementId: parentId, terms: parent, signatures: [hotelSig, restaurantSig, chefSig] });
      expect(activated.signers).to.have.members([at(hotel), at(restaurant), at(chef)]);
      expect((await getVersion(keeper, { agreementId: parentId, version: 1 })).depth).to.equal(1);
    });

    it("lets only consenters amend, and activates an amendment with the consent of both trees", async function () {
      const sigs = await Promise.all([hotel, restaurant, chef].map((c) => signConsent(c, { agreementId: parentId, version: 1, terms: parent })));
      await activateAgreement(keeper, { agreementId: parentId, terms: parent, signatures: sigs });
      const v2 = buildTerms({ parties: [{ account: at(hotel), shareBps: 5_000 }, { agreementId: groupId, version: 1, shareBps: 5_000 }] });
      const refused = await revertOf(() => proposeAmendment(stranger, { agreementId: parentId, terms: v2 }));
      expect([refused.errorName, ...refused.args]).to.deep.equal(["RegistryUnauthorized", at(stranger)]);
      const { version } = await proposeAmendment(chef, { agreementId: parentId, terms: v2 });
      expect(version).to.equal(2);
      const signatures = await Promise.all([hotel, restaurant, chef].map((c) => signConsent(c, { agreementId: parentId, version: 2, terms: v2 })));
      const activated = await activateAmendment(keeper, { agreementId: parentId, version: 2, terms: v2, signatures });
      expect(activated.partiesRoot).to.equal(partiesRoot(v2.parties));
      expect(await getAgreement(keeper, { agreementId: parentId })).to.include({ activeVersion: 2, latestVersion: 2 });
    });

    it("terminates with termination signatures and a member's on-chain approval; a revoked approval does not count", async function () {
      const sigs = await Promise.all([hotel, restaurant, chef].map((c) => signConsent(c, { agreementId: parentId, version: 1, terms: parent })));
      await activateAgreement(keeper, { agreementId: parentId, terms: parent, signatures: sigs });
      const approval = await approveTermination(chef, { agreementId: parentId });
      expect(approval.version).to.equal(1);
      expect(await registryRead("terminationApprovalExpiry", [parentId, 1, at(chef)])).to.equal(approval.expiry);
      const signatures = await Promise.all([hotel, restaurant].map((c) => signTermination(c, { agreementId: parentId, version: 1 })));
      await revokeTerminationApproval(chef, { agreementId: parentId, version: 1 });
      const missing = await revertOf(() => terminateAgreement(keeper, { agreementId: parentId, signatures }));
      expect([missing.errorName, ...missing.args]).to.deep.equal(["RegistryMissingConsent", at(chef)]);
      await approveTermination(chef, { agreementId: parentId });
      const terminated = await terminateAgreement(keeper, { agreementId: parentId, signatures });
      expect(terminated.version).to.equal(1);
      expect(await getAgreement(keeper, { agreementId: parentId })).to.include({ status: "terminated", referralFeeBps: 0 });
    });
  });
});
