import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { createPublicClient, createWalletClient, getAddress, http, parseEther, type Address, type Hex, type PublicClient } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import {
  activateAgreement,
  buildTerms,
  createConcordContext,
  distribute,
  executeSafeTransaction,
  makeOrderRef,
  proposeAgreement,
  safeAbi,
  safeWallet,
  settle,
  settlementLedgerAbi,
  signConsent,
  type ConcordAddresses,
  type ConcordContext,
  type PreparedCall,
} from "../../src/sdk";
import { concord, useNodeForCli } from "../helpers/cli";
import { createSafe, deploySafeContracts } from "../helpers/safe";

const MNEMONIC = "test test test test test test test test test test test junk";
const ETH = "0x0000000000000000000000000000000000000000";

/** `--prepare FILE` on the CLI's writes: a Safe Transaction Builder batch a multisig executes, nothing sent. */
describe("a multisig partner at the CLI: --prepare, --from and agreement sign --wallet (separate processes against a hardhat node)", function () {
  this.timeout(300_000);
  const cli = useNodeForCli({ prefix: "concord-prepare-" });
  const accounts = Array.from({ length: 10 }, (_, i) => mnemonicToAccount(MNEMONIC, { addressIndex: i }));
  const [deployer, hotel, guest, owner1, owner2, owner3, treasury] = [accounts[0]!, accounts[1]!, accounts[4]!, accounts[6]!, accounts[7]!, accounts[8]!, accounts[9]!];
  let publicClient: PublicClient;
  let addresses: ConcordAddresses;
  let safe: Address;
  let as: (account: (typeof accounts)[number]) => Promise<ConcordContext>;
  const file = (name: string) => path.join(cli.dir, name);
  const blockNumber = () => publicClient.getBlockNumber({ cacheTime: 0 });
  const safeNonce = () => publicClient.readContract({ address: safe, abi: safeAbi, functionName: "nonce" });
  const ledgerBalance = (account: Address) => publicClient.readContract({ address: addresses.ledger, abi: settlementLedgerAbi, functionName: "balanceOf", args: [account, ETH] });
  /** The Transaction Builder batch's one call, as the SDK executes a prepared call. */
  const callOf = (batchFile: string): PreparedCall => {
    const batch = JSON.parse(fs.readFileSync(batchFile, "utf8")) as { transactions: Array<{ to: Address; value: string; data: Hex }> };
    const [tx] = batch.transactions;
    return { to: getAddress(tx!.to), value: BigInt(tx!.value), data: tx!.data, description: "from the batch file" };
  };

  before(async function () {
    const transport = http(cli.node.url);
    publicClient = createPublicClient({ chain: hardhat, transport }) as PublicClient;
    const deployed = await concord(["deploy", "--json"], cli.env);
    expect(deployed.code, deployed.stderr).to.equal(0);
    const { registry, ledger, negotiationHub } = JSON.parse(deployed.stdout) as ConcordAddresses;
    addresses = { registry, ledger, negotiationHub };
    as = (account) => createConcordContext({ publicClient, walletClient: createWalletClient({ account, chain: hardhat, transport }), addresses, chainId: hardhat.id });
    const env = { publicClient, transport, chainId: hardhat.id };
    safe = await createSafe(env, deployer, await deploySafeContracts(env, deployer), { owners: [owner1.address, owner2.address, owner3.address], threshold: 2 });

    // The Safe is a partner of the hotel: it consents through two owners, a guest pays 1 ETH, the pool is distributed.
    const terms = buildTerms({ parties: [{ account: hotel.address, shareBps: 6_000 }, { account: safe, shareBps: 4_000 }].sort((a, b) => (BigInt(a.account) < BigInt(b.account) ? -1 : 1)) });
    const { agreementId } = await proposeAgreement((await as(hotel)), { terms });
    const signatures = [
      await signConsent((await as(hotel)), { agreementId, version: 1, terms, wallet: safeWallet({ address: safe, owners: [owner1, owner2] }) }),
      await signConsent((await as(hotel)), { agreementId, version: 1, terms }),
    ];
    await activateAgreement((await as(hotel)), { agreementId, terms, signatures });
    await settle((await as(guest)), { payment: { agreementId, version: 1, gross: parseEther("1"), orderRef: makeOrderRef({ orderId: "SAFE-CLI-1", salt: `0x${"11".repeat(32)}` }) } });
    await distribute((await as(hotel)), { agreementId, version: 1 });
    expect(await ledgerBalance(safe)).to.equal(parseEther("0.4"));
  });

  it("writes the Safe's withdrawal as a Transaction Builder batch, sends nothing, and the batch executed through the Safe pays the treasury", async function () {
    const [block, nonce] = [await blockNumber(), await safeNonce()];
    const batchFile = file("withdraw.json");
    const run = await concord(["withdraw", "--from", safe, "--to", treasury.address, "--amount", "0.25", "--prepare", batchFile, "--json"], cli.env);
    expect(run.code, run.stderr).to.equal(0);
    expect([await blockNumber(), await safeNonce()]).to.deep.equal([block, nonce]);
    const printed = JSON.parse(run.stdout);
    expect(printed).to.include({ schema: 1, prepared: true, file: batchFile, from: safe });

    const batch = JSON.parse(fs.readFileSync(batchFile, "utf8"));
    expect(batch).to.include({ version: "1.0", chainId: String(hardhat.id) });
    expect(batch.meta).to.include({ name: "Concord: withdraw", createdFromSafeAddress: safe });
    expect(batch.meta.description).to.equal(`withdraw("${ETH}", "${treasury.address}", "${parseEther("0.25")}") on ${addresses.ledger}`);
    expect(batch.transactions).to.have.length(1);
    expect(batch.transactions[0]).to.deep.include({ to: addresses.ledger, value: "0", contractMethod: null, contractInputsValues: null });

    const before = await publicClient.getBalance({ address: treasury.address });
    await executeSafeTransaction((await as(owner3)), { safe, call: callOf(batchFile), owners: [owner3, owner1] });
    expect((await publicClient.getBalance({ address: treasury.address })) - before).to.equal(parseEther("0.25"));
    expect(await ledgerBalance(safe)).to.equal(parseEther("0.15"));
    expect(await safeNonce()).to.equal(nonce + 1n);
  });

  it("prints the prepared call in words without --json", async function () {
    const batchFile = file("withdraw-rest.json");
    const run = await concord(["withdraw", "--from", safe, "--prepare", batchFile], cli.env);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(new RegExp(`^prepared, nothing sent: ${batchFile} holds withdraw\\(.*\\) on ${addresses.ledger} for ${safe} to execute \\(a Safe Transaction Builder batch\\); the simulation passed`));
    await executeSafeTransaction((await as(owner2)), { safe, call: callOf(batchFile), owners: [owner1, owner2] });
    expect(await ledgerBalance(safe)).to.equal(0n);
  });

  it("collects the Safe's consent from two owners signing offline into one file (agreement sign --wallet), refused by activate until the Safe accepts it", async function () {
    const terms = buildTerms({ parties: [{ account: hotel.address, shareBps: 5_000 }, { account: safe, shareBps: 5_000 }].sort((a, b) => (BigInt(a.account) < BigInt(b.account) ? -1 : 1)) });
    const { agreementId } = await proposeAgreement(await as(hotel), { terms });
    const id = agreementId.toString();
    const hotelFile = file("hotel-2.sig.json");
    const safeFile = file("safe-2.sig.json");
    expect((await concord(["agreement", "sign", id, "--account", "1", "--out", hotelFile], cli.env)).code).to.equal(0);

    // Owner 1 (an unlocked node account) signs first: one part, below the Safe's threshold of two.
    const first = await concord(["agreement", "sign", id, "--wallet", safe, "--account", "6", "--out", safeFile, "--json"], cli.env);
    expect(first.code, first.stderr).to.equal(0);
    const one = JSON.parse(first.stdout);
    expect(one).to.include({ kind: "consent", signer: safe, owner: owner1.address, complete: false });
    expect(one.refusal).to.match(new RegExp(`the wallet ${safe} refused the signature: GS020`));
    expect(one.owners).to.have.length(1);
    const block = await blockNumber();
    const early = await concord(["agreement", "activate", id, "--account", "1", "--signatures", hotelFile, safeFile], cli.env);
    expect(early.code).to.not.equal(0);
    expect(early.stderr).to.match(new RegExp(`the wallet ${safe} refused the signature: GS020: fewer owner signatures than its threshold`));
    expect(await blockNumber()).to.equal(block);
    // The same owner twice is refused; the file is unchanged.
    const again = await concord(["agreement", "sign", id, "--wallet", safe, "--account", "6", "--out", safeFile], cli.env);
    expect([again.code, again.stderr.trim()]).to.deep.equal([2, `error: owner ${owner1.address} already signed ${safeFile} for the wallet ${safe}`]);

    // Owner 3 signs the same message into the same file: the Safe accepts it, and activation takes it.
    const second = await concord(["agreement", "sign", id, "--wallet", safe, "--account", "8", "--out", safeFile], cli.env);
    expect(second.code, second.stderr).to.equal(0);
    expect(second.stdout).to.contain(`${owner3.address} signed consent to agreement ${id} version 1 for the wallet ${safe} (2 owners in ${safeFile}): the wallet accepts the signature`);
    const both = JSON.parse(fs.readFileSync(safeFile, "utf8"));
    expect([both.nonce, both.deadline]).to.deep.equal([one.nonce, one.deadline]);
    const activated = await concord(["agreement", "activate", id, "--account", "1", "--signatures", hotelFile, safeFile, "--json"], cli.env);
    expect(activated.code, activated.stderr).to.equal(0);
    const shown = JSON.parse((await concord(["agreement", "show", id, "--json"], cli.env)).stdout);
    expect(shown).to.include({ status: "active", activeVersion: 1 });
  });

  describe("refuses, with one line, exit 2 and nothing written or sent", function () {
    const cases: Array<{ name: string; args: () => string[]; message: () => RegExp; writes?: string }> = [
      { name: "--from without --prepare", args: () => ["withdraw", "--from", safe], message: () => /--from 0x[0-9a-fA-F]{40} names a wallet that signs elsewhere: give --prepare FILE/ },
      { name: "--from beside a key", args: () => ["withdraw", "--from", safe, "--account", "1", "--prepare", file("two.json")], message: () => /two signer sources: --account 1 and --from 0x/, writes: "two.json" },
      { name: "--prepare with --dry-run", args: () => ["withdraw", "--from", safe, "--dry-run", "--prepare", file("both.json")], message: () => /give --dry-run \(print the call\) or --prepare FILE \(write it\), not both/, writes: "both.json" },
      { name: "an existing file", args: () => ["withdraw", "--from", safe, "--prepare", file("withdraw.json")], message: () => /--prepare .*withdraw\.json: the file exists; name a new one/ },
      { name: "a withdrawal beyond the Safe's balance (checked as the Safe)", args: () => ["withdraw", "--from", safe, "--amount", "5", "--prepare", file("too-much.json")], message: () => new RegExp(`${safe} has nothing to withdraw in ETH`), writes: "too-much.json" },
      { name: "--from that is not an address", args: () => ["withdraw", "--from", "the-safe", "--prepare", file("bad.json")], message: () => /--from "the-safe" is not an address/, writes: "bad.json" },
    ];
    for (const c of cases) {
      it(c.name, async function () {
        const before = await blockNumber();
        const kept = fs.existsSync(file("withdraw.json")) ? fs.readFileSync(file("withdraw.json"), "utf8") : undefined;
        const run = await concord(c.args(), cli.env);
        expect(run.code, run.stderr).to.equal(2);
        expect(run.stderr).to.match(c.message());
        expect(run.stderr.trim().split("\n")).to.have.length(1);
        expect(run.stdout).to.equal("");
        expect(await blockNumber()).to.equal(before);
        if (c.writes) expect(fs.existsSync(file(c.writes)), c.writes).to.equal(false);
        if (kept !== undefined) expect(fs.readFileSync(file("withdraw.json"), "utf8")).to.equal(kept);
      });
    }
  });
});
