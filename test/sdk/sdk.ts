import { expect } from "chai";
import { parseEther, zeroAddress, createPublicClient, http, type Address } from "viem";
import {
  ContractRevertError,
  InvalidInputError,
  RpcError,
  activateAgreement,
  activateAmendment,
  approveTermination,
  approveVersion,
  buildTerms,
  createConcordClient,
  distribute,
  getAgreement,
  getAgreementHistory,
  getAgreementsOfParty,
  getBalance,
  getConcordEvents,
  getRiskCounters,
  getSettlementRecord,
  getVersion,
  hashTerms,
  makeOrderRef,
  proposeAgreement,
  proposeAmendment,
  quoteSettlement,
  randomSalt,
  refund,
  releaseReserve,
  settle,
  settleWithPermit,
  signConsent,
  signTermination,
  simulateAndWrite,
  agreementRegistryAbi,
  settlementLedgerAbi,
  terminateAgreement,
  watchSettlements,
  withdraw,
  type ConcordContext,
  type Terms,
} from "../../src/sdk";
import { anvil, hardhatNode, inProcess, type SdkEnvironment } from "./environments";

const DAY = 86_400;

/** The same scenarios, written once, for every node. */
function shouldBehaveLikeTheConcordSdk(start: () => Promise<SdkEnvironment>) {
  let env: SdkEnvironment;
  let hotel: ConcordContext, restaurant: ConcordContext, airline: ConcordContext, guest: ConcordContext, travelSite: ConcordContext;
  let terms: Terms;
  let agreementId: bigint;

  before(async function () {
    env = await start();
    [hotel, restaurant, airline, guest, travelSite] = (await Promise.all([1, 2, 3, 4, 5].map((i) => env.as(i)))) as [
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

  it("proposes, collects consent (signatures and an on-chain approval) and activates in one transaction", async function () {
    terms = buildTerms({
      parties: [
        { account: addressOf(hotel), shareBps: 5_000 },
        { account: addressOf(restaurant), shareBps: 3_000 },
        { account: addressOf(airline), shareBps: 2_000 },
      ],
      referralFeeBps: 500,
      reserveBps: 1_000,
      disputeWindow: 7 * DAY,
      refundAuthority: addressOf(hotel),
    });
    const proposed = await proposeAgreement(hotel, { terms });
    agreementId = proposed.agreementId;
    expect(proposed.termsHash).to.equal(hashTerms(terms));
    await approveVersion(airline, { agreementId, version: 1 });
    const signatures = [
      await signConsent(restaurant, { agreementId, version: 1, terms }),
      await signConsent(hotel, { agreementId, version: 1, terms }),
    ];
    const activated = await activateAgreement(guest, { agreementId, terms, signatures });
    expect(activated.unit).to.equal(10);
    const agreement = await getAgreement(guest, { agreementId });
    expect(agreement).to.include({ status: "active", activeVersion: 1, latestVersion: 1, referralFeeBps: 500, reserveBps: 1_000 });
    const version = await getVersion(guest, { agreementId, version: 1 });
    expect(version.terms.parties.map((p) => p.shareBps)).to.deep.equal(terms.parties.map((p) => p.shareBps));
    expect(version.activated).to.equal(true);
    const history = await getAgreementHistory(guest, { agreementId });
    expect(history.map((e) => e.eventName)).to.deep.equal([
      "AgreementProposed",
      "VersionProposed",
      "VersionApproved",
      "ConsentSigned",
      "ConsentSigned",
      "VersionActivated",
    ]);
    const memberships = await getAgreementsOfParty(guest, { account: addressOf(restaurant) });
    expect(memberships.map((m) => [m.agreementId, m.version, m.shareBps])).to.deep.equal([[agreementId, 1, 3_000]]);
  });

  it("quotes exactly what a settlement credits, settles ETH with a referrer and an ERC-20 with a permit", async function () {
    const gross = parseEther("1.5");
    const quote = await quoteSettlement(guest, { agreementId, gross, referrer: addressOf(travelSite) });
    const orderRef = makeOrderRef({ orderId: "BKG-1001", salt: randomSalt() });
    const { settled } = await settle(guest, { agreementId, gross, referrer: addressOf(travelSite), orderRef });
    expect(settled.referralFee).to.equal(quote.referralFee);
    expect(settled.reserve).to.equal(quote.reserve);
    const hotelBalance = await getBalance(guest, { account: addressOf(hotel) });
    const hotelQuote = quote.parties.find((p) => p.account === addressOf(hotel))!;
    expect(hotelBalance.claimable).to.equal(hotelQuote.credit);
    expect((await getBalance(guest, { account: addressOf(travelSite), includeClaimable: false })).balance).to.equal(quote.referralFee);

    const usd = await env.deploy("MockERC20", ["Stable USD", "sUSD", 6]);
    await env.publicClient.waitForTransactionReceipt({
      hash: await guest.walletClient!.writeContract({
        address: usd,
        abi: [{ type: "function", name: "mint", inputs: [{ type: "address" }, { type: "uint256" }], outputs: [], stateMutability: "nonpayable" }],
        functionName: "mint",
        args: [addressOf(guest), 1_000_000_000n],
        account: guest.walletClient!.account!,
        chain: guest.walletClient!.chain,
      }),
    });
    const usdRef = makeOrderRef({ orderId: "BKG-1002", salt: randomSalt() });
    const usdSettled = await settleWithPermit(guest, { agreementId, token: usd, gross: 250_000_000n, orderRef: usdRef });
    expect(usdSettled.settled).to.include({ gross: 250_000_000n, referralFee: 0n, reserve: 25_000_000n, token: usd });
    const risk = await getRiskCounters(guest, { agreementId, token: usd });
    expect(risk).to.deep.equal({ settledVolume: 250_000_000n, settledCount: 1n, refundCount: 0n, refundedVolume: 0n });
  });

  it("refunds inside the window, releases after it, distributes and withdraws", async function () {
    const a = makeOrderRef({ orderId: "BKG-2001", salt: randomSalt() });
    const b = makeOrderRef({ orderId: "BKG-2002", salt: randomSalt() });
    await settle(guest, { agreementId, gross: 1_000_000n, orderRef: a });
    await settle(guest, { agreementId, gross: 2_000_000n, orderRef: b });
    const refunded = await refund(hotel, { orderRef: a, amount: 40_000n });
    expect(refunded.remainingReserve).to.equal(60_000n);
    expect((await getSettlementRecord(guest, { orderRef: a })).record.reserve).to.equal(60_000n);
    await env.increaseTime(7 * DAY + 1);
    const released = await releaseReserve(guest, { orderRef: b });
    expect(released.amount).to.equal(200_000n);
    expect((await getSettlementRecord(guest, { orderRef: b })).state).to.equal("closed");
    await releaseReserve(guest, { orderRef: a });
    await distribute(guest, { agreementId, version: 1 });
    const before = await getBalance(guest, { account: addressOf(restaurant) });
    expect(before.claimable).to.equal(0n);
    const out = await withdraw(restaurant, {});
    expect(out.amount).to.equal(before.balance);
    expect((await getBalance(guest, { account: addressOf(restaurant), includeClaimable: false })).balance).to.equal(0n);
    const refundBack = await withdraw(guest, {});
    expect(refundBack.amount).to.equal(40_000n);
  });

  it("amends with the consent of old and new parties, and terminates", async function () {
    const v2 = buildTerms({
      parties: [
        { account: addressOf(hotel), shareBps: 6_000 },
        { account: addressOf(restaurant), shareBps: 4_000 },
      ],
    });
    const { version } = await proposeAmendment(hotel, { agreementId, terms: v2 });
    const signers = [hotel, restaurant, airline];
    const signatures = await Promise.all(signers.map((c) => signConsent(c, { agreementId, version, terms: v2 })));
    await activateAmendment(guest, { agreementId, version, terms: v2, currentTerms: terms, signatures });
    expect((await getAgreement(guest, { agreementId })).activeVersion).to.equal(version);
    await approveTermination(restaurant, { agreementId });
    const termination = [await signTermination(hotel, { agreementId, version })];
    await terminateAgreement(guest, { agreementId, currentTerms: v2, signatures: termination });
    expect((await getAgreement(guest, { agreementId })).status).to.equal("terminated");
  });

  it("decodes contract errors into readable errors that name the value", async function () {
    const bad = { ...terms, parties: terms.parties.map((p, i) => (i === 0 ? { ...p, shareBps: p.shareBps - 100 } : p)) };
    expect(() => buildTerms({ parties: bad.parties.map((p) => ({ account: p.account, shareBps: p.shareBps })) })).to.throw(
      InvalidInputError,
      "shares sum to 9,900 basis points; they must sum to 10,000",
    );
    const raw = simulateAndWrite(hotel, { address: env.addresses.registry, abi: agreementRegistryAbi, functionName: "propose", args: [bad] });
    await expectRevert(raw, "RegistrySharesSumInvalid", "shares sum to 9,900 basis points; they must sum to 10,000");

    const fresh = await proposeAgreement(hotel, { terms });
    await expectRevert(
      activateAgreement(guest, { agreementId: fresh.agreementId, terms, signatures: [] }),
      "RegistryMissingConsent",
      "has not consented",
    );
    const signatures = await Promise.all([hotel, restaurant, airline].map((c) => signConsent(c, { agreementId: fresh.agreementId, version: 1, terms })));
    await activateAgreement(guest, { agreementId: fresh.agreementId, terms, signatures });
    const orderRef = makeOrderRef({ orderId: "BKG-3001", salt: randomSalt() });
    await expectRevert(
      settle(guest, { agreementId: fresh.agreementId, gross: 1_000n, orderRef, referrer: addressOf(guest) }),
      "LedgerSelfReferral",
      "cannot be its own referrer",
    );
    await settle(guest, { agreementId: fresh.agreementId, gross: 1_000n, orderRef });
    await expectRevert(settle(guest, { agreementId: fresh.agreementId, gross: 1_000n, orderRef }), "LedgerOrderAlreadySettled", "already settled");
    await expectRevert(withdraw(airline, { amount: 10n ** 30n }), "LedgerInsufficientBalance", "cannot withdraw 1,000,000,000,000,000,000,000,000,000,000");
  });

  it("reads events in chunks without losing or reordering any, and watches new settlements", async function () {
    const whole = await getConcordEvents(guest, { chunkSize: 100_000n });
    const paged = await getConcordEvents(guest, { chunkSize: 3n });
    expect(paged.length).to.be.greaterThan(15);
    expect(paged.map((e) => `${e.blockNumber}:${e.logIndex}:${e.eventName}`)).to.deep.equal(
      whole.map((e) => `${e.blockNumber}:${e.logIndex}:${e.eventName}`),
    );
    const client = await createConcordClient({ publicClient: env.publicClient, walletClient: guest.walletClient, addresses: env.addresses });
    const fresh = await proposeAgreement(hotel, { terms });
    const signatures = await Promise.all([hotel, restaurant, airline].map((c) => signConsent(c, { agreementId: fresh.agreementId, version: 1, terms })));
    await client.activateAgreement({ agreementId: fresh.agreementId, terms, signatures });
    const seen: string[] = [];
    const unwatch = client.watchSettlements({ onSettlement: (e) => seen.push(e.args.orderRef as string), pollingInterval: 50 });
    await new Promise((r) => setTimeout(r, 200));
    const orderRef = makeOrderRef({ orderId: "BKG-4001", salt: randomSalt() });
    await client.settle({ agreementId: fresh.agreementId, gross: 5_000n, orderRef });
    const deadline = Date.now() + 10_000;
    while (!seen.includes(orderRef) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    unwatch();
    expect(seen).to.deep.equal([orderRef]);
  });
}

async function expectRevert(promise: Promise<unknown>, errorName: string, message: string) {
  try {
    await promise;
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(ContractRevertError);
    expect((error as ContractRevertError).errorName).to.equal(errorName);
    expect((error as ContractRevertError).shortMessage).to.include(message);
    return;
  }
  expect.fail(`expected a revert with ${errorName}`);
}

describe("SDK", function () {
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
