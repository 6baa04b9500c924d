import { expect } from "chai";
import { createWalletClient, parseAbi, parseEther, type Address, type LocalAccount } from "viem";
import { verify } from "../../src/audit";
import {
  ContractRevertError,
  InvalidInputError,
  RpcError,
  WalletSignatureRefusedError,
  activateAgreement,
  activateAmendment,
  buildTerms,
  checkWalletSignature,
  contractWallet,
  combineSafeSignatures,
  consentDigest,
  executeSafeTransaction,
  getBalance,
  makeOrderRef,
  prepareCancelNonce,
  prepareClaim,
  prepareWithdraw,
  proposeAgreement,
  proposeAmendment,
  randomSalt,
  safeWallet,
  settle,
  settlementLedgerAbi,
  signConsent,
  signTermination,
  terminateAgreement,
  type ConcordContext,
  type Terms,
} from "../../src/sdk";
import { createSafe, deploySafeContracts } from "../helpers/safe";
import { hardhatNode, inProcess, type SdkEnvironment } from "./environments";
import { failure } from "./settlementHelpers";

/** A 2-of-3 Safe as one party of three: consent, amendment, withdrawals and termination, written once for every node. */
function shouldTreatASafeAsAPartner(start: () => Promise<SdkEnvironment>) {
  let env: SdkEnvironment;
  let hotel: ConcordContext, restaurant: ConcordContext, customer: ConcordContext;
  let owners: [LocalAccount, LocalAccount, LocalAccount];
  let safe: Address, treasury: Address;
  /** The Safe's own context: its address as the account, no key (calls are prepared for it, never sent from it). */
  let asSafe: ConcordContext;
  let terms: Terms;
  let agreementId: bigint;

  const addressOf = (c: ConcordContext) => (c.walletClient!.account as { address: Address }).address;
  const ledgerBalance = (account: Address) =>
    env.publicClient.readContract({ address: env.addresses.ledger, abi: settlementLedgerAbi, functionName: "balanceOf", args: [account, "0x0000000000000000000000000000000000000000"] });

  before(async function () {
    env = await start();
    [hotel, restaurant, customer] = (await Promise.all([1, 2, 3].map((i) => env.as(i)))) as [ConcordContext, ConcordContext, ConcordContext];
    owners = [env.accounts[6], env.accounts[7], env.accounts[8]] as [LocalAccount, LocalAccount, LocalAccount];
    treasury = env.accounts[9]!.address;
    const contracts = await deploySafeContracts(env, env.accounts[0]!);
    safe = await createSafe(env, env.accounts[0]!, contracts, { owners: owners.map((o) => o.address), threshold: 2 });
    asSafe = { ...hotel, walletClient: undefined, account: safe };
    terms = buildTerms({
      parties: [
        { account: addressOf(hotel), shareBps: 5_000 },
        { account: addressOf(restaurant), shareBps: 3_000 },
        { account: safe, shareBps: 2_000 },
      ],
    });
  });
  after(async function () {
    await env?.stop();
  });

  it("consents to activation through two of its three owners: the signature names the Safe, and the registry takes it", async function () {
    ({ agreementId } = await proposeAgreement(hotel, { terms }));
    const wallet = safeWallet({ address: safe, owners: [owners[0], owners[1]] });
    const byTheSafe = await signConsent(hotel, { agreementId, version: 1, terms, wallet });
    expect(byTheSafe.signer).to.equal(safe);
    const signatures = [byTheSafe, ...(await Promise.all([hotel, restaurant].map((c) => signConsent(c, { agreementId, version: 1, terms }))))];
    const activated = await activateAgreement(customer, { agreementId, terms, signatures });
    expect(activated.signers).to.have.members([safe, addressOf(hotel), addressOf(restaurant)]);
  });

  it("refuses one owner alone before anything is submitted, naming the Safe and its reason (below its threshold)", async function () {
    const error = await failure(
      () => signConsent(hotel, { agreementId, version: 1, terms, wallet: safeWallet({ address: safe, owners: [owners[2]] }) }),
      WalletSignatureRefusedError,
    );
    expect(error.wallet).to.equal(safe);
    expect(error.message).to.equal(`the wallet ${safe} refused the signature: GS020: fewer owner signatures than its threshold (the signatures are too short)`);
    // an owner's own key is not the Safe: the Safe's address as a plain account cannot sign, and says why
    const keyless: ConcordContext = { ...hotel, walletClient: createWalletClient({ account: safe, chain: hotel.walletClient!.chain, transport: env.transport }), account: undefined };
    const contract = await failure(() => signConsent(keyless, { agreementId, version: 1, terms }), InvalidInputError);
    expect(contract.message).to.contain(`${safe} is a contract`).and.contain("wallet: safeWallet(");
  });

  it("lets owners sign offline with the same nonce and deadline; their parts combine into the Safe's signature", async function () {
    const [nonce, deadline] = [42n, 4_000_000_000n];
    const parts = await Promise.all(
      [owners[2], owners[0]].map(async (owner) => ({
        owner: owner.address,
        signature: (await signConsent(hotel, { agreementId, version: 1, terms, nonce, deadline, wallet: safeWallet({ address: safe, owners: [owner] }), check: false })).signature,
      })),
    );
    const digest = consentDigest({ chainId: env.chainId, registry: env.addresses.registry, agreementId, version: 1, terms, signer: safe, nonce, deadline });
    await checkWalletSignature(hotel, { wallet: safe, digest, signature: combineSafeSignatures(parts) });
    const twice = await failure(async () => combineSafeSignatures([parts[0]!, parts[0]!]), InvalidInputError);
    expect(twice.message).to.equal(`owner ${owners[2].address} signed twice`);
  });

  it("consents to an amendment, with another pair of owners", async function () {
    const amended = buildTerms({ parties: terms.parties.map((p, i) => ({ account: p.account, shareBps: [4_000, 3_000, 3_000][i]! })) });
    const { version } = await proposeAmendment(restaurant, { agreementId, terms: amended });
    const others = await Promise.all([hotel, restaurant].map((c) => signConsent(c, { agreementId, version, terms: amended })));
    // one owner's part alone, unchecked: the registry refuses it, and the SDK asks the Safe why
    const alone = await signConsent(customer, { agreementId, version, terms: amended, wallet: safeWallet({ address: safe, owners: [owners[1]] }), check: false });
    const refused = await failure(() => activateAmendment(customer, { agreementId, version, terms: amended, signatures: [alone, ...others] }), WalletSignatureRefusedError);
    expect(refused.message).to.equal(`the wallet ${safe} refused the signature: GS020: fewer owner signatures than its threshold (the signatures are too short)`);
    const wallet = safeWallet({ address: safe, owners: [owners[1], owners[2]] });
    const signatures = [
      await signConsent(customer, { agreementId, version, terms: amended, wallet }),
      ...(await Promise.all([hotel, restaurant].map((c) => signConsent(c, { agreementId, version, terms: amended })))),
    ];
    const activated = await activateAmendment(customer, { agreementId, version, terms: amended, signatures });
    expect(activated.signers).to.include(safe);
    terms = amended;
  });

  it("claims and withdraws through the Safe's own transactions: prepared calls pay the Safe and a third address", async function () {
    const gross = parseEther("2");
    await settle(customer, { payment: { agreementId, version: 2, gross, orderRef: makeOrderRef({ orderId: "SAFE-1", salt: randomSalt() }) } });
    const safeIndex = terms.parties.findIndex((p) => p.account === safe);
    const share = (gross * BigInt(terms.parties[safeIndex]!.shareBps)) / 10_000n;
    const claim = await prepareClaim(asSafe, { agreementId, version: 2, partyIndex: safeIndex, terms });
    const claimed = await executeSafeTransaction(hotel, { safe, call: claim, owners: [owners[0], owners[2]] });
    expect(claimed.events.find((e) => e.eventName === "Claimed")?.args).to.include({ agreementId, partyIndex: BigInt(safeIndex), amount: share });
    expect((await getBalance(asSafe, { account: safe })).balance).to.equal(share);

    const [safeBefore, treasuryBefore] = await Promise.all([safe, treasury].map((a) => env.publicClient.getBalance({ address: a })));
    const toTreasury = share / 3n;
    const first = await prepareWithdraw(asSafe, { to: treasury, amount: toTreasury });
    expect(first.description).to.equal(`withdraw ${toTreasury} wei of ETH from the ledger balance of ${safe} to ${treasury}`);
    await executeSafeTransaction(hotel, { safe, call: first, owners: [owners[1], owners[0]] });
    const rest = await prepareWithdraw(asSafe); // the whole remaining balance, to the Safe itself
    const withdrawn = await executeSafeTransaction(restaurant, { safe, call: rest, owners: [owners[2], owners[1]] });
    expect(withdrawn.events.find((e) => e.eventName === "Withdrawn")?.args).to.include({ account: safe, to: safe, amount: share - toTreasury });
    const [safeAfter, treasuryAfter] = await Promise.all([safe, treasury].map((a) => env.publicClient.getBalance({ address: a })));
    expect(safeAfter! - safeBefore!).to.equal(share - toTreasury);
    expect(treasuryAfter! - treasuryBefore!).to.equal(toTreasury);
    expect(await ledgerBalance(safe)).to.equal(0n);
  });

  it("reports the Concord error of a call that reverts inside the Safe's transaction, with its values", async function () {
    const tooMuch = parseEther("5");
    // simulated from the Safe when prepared, before any owner signs
    const early = await failure(() => prepareWithdraw(asSafe, { amount: tooMuch }), ContractRevertError);
    expect(early.errorName).to.equal("LedgerInsufficientBalance");
    // prepared unchecked, the Safe's transaction fails: the inner call is simulated from the Safe
    const call = await prepareWithdraw(asSafe, { amount: tooMuch }, { simulate: false });
    const error = await failure(() => executeSafeTransaction(hotel, { safe, call, owners: [owners[0], owners[1]] }), ContractRevertError);
    expect(error.errorName).to.equal("LedgerInsufficientBalance");
    expect(error.args).to.deep.equal([safe, "0x0000000000000000000000000000000000000000", 0n, tooMuch]);
    expect(error.message).to.contain(`inside the wallet ${safe}: ${safe} has 0 of token`).and.contain(`cannot withdraw ${tooMuch.toLocaleString("en-US")}`);
    // with gas set for the inner call the Safe mines its failure (ExecutionFailure): read back, the same error
    const mined = await failure(() => executeSafeTransaction(hotel, { safe, call, owners: [owners[0], owners[1]], safeTxGas: 200_000n }), ContractRevertError);
    expect([mined.errorName, mined.args]).to.deep.equal([error.errorName, error.args]);
    expect(mined.message).to.equal(error.message);
    // the Safe's own refusal (one owner) is named as the Safe's, in words
    for (const call of [await prepareCancelNonce(asSafe, { nonce: 5n }), await prepareWithdraw(asSafe, { amount: 1n }, { simulate: false })]) {
      const refused = await failure(() => executeSafeTransaction(hotel, { safe, call, owners: [owners[0]] }), ContractRevertError);
      expect(refused.message).to.equal(`the Safe ${safe} refused the transaction: GS020: fewer owner signatures than its threshold (the signatures are too short)`);
    }
  });

  it("consents to the termination, and the auditor reconciles every wei of it", async function () {
    const signatures = [
      await signTermination(customer, { agreementId, version: 2, wallet: safeWallet({ address: safe, owners: [owners[2], owners[0]] }) }),
      ...(await Promise.all([hotel, restaurant].map((c) => signTermination(c, { agreementId, version: 2 })))),
    ];
    expect(signatures[0]!.signer).to.equal(safe);
    const terminated = await terminateAgreement(customer, { agreementId, signatures });
    expect(terminated.signers).to.include(safe);
    const audit = await verify({ client: env.publicClient, ledger: env.addresses.ledger, fromBlock: 0n, dataDir: null });
    expect(audit.violations).to.deep.equal([]);
    expect(audit.differences).to.deep.equal([]);
    expect(audit.ok).to.equal(true);
    expect(audit.sync.state.accounts.has(safe)).to.equal(true);
  });

  it("surfaces the node's own words for an account it does not know", async function () {
    const stranger = "0x000000000000000000000000000000000000dEaD" as Address;
    const unknown: ConcordContext = { ...hotel, walletClient: createWalletClient({ account: stranger, chain: hotel.walletClient!.chain, transport: env.transport }), account: undefined };
    const error = await failure(() => signTermination(unknown, { agreementId, version: 2 }), RpcError);
    expect(error.message.toLowerCase()).to.contain("unknown account");
  });
}

