import { expect } from "chai";
import { decodeFunctionData, parseEther, type Address } from "viem";
import {
  ContractRevertError,
  InvalidInputError,
  agreementRegistryAbi,
  decodeEvents,
  makeOrderRef,
  negotiationHubAbi,
  prepareActivateAgreement,
  prepareApproveTermination,
  prepareApproveVersion,
  prepareCancelNonce,
  prepareClaim,
  prepareDistribute,
  prepareProposeAgreement,
  prepareProposeAmendment,
  prepareRevokeApproval,
  prepareRevokeTerminationApproval,
  prepareSettle,
  prepareTerminateAgreement,
  prepareWithdraw,
  randomSalt,
  settlementLedgerAbi,
  signConsent,
  signTermination,
  type ConcordContext,
  type PreparedCall,
  type Terms,
} from "../../src/sdk";
import { accountTerms, concordFixture, type ConcordFixture } from "./fixtures";
import { addressOf, failure } from "./settlementHelpers";

const ABIS = [...agreementRegistryAbi, ...settlementLedgerAbi, ...negotiationHubAbi];

/** Sends a prepared call as a plain transaction from `context`'s account, as any wallet would; returns the decoded Concord events. */
async function execute(f: ConcordFixture, context: ConcordContext, call: PreparedCall) {
  const wallet = context.walletClient!;
  const hash = await wallet.sendTransaction({ to: call.to, data: call.data, value: call.value, account: wallet.account!, chain: wallet.chain });
  const receipt = await f.env.publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status).to.equal("success");
  return decodeEvents(ABIS, receipt.logs, call.to);
}

