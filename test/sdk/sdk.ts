import { expect } from "chai";
import { createPublicClient, custom, erc20Abi, hashTypedData, http, parseAbi, parseEther, zeroAddress, type Address, type Hex, type PublicClient } from "viem";
import {
  ContractRevertError,
  InvalidInputError,
  RpcError,
  activateAgreement,
  activateAmendment,
  approveTermination,
  approveVersion,
  cancelNonce,
  claim,
  getConsentTypedData,
  getTerminationTypedData,
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
  type SettlementEvent,
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

  it("signs typed data whose digests are the registry's own, with local and JSON-RPC accounts alike", async function () {
    const fresh = await proposeAgreement(hotel, { terms });
    const id = fresh.agreementId;
    const read = { address: env.addresses.registry, abi: agreementRegistryAbi } as const;
    expect(await env.publicClient.readContract({ ...read, functionName: "hashTerms", args: [terms] })).to.equal(hashTerms(terms));
    const consent = getConsentTypedData({ chainId: env.chainId, registry: env.addresses.registry, agreementId: id, version: 1, terms, nonce: 7n, deadline: 2n ** 40n });
    expect(await env.publicClient.readContract({ ...read, functionName: "consentDigest", args: [id, 1, hashTerms(terms), 7n, 2n ** 40n] })).to.equal(
      hashTypedData(consent),
    );
    const termination = getTerminationTypedData({ chainId: env.chainId, registry: env.addresses.registry, agreementId: id, version: 1, nonce: 8n, deadline: 2n ** 40n });
    expect(await env.publicClient.readContract({ ...read, functionName: "terminationDigest", args: [id, 1, 8n, 2n ** 40n] })).to.equal(
      hashTypedData(termination),
    );
    // The restaurant and the airline sign through the node (JSON-RPC accounts), the hotel locally.
    const [restaurantRpc, airlineRpc] = await Promise.all([env.asJsonRpc(2), env.asJsonRpc(3)]);
    const signatures = [
      await signConsent(restaurantRpc, { agreementId: id, version: 1, terms }),
      await signConsent(airlineRpc, { agreementId: id, version: 1, terms }),
      await signConsent(hotel, { agreementId: id, version: 1, terms }),
    ];
    expect(signatures.map((x) => x.signer)).to.deep.equal([addressOf(restaurant), addressOf(airline), addressOf(hotel)]);
    const activated = await activateAgreement(await env.asJsonRpc(4), { agreementId: id, terms, signatures });
    expect(activated.signers).to.deep.equal([...activated.signers].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
    expect(activated.signers).to.have.members(signatures.map((x) => x.signer));
    const orderRef = makeOrderRef({ orderId: "BKG-5001", salt: randomSalt() });
    const { settled } = await settle(await env.asJsonRpc(4), { agreementId: id, gross: 10_000n, orderRef });
    expect(settled).to.include({ payer: addressOf(guest), gross: 10_000n, orderRef });
  });

  it("cancels a nonce so that its signature can no longer activate", async function () {
    const fresh = await proposeAgreement(hotel, { terms });
    const id = fresh.agreementId;
    const signatures = await Promise.all([hotel, restaurant, airline].map((c) => signConsent(c, { agreementId: id, version: 1, terms })));
    const cancelled = await cancelNonce(restaurant, { nonce: signatures[1]!.nonce });
    expect(cancelled.events.map((e) => [e.eventName, e.args.owner, e.args.nonce])).to.deep.equal([
      ["NonceCancelled", addressOf(restaurant), signatures[1]!.nonce],
    ]);
    await expectRevert(activateAgreement(guest, { agreementId: id, terms, signatures }), "RegistryNonceUsed", `of ${addressOf(restaurant)} is already used`);
    expect((await getVersion(guest, { agreementId: id, version: 1 })).status).to.equal("proposed");
  });

  it("settles an ERC-20 only with an allowance: refuses a short one, approves when asked, then claims party by party", async function () {
    const fresh = await proposeAgreement(hotel, { terms });
    const id = fresh.agreementId;
    await activateAgreement(guest, {
      agreementId: id,
      terms,
      signatures: await Promise.all([hotel, restaurant, airline].map((c) => signConsent(c, { agreementId: id, version: 1, terms }))),
    });
    const usd = await env.deploy("MockERC20", ["Euro Coin", "EURC", 6]);
    await env.publicClient.waitForTransactionReceipt({
      hash: await guest.walletClient!.writeContract({
        address: usd,
        abi: parseAbi(["function mint(address to, uint256 amount)"]),
        functionName: "mint",
        args: [addressOf(guest), 10_000_000n],
        account: guest.walletClient!.account!,
        chain: guest.walletClient!.chain,
      }),
    });
    const orderRef = makeOrderRef({ orderId: "BKG-6001", salt: randomSalt() });
    try {
      await settle(guest, { agreementId: id, token: usd, gross: 1_000_000n, orderRef });
      expect.fail("a short allowance should be refused");
    } catch (error) {
      expect(error).to.be.instanceOf(InvalidInputError);
      expect((error as InvalidInputError).shortMessage).to.include(`may spend 0 of token ${usd}`).and.include("needs 1000000");
    }
    const { settled } = await settle(guest, { agreementId: id, token: usd, gross: 1_000_000n, orderRef, approve: true });
    const quote = await quoteSettlement(guest, { agreementId: id, gross: 1_000_000n });
    expect(settled).to.include({ token: usd, gross: 1_000_000n, reserve: quote.reserve, referralFee: 0n });
    const hotelIndex = terms.parties.findIndex((p) => p.account === addressOf(hotel));
    const owed = await getBalance(guest, { account: addressOf(hotel), token: usd });
    expect(owed.shares.map((x) => [x.agreementId, x.partyIndex, x.amount])).to.deep.equal([[id, hotelIndex, quote.credits[hotelIndex]!]]);
    const claimed = await claim(guest, { agreementId: id, version: 1, token: usd, partyIndex: hotelIndex });
    expect(claimed.credits).to.deep.equal([{ partyIndex: hotelIndex, account: addressOf(hotel), childAgreementId: 0n, amount: quote.credits[hotelIndex]! }]);
    const after = await getBalance(guest, { account: addressOf(hotel), token: usd });
    expect(after).to.include({ balance: quote.credits[hotelIndex]!, claimable: 0n });
    const distributed = await distribute(guest, { agreementId: id, version: 1, token: usd });
    expect(distributed.credits.map((c) => c.partyIndex).sort()).to.deep.equal(terms.parties.map((_, i) => i).filter((i) => i !== hotelIndex));
    const out = await withdraw(hotel, { token: usd, to: addressOf(travelSite) });
    expect(out).to.include({ amount: quote.credits[hotelIndex]!, to: addressOf(travelSite) });
    expect(await env.publicClient.readContract({ address: usd, abi: erc20Abi, functionName: "balanceOf", args: [addressOf(travelSite)] })).to.equal(
      quote.credits[hotelIndex]!,
    );
  });

  it("reports each version's status through amendment and termination", async function () {
    const versions = await Promise.all([1, 2].map((version) => getVersion(guest, { agreementId, version })));
    expect(versions.map((v) => [v.version, v.status, v.activated])).to.deep.equal([
      [1, "superseded", true],
      [2, "terminated", true],
    ]);
    expect(versions[1]!.terms.parties.map((p) => [p.account, p.shareBps])).to.have.deep.members([
      [addressOf(hotel), 6_000],
      [addressOf(restaurant), 4_000],
    ]);
    try {
      await getVersion(guest, { agreementId, version: 3 });
      expect.fail("version 3 does not exist");
    } catch (error) {
      expect(error).to.be.instanceOf(InvalidInputError);
      expect((error as Error).message).to.include(`agreement ${agreementId} has no version 3`);
    }
  });

  it("pages eth_getLogs in ranges of at most chunkSize blocks, clamped to the head, across chunk boundaries", async function () {
    const ranges: Array<[bigint, bigint]> = [];
    const counting = custom({
      request: async ({ method, params }: { method: string; params?: unknown }) => {
        if (method === "eth_getLogs") {
          const [filter] = params as [{ fromBlock: Hex; toBlock: Hex }];
          ranges.push([BigInt(filter.fromBlock), BigInt(filter.toBlock)]);
        }
        return env.publicClient.request({ method, params } as never);
      },
    });
    const publicClient = createPublicClient({ transport: counting }) as unknown as PublicClient;
    const context: ConcordContext = { ...guest, publicClient, walletClient: undefined };
    const head = await env.publicClient.getBlockNumber({ cacheTime: 0 });
    const whole = await getConcordEvents(guest, { events: ["Settled"], chunkSize: 1_000_000n });
    for (const chunkSize of [1n, 2n, 5n, 7n]) {
      ranges.length = 0;
      const paged = await getConcordEvents(context, { events: ["Settled"], fromBlock: 0n, toBlock: head + 1_000n, chunkSize });
      expect(paged.map((e) => `${e.blockNumber}:${e.transactionIndex}:${e.logIndex}`)).to.deep.equal(
        whole.map((e) => `${e.blockNumber}:${e.transactionIndex}:${e.logIndex}`),
      );
      // Typed by name: gross is a bigint, orderRef a hex string.
      const total: bigint = paged.reduce((sum, e) => sum + e.args.gross, 0n);
      expect(total).to.equal(whole.reduce((sum, e) => sum + e.args.gross, 0n));
      expect(ranges.length).to.equal(Number((head + chunkSize) / chunkSize));
      for (const [from, to] of ranges) {
        expect(to - from + 1n).to.be.at.most(chunkSize);
        expect(to).to.be.at.most(head);
      }
      // Consecutive, no gap, no overlap: [0, head] covered exactly once.
      ranges.forEach(([from], i) => expect(from).to.equal(i === 0 ? 0n : ranges[i - 1]![1] + 1n));
      expect(ranges[ranges.length - 1]![1]).to.equal(head);
    }
    const history = await getAgreementHistory(context, { agreementId, chunkSize: 3n });
    expect(history[0]!.eventName).to.equal("AgreementProposed");
    expect(history[history.length - 1]!.eventName).to.equal("AgreementTerminated");
  });

  it("stops reporting settlements once unwatched", async function () {
    const client = await createConcordClient({ publicClient: env.publicClient, walletClient: guest.walletClient, addresses: env.addresses, chainId: env.chainId });
    const fresh = await proposeAgreement(hotel, { terms });
    const signatures = await Promise.all([hotel, restaurant, airline].map((c) => signConsent(c, { agreementId: fresh.agreementId, version: 1, terms })));
    await client.activateAgreement({ agreementId: fresh.agreementId, terms, signatures });
    const seen: SettlementEvent[] = [];
    const unwatch = client.watchSettlements({ onSettlement: (e) => seen.push(e), pollingInterval: 25 });
    const first = makeOrderRef({ orderId: "BKG-7001", salt: randomSalt() });
    await client.settle({ agreementId: fresh.agreementId, gross: 3_000n, orderRef: first });
    const deadline = Date.now() + 10_000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    unwatch();
    await client.settle({ agreementId: fresh.agreementId, gross: 4_000n, orderRef: makeOrderRef({ orderId: "BKG-7002", salt: randomSalt() }) });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.map((e) => [e.args.orderRef, e.args.gross])).to.deep.equal([[first, 3_000n]]);
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
