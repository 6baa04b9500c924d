import { expect } from "chai";
import { createPublicClient, http, zeroAddress, type Address } from "viem";
import {
  ContractRevertError,
  InvalidInputError,
  RpcError,
  acceptOffer,
  activateAgreement,
  activateAmendment,
  agreementRegistryAbi,
  approveTermination,
  approveVersion,
  buildTerms,
  cancelNonce,
  createConcordClient,
  getAgreement,
  getAgreementHistory,
  getAgreementsOfParty,
  getConsenters,
  getNegotiation,
  getVersion,
  hashTerms,
  openNegotiation,
  partiesRoot,
  proposeAgreement,
  proposeAmendment,
  signConsent,
  signTermination,
  simulateAndWrite,
  terminateAgreement,
  type ConcordContext,
  type Terms,
} from "../../src/sdk";
import { anvil, hardhatNode, inProcess, type SdkEnvironment } from "./environments";

async function expectRevert(promise: Promise<unknown>, errorName: string, message: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(ContractRevertError);
    expect((error as ContractRevertError).errorName).to.equal(errorName);
    expect((error as ContractRevertError).shortMessage).to.include(message);
    return;
  }
  expect.fail(`expected a revert with ${errorName}`);
}

/** The agreement, consent and negotiation scenarios, written once, for every node. */
function shouldBehaveLikeTheConcordSdk(start: () => Promise<SdkEnvironment>) {
  let env: SdkEnvironment;
  let hotel: ConcordContext, restaurant: ConcordContext, airline: ConcordContext, guest: ConcordContext, chef: ConcordContext;
  let terms: Terms;
  let agreementId: bigint;

  before(async function () {
    env = await start();
    [hotel, restaurant, airline, guest, chef] = (await Promise.all([1, 2, 3, 4, 5].map((i) => env.as(i)))) as [
      ConcordContext,
      ConcordContext,
      ConcordContext,
      ConcordContext,
      ConcordContext,
    ];
  });
  after(async function () {
    await env?.stop();
  });

  const addressOf = (c: ConcordContext) => (c.walletClient!.account as { address: Address }).address;

  it("proposes, collects consent (local and JSON-RPC signatures, an on-chain approval) and activates in one transaction", async function () {
    terms = buildTerms({
      parties: [
        { account: addressOf(hotel), shareBps: 5_000 },
        { account: addressOf(restaurant), shareBps: 3_000 },
        { account: addressOf(airline), shareBps: 2_000 },
      ],
      referralFeeBps: 500,
      orderSigner: addressOf(hotel),
      reserveBps: 1_000,
      disputeWindow: 7 * 86_400,
      refundAuthority: addressOf(hotel),
    });
    const proposed = await proposeAgreement(hotel, { terms });
    agreementId = proposed.agreementId;
    expect(proposed.termsHash).to.equal(hashTerms(terms));
    await approveVersion(airline, { agreementId, version: 1 });
    // The restaurant signs through the node (eth_signTypedData_v4), the hotel locally.
    const signatures = [
      await signConsent(await env.asJsonRpc(2), { agreementId, version: 1, terms }),
      await signConsent(hotel, { agreementId, version: 1, terms }),
    ];
    expect(signatures.map((s) => s.signer)).to.deep.equal([addressOf(restaurant), addressOf(hotel)]);
    const activated = await activateAgreement(await env.asJsonRpc(4), { agreementId, terms, signatures });
    expect(activated).to.include({ unit: 10, partiesRoot: partiesRoot(terms.parties) });
    expect(await getAgreement(guest, { agreementId })).to.include({
      status: "active",
      activeVersion: 1,
      latestVersion: 1,
      referralFeeBps: 500,
      reserveBps: 1_000,
      orderSigner: addressOf(hotel),
      unit: 10,
    });
    const history = await getAgreementHistory(guest, { agreementId });
    expect(history.map((e) => e.eventName)).to.deep.equal(["AgreementProposed", "VersionProposed", "VersionApproved", "ConsentSigned", "ConsentSigned", "VersionActivated"]);
    const memberships = await getAgreementsOfParty(guest, { account: addressOf(restaurant) });
    expect(memberships.map((m) => [m.agreementId, m.version, m.shareBps])).to.deep.equal([[agreementId, 1, 3_000]]);
  });

  it("decodes contract errors into readable errors that name the value", async function () {
    const bad = { ...terms, parties: terms.parties.map((p, i) => (i === 0 ? { ...p, shareBps: p.shareBps - 100 } : p)) };
    const raw = simulateAndWrite(hotel, { address: env.addresses.registry, abi: agreementRegistryAbi, functionName: "propose", args: [bad] });
    await expectRevert(raw, "RegistrySharesSumInvalid", "shares sum to 9,900 basis points; they must sum to 10,000");
    const fresh = await proposeAgreement(hotel, { terms });
    await expectRevert(activateAgreement(guest, { agreementId: fresh.agreementId, terms, signatures: [] }), "RegistryMissingConsent", "has not consented");
  });

  it("cancels a nonce so that its signature can no longer activate", async function () {
    const { agreementId: id } = await proposeAgreement(hotel, { terms });
    const signatures = await Promise.all([hotel, restaurant, airline].map((c) => signConsent(c, { agreementId: id, version: 1, terms })));
    const cancelled = await cancelNonce(restaurant, { nonce: signatures[1]!.nonce });
    expect(cancelled.events.map((e) => [e.eventName, e.args.owner, e.args.nonce])).to.deep.equal([["NonceCancelled", addressOf(restaurant), signatures[1]!.nonce]]);
    await expectRevert(activateAgreement(guest, { agreementId: id, terms, signatures }), "RegistryNonceUsed", `of ${addressOf(restaurant)} is already used`);
    expect((await getVersion(guest, { agreementId: id, version: 1 })).status).to.equal("proposed");
  });

  it("negotiates an amendment to agreement, then amends by consent and terminates, reporting each version's status", async function () {
    const offer = buildTerms({
      parties: [
        { account: addressOf(hotel), shareBps: 4_000 },
        { account: addressOf(restaurant), shareBps: 4_000 },
        { account: addressOf(airline), shareBps: 2_000 },
      ],
    });
    const { participants } = await openNegotiation(hotel, { agreementId, roundLimit: 2, duration: 86_400, moveTimeout: 3_600, initialOffer: offer });
    expect(participants).to.have.members([addressOf(hotel), addressOf(restaurant), addressOf(airline)]);
    for (let i = 0; i < 2; i += 1) {
      const { nextMover } = await getNegotiation(guest, { agreementId });
      await acceptOffer([hotel, restaurant, airline].find((c) => addressOf(c) === nextMover)!, { agreementId });
    }
    expect((await getAgreement(guest, { agreementId })).activeVersion).to.equal(2);
    const v3 = buildTerms({ parties: [{ account: addressOf(hotel), shareBps: 6_000 }, { account: addressOf(restaurant), shareBps: 4_000 }] });
    const { version } = await proposeAmendment(airline, { agreementId, terms: v3 });
    expect(version).to.equal(3);
    expect(await getConsenters(guest, { terms: v3 })).to.have.members([addressOf(hotel), addressOf(restaurant)]);
    const signatures = await Promise.all([hotel, restaurant, airline].map((c) => signConsent(c, { agreementId, version, terms: v3 })));
    await activateAmendment(guest, { agreementId, version, terms: v3, signatures });
    await approveTermination(restaurant, { agreementId });
    await terminateAgreement(guest, { agreementId, signatures: [await signTermination(hotel, { agreementId, version })] });
    const versions = await Promise.all([1, 2, 3].map((v) => getVersion(guest, { agreementId, version: v })));
    expect(versions.map((v) => [v.version, v.status, v.activated])).to.deep.equal([
      [1, "superseded", true],
      [2, "superseded", true],
      [3, "terminated", true],
    ]);
    // A negotiated version names the participant whose offer was agreed (here the opener, the hotel).
    expect(versions.map((v) => v.proposer)).to.deep.equal([addressOf(hotel), addressOf(hotel), addressOf(airline)]);
    try {
      await getVersion(guest, { agreementId, version: 4 });
      expect.fail("version 4 does not exist");
    } catch (error) {
      expect(error).to.be.instanceOf(InvalidInputError);
      expect((error as Error).message).to.include(`agreement ${agreementId} has no version 4`);
    }
  });

  it("binds every action to one context in a client", async function () {
    const client = await createConcordClient({ publicClient: env.publicClient, walletClient: chef.walletClient, addresses: env.addresses, chainId: env.chainId });
    const solo = buildTerms({ parties: [{ account: addressOf(chef), shareBps: 10_000 }] });
    const { agreementId: id } = await client.proposeAgreement({ terms: solo });
    await client.approveVersion({ agreementId: id, version: 1 });
    await client.revokeApproval({ agreementId: id, version: 1 });
    await expectRevert(client.activateAgreement({ agreementId: id, terms: solo, signatures: [] }), "RegistryMissingConsent", addressOf(chef));
    await client.activateAgreement({ agreementId: id, terms: solo, signatures: [await client.signConsent({ agreementId: id, version: 1, terms: solo })] });
    expect((await client.getAgreement({ agreementId: id })).status).to.equal("active");
    expect(await client.getNestedTerms({ terms: solo })).to.deep.equal([]);
  });
}

describe("SDK: agreements on every node", function () {
  this.timeout(180_000);
  describe("on the in-process Hardhat network", function () {
    shouldBehaveLikeTheConcordSdk(inProcess);
  });
  describe("on a hardhat node over HTTP", function () {
    shouldBehaveLikeTheConcordSdk(hardhatNode);
  });
  describe("on anvil over HTTP", function () {
    shouldBehaveLikeTheConcordSdk(anvil);
  });

  it("reports an unreachable node as an RpcError, not a revert", async function () {
    const publicClient = createPublicClient({ transport: http("http://127.0.0.1:9", { retryCount: 0 }) });
    const context: ConcordContext = { publicClient: publicClient as never, addresses: { registry: zeroAddress, ledger: zeroAddress }, chainId: 1 };
    try {
      await getAgreement(context, { agreementId: 1n });
      expect.fail("expected an RpcError");
    } catch (error) {
      expect(error).to.be.instanceOf(RpcError);
      expect(error).to.not.be.instanceOf(ContractRevertError);
    }
  });
});