describe("SDK: prepared calls", function () {
  let f: ConcordFixture;
  let hotel: ConcordContext, restaurant: ConcordContext, customer: ConcordContext, stranger: ConcordContext;
  let terms: Terms;

  beforeEach(async function () {
    f = await concordFixture();
    [, hotel, restaurant, , , customer, , , stranger] = f.contexts as ConcordContext[] as [
      ConcordContext, ConcordContext, ConcordContext, ConcordContext, ConcordContext, ConcordContext, ConcordContext, ConcordContext, ConcordContext,
    ];
    terms = accountTerms([addressOf(hotel), addressOf(restaurant)]);
  });

  it("each prepared call, sent as a plain transaction, does what the action does: the whole life of an agreement", async function () {
    let agreementId = 0n;
    // [who sends, the prepared call, the event it must emit, a check of its arguments]
    const steps: [string, ConcordContext, () => Promise<PreparedCall>, string, (args: Record<string, unknown>) => void][] = [
      ["propose", hotel, () => prepareProposeAgreement(hotel, { terms }), "VersionProposed", (a) => (agreementId = a.agreementId as bigint)],
      ["approve", restaurant, () => prepareApproveVersion(restaurant, { agreementId, version: 1 }), "VersionApproved", (a) => expect(a.party).to.equal(addressOf(restaurant))],
      ["revoke", restaurant, () => prepareRevokeApproval(restaurant, { agreementId, version: 1 }), "ApprovalRevoked", (a) => expect(a.party).to.equal(addressOf(restaurant))],
      ["approve again", restaurant, () => prepareApproveVersion(restaurant, { agreementId, version: 1 }), "VersionApproved", () => undefined],
      [
        "activate",
        stranger,
        async () => prepareActivateAgreement(stranger, { agreementId, terms, signatures: [await signConsent(hotel, { agreementId, version: 1, terms })] }),
        "VersionActivated",
        (a) => expect(a.version).to.equal(1),
      ],
      [
        "settle",
        customer,
        () => prepareSettle(customer, { payment: { agreementId, version: 1, gross: parseEther("1"), orderRef: makeOrderRef({ orderId: "P-1", salt: randomSalt() }) } }),
        "Settled",
        (a) => expect(a.gross).to.equal(parseEther("1")),
      ],
      ["distribute", stranger, () => prepareDistribute(stranger, { agreementId, version: 1 }), "Distributed", () => undefined],
      ["claim (nothing new owed)", stranger, () => prepareClaim(stranger, { agreementId, version: 1, partyIndex: 0 }), "", () => undefined],
      ["withdraw", hotel, () => prepareWithdraw(hotel, { to: addressOf(stranger) }), "Withdrawn", (a) => expect(a.to).to.equal(addressOf(stranger))],
      ["cancel a nonce", hotel, () => prepareCancelNonce(hotel, { nonce: 77n }), "NonceCancelled", (a) => expect(a.nonce).to.equal(77n)],
      [
        "propose an amendment",
        restaurant,
        () => prepareProposeAmendment(restaurant, { agreementId, terms: accountTerms([addressOf(restaurant), addressOf(hotel)].sort()) }),
        "VersionProposed",
        (a) => expect(a.version).to.equal(2),
      ],
      ["approve termination", restaurant, () => prepareApproveTermination(restaurant, { agreementId }), "TerminationApproved", () => undefined],
      ["revoke it", restaurant, () => prepareRevokeTerminationApproval(restaurant, { agreementId, version: 1 }), "TerminationApprovalRevoked", () => undefined],
      [
        "terminate",
        stranger,
        async () =>
          prepareTerminateAgreement(stranger, {
            agreementId,
            signatures: await Promise.all([hotel, restaurant].map((c) => signTermination(c, { agreementId, version: 1 }))),
          }),
        "AgreementTerminated",
        (a) => expect(a.version).to.equal(1),
      ],
    ];
    for (const [name, sender, prepare, eventName, check] of steps) {
      const call = await prepare();
      expect(call.description, name).to.be.a("string").and.not.equal("");
      const abi = call.to === f.env.addresses.ledger ? settlementLedgerAbi : agreementRegistryAbi;
      expect(() => decodeFunctionData({ abi, data: call.data }), name).not.to.throw();
      const events = await execute(f, sender, call);
      if (!eventName) continue;
      const event = events.find((e) => e.eventName === eventName);
      expect(event, `${name} emits ${eventName}`).to.not.equal(undefined);
      check(event!.args);
    }
  });

  it("plans for an address with no key (the wallet's own), and describes the call in words", async function () {
    const wallet: Address = addressOf(stranger);
    const planner: ConcordContext = { ...hotel, walletClient: undefined, account: wallet };
    const call = await prepareApproveVersion(planner, { agreementId: 1n, version: 1, expiry: 2_000_000_000n }, { simulate: false });
    expect(call.to).to.equal(f.env.addresses.registry);
    expect(call.value).to.equal(0n);
    expect(call.description).to.equal("approve version 1 of agreement 1, until 2000000000");
    const decoded = decodeFunctionData({ abi: agreementRegistryAbi, data: call.data });
    expect([decoded.functionName, decoded.args]).to.deep.equal(["approve", [1n, 1, 2_000_000_000n]]);
  });

  it("simulates from the sender first: a call the contracts refuse fails before anyone signs, naming the value", async function () {
    const planner: ConcordContext = { ...hotel, walletClient: undefined, account: addressOf(stranger) };
    const error = await failure(() => prepareWithdraw(planner, { amount: 5n }), ContractRevertError);
    expect(error.errorName).to.equal("LedgerInsufficientBalance");
    expect(error.message).to.contain(addressOf(stranger)).and.contain("cannot withdraw 5");
    // without simulation the call is still prepared (a batch whose earlier call funds it)
    const unchecked = await prepareWithdraw(planner, { amount: 5n }, { simulate: false });
    expect(unchecked.description).to.contain("withdraw 5 wei of ETH");
    const none = await failure(() => prepareWithdraw({ ...hotel, walletClient: undefined, account: undefined }, { amount: 1n }), InvalidInputError);
    expect(none.message).to.contain("give the context an account (for a contract wallet");
  });
});