describe("SDK: any ERC-1271 wallet (the generic path)", function () {
  let env: SdkEnvironment;
  let hotel: ConcordContext;
  let owner: LocalAccount;
  let wallet: Address;
  const setMode = async (mode: number) => {
    const client = createWalletClient({ account: owner, chain: hotel.walletClient!.chain, transport: env.transport });
    const hash = await client.writeContract({ address: wallet, abi: parseAbi(["function setMode(uint8 mode)"]), functionName: "setMode", args: [mode], chain: client.chain });
    await env.publicClient.waitForTransactionReceipt({ hash });
  };

  before(async function () {
    env = await inProcess();
    hotel = await env.as(1);
    owner = env.accounts[5] as LocalAccount;
    wallet = await env.deploy("MockERC1271Wallet", [owner.address, 0]);
  });

  it("signs through any function, and says in words why the wallet refuses (a revert reason, a wrong magic value)", async function () {
    const signer = contractWallet({ address: wallet, sign: ({ digest }) => owner.sign!({ hash: digest }) });
    const terms = buildTerms({ parties: [{ account: wallet, shareBps: 10_000 }] });
    const { agreementId } = await proposeAgreement(hotel, { terms });
    const consent = await signConsent(hotel, { agreementId, version: 1, terms, wallet: signer });
    expect(consent.signer).to.equal(wallet);
    const refusals: [number, string][] = [
      [1, "isValidSignature returned 0xffffffff, not the ERC-1271 magic value 0x1626ba7e"],
      [2, "wallet reverts"],
    ];
    for (const [mode, reason] of refusals) {
      await setMode(mode);
      const error = await failure(() => signConsent(hotel, { agreementId, version: 1, terms, wallet: signer }), WalletSignatureRefusedError);
      expect(error.message).to.equal(`the wallet ${wallet} refused the signature: ${reason}`);
    }
    await setMode(0);
    await activateAgreement(hotel, { agreementId, terms, signatures: [consent] });
  });
});

describe("SDK: a Safe multisig as a partner", function () {
  this.timeout(180_000);
  describe("on the in-process Hardhat network", function () {
    shouldTreatASafeAsAPartner(inProcess);
  });
  describe("on a hardhat node over HTTP", function () {
    shouldTreatASafeAsAPartner(hardhatNode);
  });
});
