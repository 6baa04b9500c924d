import fs from "node:fs";
import { Command } from "commander";
import { keccak256, toHex, type Address, type Hex } from "viem";
import {
  AGREEMENT_STATUS_NAMES,
  activateAgreement,
  activateAmendment,
  approveTermination,
  approveVersion,
  buildTerms,
  getAgreement,
  getAgreementHistory,
  getAgreementsOfParty,
  getConcordEvents,
  getVersion,
  proposeAgreement,
  proposeAmendment,
  revokeApproval,
  revokeTerminationApproval,
  signConsent,
  signTermination,
  terminateAgreement,
  type ConcordContext,
  type ConsentSignature,
  type Terms,
} from "../../sdk";
import { contextFor, signerAddress } from "../context";
import { UsageError } from "../errors";
import { emit, table } from "../output";
import { parseAddress, parseBytes32, parseDuration, parseId, parseInteger, parseShares } from "../parse";
import { examples, optionsOf } from "./shared";

export type TermsOptions = {
  shares: string;
  referralFee?: string;
  referrers?: string;
  orderSigner?: string;
  reserve?: string;
  disputeWindow?: string;
  refundAuthority?: string;
  dustParty?: string;
  document?: string;
  documentHash?: string;
};

export function withTermsOptions(command: Command): Command {
  return command
    .requiredOption("--shares <list>", "parties and basis points: 0xHotel=5000,0xRestaurant=3000,#4@1=2000 (#N@V: nested agreement N pinned to version V; #N: its active version)")
    .option("--referral-fee <bps>", "referral fee in basis points (at most 2,000)", "0")
    .option("--order-signer <address>", "the merchant of record: only its signed payment intents settle, and they name the referrer")
    .option("--referrers <list>", "without an order signer: the referrers a direct payment may name (required with a fee)")
    .option("--reserve <bps>", "reserve held per settlement, in basis points (at most 5,000)", "0")
    .option("--dispute-window <duration>", "how long reserves are held: seconds or 7d, 12h (required with a reserve)")
    .option("--refund-authority <address>", "who may refund from reserves")
    .option("--dust-party <address|#id>", "the party that receives rounding dust (default: the first party)")
    .option("--document <file>", "an off-chain contract whose keccak256 goes in the terms")
    .option("--document-hash <bytes32>", "the document hash itself");
}

/**
 * Terms from command-line options; the SDK checks every rule and names the bad value. A nested
 * party given without its version (#N) is pinned to agreement N's active version, read from the chain.
 */
export async function termsFromOptions(o: TermsOptions, context: ConcordContext): Promise<Terms> {
  const parties = await Promise.all(
    parseShares(o.shares).map(async (p) => {
      if (p.account) return { account: p.account, shareBps: p.shareBps };
      const agreementId = p.agreementId!;
      if (p.version !== undefined) return { agreementId, version: p.version, shareBps: p.shareBps };
      const child = await getAgreement(context, { agreementId });
      if (child.status !== "active") {
        throw new UsageError(`nested agreement #${agreementId} is ${child.status}; a nested party must be active (pin a version with #${agreementId}@V)`);
      }
      return { agreementId, version: child.activeVersion, shareBps: p.shareBps };
    }),
  );
  let documentHash: Hex | undefined;
  if (o.document) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(o.document);
    } catch {
      throw new UsageError(`--document ${o.document} cannot be read`);
    }
    documentHash = keccak256(toHex(bytes));
  } else if (o.documentHash) {
    documentHash = parseBytes32(o.documentHash, "--document-hash");
  }
  const reserveBps = parseInteger(o.reserve ?? "0", "--reserve", 0, 10_000);
  return buildTerms({
    parties,
    referralFeeBps: parseInteger(o.referralFee ?? "0", "--referral-fee", 0, 10_000),
    orderSigner: o.orderSigner ? parseAddress(o.orderSigner, "--order-signer") : undefined,
    referrers: o.referrers ? o.referrers.split(",").map((r) => parseAddress(r.trim(), "--referrers")) : [],
    reserveBps,
    disputeWindow: o.disputeWindow ? parseDuration(o.disputeWindow, "--dispute-window") : 0,
    refundAuthority: o.refundAuthority ? parseAddress(o.refundAuthority, "--refund-authority") : undefined,
    dustParty: o.dustParty
      ? o.dustParty.startsWith("#")
        ? parseId(o.dustParty.slice(1), "--dust-party")
        : parseAddress(o.dustParty, "--dust-party")
      : undefined,
    documentHash,
  });
}

export function describeTerms(terms: Terms): string {
  const parties = table(
    terms.parties.map((p, i) => ({
      "#": i,
      party: p.agreementId !== 0n ? `agreement #${p.agreementId} version ${p.version}` : p.account,
      share: `${(p.shareBps / 100).toFixed(2)}%`,
      dust: i === terms.dustPartyIndex ? "yes" : "",
    })),
  );
  const signer = BigInt(terms.orderSigner) === 0n ? undefined : terms.orderSigner;
  const referral = signer
    ? `the referrer each intent of the order signer names`
    : terms.referrers.length
      ? `only ${terms.referrers.join(", ")}`
      : "nobody";
  return [
    parties,
    `referral fee   ${terms.referralFeeBps} bps (${referral})`,
    `order signer   ${signer ?? "none: direct payments, each scoped to its payer"}`,
    `reserve        ${terms.reserveBps} bps, dispute window ${terms.disputeWindow} s`,
    `refund by      ${terms.refundAuthority}`,
    `document hash  ${terms.documentHash}`,
  ].join("\n");
}

/** The signature file another party's `activate` (or `terminate`) submits. */
type SignatureFile = {
  kind: "consent" | "termination";
  chainId: number;
  registry: Address;
  agreementId: string;
  version: number;
  signer: Address;
  nonce: string;
  deadline: string;
  signature: Hex;
};

function readSignatureFiles(files: readonly string[], expected: { kind: SignatureFile["kind"]; chainId: number; registry: Address; agreementId: bigint; version: number; now: bigint }): ConsentSignature[] {
  return files.map((file) => {
    let parsed: SignatureFile;
    try {
      parsed = JSON.parse(fs.readFileSync(file, "utf8")) as SignatureFile;
    } catch {
      throw new UsageError(`signature file ${file} cannot be read as JSON`);
    }
    const wrong = (what: string, got: unknown, want: unknown) =>
      new UsageError(`signature file ${file} is for ${what} ${String(got)}, not ${String(want)}`);
    if (parsed.kind !== expected.kind) throw wrong("a", parsed.kind, expected.kind);
    if (parsed.chainId !== expected.chainId) throw wrong("chain", parsed.chainId, expected.chainId);
    if (parsed.registry?.toLowerCase() !== expected.registry.toLowerCase()) throw wrong("registry", parsed.registry, expected.registry);
    if (BigInt(parsed.agreementId) !== expected.agreementId) throw wrong("agreement", parsed.agreementId, expected.agreementId);
    if (parsed.version !== expected.version) throw wrong("version", parsed.version, expected.version);
    const deadline = BigInt(parsed.deadline);
    if (deadline < expected.now) {
      throw new UsageError(`the signature of ${parsed.signer} in ${file} expired at ${new Date(Number(deadline) * 1000).toISOString()}`);
    }
    return { signer: parseAddress(parsed.signer, `signer in ${file}`), nonce: BigInt(parsed.nonce), deadline, signature: parsed.signature };
  });
}

async function chainNow(context: Awaited<ReturnType<typeof contextFor>>): Promise<bigint> {
  return (await context.publicClient.getBlock({ blockTag: "latest" })).timestamp;
}

export function agreementCommand(): Command {
  const agreement = new Command("agreement").description("propose, sign, approve, activate, amend, terminate and query agreements");

  examples(
    withTermsOptions(agreement.command("propose").description("propose a new agreement (first version of its terms)")),
    [
        "concord agreement propose --account 1 --shares 0xHotel=5000,0xRestaurant=3000,0xAirline=2000 --referral-fee 500 --order-signer 0xTravelSite --reserve 1000 --dispute-window 7d --refund-authority 0xHotel",
      "concord agreement propose --account 1 --shares 0xHotel=7000,#2@1=3000 --referral-fee 300 --referrers 0xTravelSite",
    ],
  ).action(async (_o, command: Command) => {
    const o = optionsOf<TermsOptions>(command);
    const context = await contextFor(o, { signer: true });
    const terms = await termsFromOptions(o, context);
    const result = await proposeAgreement(context, { terms });
    emit(o, { agreementId: result.agreementId, version: 1, termsHash: result.termsHash, transactionHash: result.hash }, () =>
      [`agreement ${result.agreementId} proposed (version 1, terms hash ${result.termsHash})`, `tx ${result.hash}`, "", describeTerms(terms)].join("\n"),
    );
  });

  examples(
    withTermsOptions(agreement.command("amend").argument("<agreementId>").description("propose a new version of an active agreement")),
    ["concord agreement amend 1 --account 1 --shares 0xHotel=6000,0xRestaurant=4000"],
  ).action(async (id: string, _o, command: Command) => {
    const o = optionsOf<TermsOptions>(command);
    const context = await contextFor(o, { signer: true });
    const terms = await termsFromOptions(o, context);
    const result = await proposeAmendment(context, { agreementId: parseId(id, "agreement id"), terms });
    emit(o, { agreementId: BigInt(id), version: result.version, termsHash: result.termsHash, transactionHash: result.hash }, () =>
      `agreement ${id}: version ${result.version} proposed (terms hash ${result.termsHash}); it takes effect with every party's consent`,
    );
  });

  examples(
    agreement
      .command("sign")
      .argument("<agreementId>")
      .description("sign consent to a version (EIP-712) as any consenter, a member of a nested party included: writes a signature file, naming you as its signer, for `activate`")
      .option("--version <n>", "the version (default: the latest)")
      .option("--termination", "sign consent to terminate the active version instead")
      .option("--out <file>", "write the signature here (default: standard output)")
      .option("--deadline <duration>", "validity from now, e.g. 7d", "7d")
      .option("--nonce <n>", "an unused nonce of yours (default: random)"),
    [
      "concord agreement sign 1 --account 2 --out restaurant.sig.json",
      "concord agreement sign 3 --account 5 --out member.sig.json   # a member of nested agreement #2, consenting to #3",
      "concord agreement sign 1 --termination --keystore hotel.json --password-file pw.txt",
    ],
  ).action(async (id: string, _o, command: Command) => {
    const o = optionsOf<{ version?: string; termination?: boolean; out?: string; deadline: string; nonce?: string }>(command);
    const agreementId = parseId(id, "agreement id");
    const context = await contextFor(o, { signer: true });
    const info = await getAgreement(context, { agreementId });
    const deadline = (await chainNow(context)) + BigInt(parseDuration(o.deadline, "--deadline"));
    const nonce = o.nonce ? parseId(o.nonce, "--nonce") : undefined;
    let signed: ConsentSignature;
    let version: number;
    if (o.termination) {
      version = info.activeVersion;
      if (info.status !== "active") throw new UsageError(`agreement ${id} is ${info.status}; only an active agreement can be terminated`);
      signed = await signTermination(context, { agreementId, version, nonce, deadline });
    } else {
      version = o.version ? parseInteger(o.version, "--version", 1, info.latestVersion) : info.latestVersion;
      if (version <= info.activeVersion) throw new UsageError(`version ${version} of agreement ${id} is already active or superseded`);
      const { terms } = await getVersion(context, { agreementId, version });
      signed = await signConsent(context, { agreementId, version, terms, nonce, deadline });
    }
    const file: SignatureFile = {
      kind: o.termination ? "termination" : "consent",
      chainId: context.chainId,
      registry: context.addresses.registry,
      agreementId: agreementId.toString(),
      version,
      signer: signed.signer,
      nonce: signed.nonce.toString(),
      deadline: signed.deadline.toString(),
      signature: signed.signature,
    };
    const text = JSON.stringify(file, null, 2);
    if (o.out) {
      fs.writeFileSync(o.out, text + "\n");
      emit(o, { ...file, file: o.out }, () => `${signed.signer} signed ${file.kind} to agreement ${id} version ${version}; wrote ${o.out}`);
    } else {
      process.stdout.write(text + "\n");
    }
  });

  examples(
    agreement
      .command("approve")
      .argument("<agreementId>")
      .description("consent on chain, by a transaction from your account; it counts until --expiry and can be revoked")
      .option("--version <n>", "the version (default: the latest; with --termination the active one)")
      .option("--termination", "approve terminating the active version instead")
      .option("--expiry <duration>", "how long the approval counts, from the latest block (e.g. 30d, 12h)", "30d")
      .option("--revoke", "withdraw your approval instead"),
    ["concord agreement approve 1 --account 3 --expiry 7d", "concord agreement approve 1 --account 3 --revoke", "concord agreement approve 1 --account 2 --termination"],
  ).action(async (id: string, _o, command: Command) => {
    const o = optionsOf<{ version?: string; termination?: boolean; expiry: string; revoke?: boolean }>(command);
    const agreementId = parseId(id, "agreement id");
    const context = await contextFor(o, { signer: true });
    const info = await getAgreement(context, { agreementId });
    const me = signerAddress(context);
    const version = o.version
      ? parseInteger(o.version, "--version", 1, info.latestVersion)
      : o.termination
        ? info.activeVersion
        : info.latestVersion;
    if (o.termination && version === 0) throw new UsageError(`agreement ${id} is ${info.status}; only an active agreement can be terminated`);
    const what = o.termination ? `terminating agreement ${id} at version ${version}` : `agreement ${id} version ${version}`;
    if (o.revoke) {
      const result = o.termination
        ? await revokeTerminationApproval(context, { agreementId, version })
        : await revokeApproval(context, { agreementId, version });
      emit(o, { agreementId, version, termination: Boolean(o.termination), revoked: true, party: result.party, transactionHash: result.hash }, () => `${me} revoked its approval of ${what}`);
      return;
    }
    const expiry = (await chainNow(context)) + BigInt(parseDuration(o.expiry, "--expiry"));
    const result = o.termination
      ? await approveTermination(context, { agreementId, version, expiry })
      : await approveVersion(context, { agreementId, version, expiry });
    emit(o, { agreementId, version, termination: Boolean(o.termination), party: result.party, expiry: result.expiry, transactionHash: result.hash }, () =>
      `${me} approved ${what}, until ${new Date(Number(result.expiry) * 1000).toISOString()}`,
    );
  });

  examples(
    agreement
      .command("activate")
      .argument("<agreementId>")
      .description("submit the consenters' signature files and activate a version (or an amendment) in one transaction; the terms of nested parties go with it")
      .option("--version <n>", "the version (default: the latest)")
      .option("--signatures <files...>", "signature files written by `agreement sign`", []),
    ["concord agreement activate 1 --account 1 --signatures hotel.sig.json restaurant.sig.json airline.sig.json"],
  ).action(async (id: string, _o, command: Command) => {
    const o = optionsOf<{ version?: string; signatures: string[] }>(command);
    const agreementId = parseId(id, "agreement id");
    const context = await contextFor(o, { signer: true });
    const info = await getAgreement(context, { agreementId });
    const version = o.version ? parseInteger(o.version, "--version", 1, info.latestVersion) : info.latestVersion;
    const signatures = readSignatureFiles(o.signatures, {
      kind: "consent",
      chainId: context.chainId,
      registry: context.addresses.registry,
      agreementId,
      version,
      now: await chainNow(context),
    });
    const { terms } = await getVersion(context, { agreementId, version });
    let result;
    if (info.status === "proposed") {
      result = await activateAgreement(context, { agreementId, version, terms, signatures });
    } else if (info.status === "active") {
      const current = await getVersion(context, { agreementId, version: info.activeVersion });
      result = await activateAmendment(context, { agreementId, version, terms, currentTerms: current.terms, signatures });
    } else {
      throw new UsageError(`agreement ${id} is ${info.status}; it cannot be activated`);
    }
    emit(o, { agreementId, version, signers: result.signers, transactionHash: result.hash }, () =>
      `agreement ${id} version ${version} is active (${signatures.length} signatures, the rest approved on chain; tx ${result.hash})`,
    );
  });

  examples(
    agreement
      .command("terminate")
      .argument("<agreementId>")
      .description("terminate with every consenter's consent, nested members included (termination signature files and/or on-chain approvals)")
      .option("--signatures <files...>", "termination signature files (agreement sign --termination)", []),
    ["concord agreement terminate 1 --account 1 --signatures hotel.term.json restaurant.term.json"],
  ).action(async (id: string, _o, command: Command) => {
    const o = optionsOf<{ signatures: string[] }>(command);
    const agreementId = parseId(id, "agreement id");
    const context = await contextFor(o, { signer: true });
    const info = await getAgreement(context, { agreementId });
    if (info.status !== "active") throw new UsageError(`agreement ${id} is ${info.status}; only an active agreement can be terminated`);
    const signatures = readSignatureFiles(o.signatures, {
      kind: "termination",
      chainId: context.chainId,
      registry: context.addresses.registry,
      agreementId,
      version: info.activeVersion,
      now: await chainNow(context),
    });
    const { terms } = await getVersion(context, { agreementId, version: info.activeVersion });
    const result = await terminateAgreement(context, { agreementId, currentTerms: terms, signatures });
    emit(o, { agreementId, terminated: true, transactionHash: result.hash }, () => `agreement ${id} terminated (tx ${result.hash})`);
  });

  examples(
    agreement.command("show").argument("<agreementId>").description("an agreement's status and the terms of a version").option("--version <n>", "the version (default: active, else latest)"),
    ["concord agreement show 1", "concord agreement show 1 --version 2 --json"],
  ).action(async (id: string, _o, command: Command) => {
    const o = optionsOf<{ version?: string }>(command);
    const agreementId = parseId(id, "agreement id");
    const context = await contextFor(o, { signer: false });
    const info = await getAgreement(context, { agreementId });
    const version = o.version
      ? parseInteger(o.version, "--version", 1, info.latestVersion)
      : info.activeVersion || info.latestVersion;
    const v = await getVersion(context, { agreementId, version });
    emit(o, { ...info, version: v }, () =>
      [
        `agreement ${id}: ${info.status}; active version ${info.activeVersion || "none"}, latest ${info.latestVersion}`,
        `version ${version} (terms hash ${v.termsHash}${v.activated ? ", activated" : ", never activated"})`,
        describeTerms(v.terms),
      ].join("\n"),
    );
  });

  examples(
    agreement.command("list").description("agreements, optionally only those a party belongs to").option("--party <address>", "only agreements with this party"),
    ["concord agreement list", "concord agreement list --party 0xRestaurant --json"],
  ).action(async (_o, command: Command) => {
    const o = optionsOf<{ party?: string }>(command);
    const context = await contextFor(o, { signer: false });
    let ids: bigint[];
    if (o.party) {
      const memberships = await getAgreementsOfParty(context, { account: parseAddress(o.party, "--party") });
      ids = [...new Set(memberships.map((m) => m.agreementId))];
    } else {
      const events = await getConcordEvents(context, { contracts: ["registry"], eventNames: ["AgreementProposed"] });
      ids = events.map((e) => e.args.agreementId as bigint);
    }
    const rows = await Promise.all(ids.map((agreementId) => getAgreement(context, { agreementId })));
    emit(o, rows, () =>
      table(rows.map((r) => ({ id: r.agreementId, status: r.status, active: r.activeVersion || "-", latest: r.latestVersion, fee: `${r.referralFeeBps} bps`, reserve: `${r.reserveBps} bps` }))),
    );
  });

  examples(agreement.command("history").argument("<agreementId>").description("every event of an agreement, in chain order"), [
    "concord agreement history 1",
  ]).action(async (id: string, _o, command: Command) => {
    const o = optionsOf(command);
    const context = await contextFor(o, { signer: false });
    const events = await getAgreementHistory(context, { agreementId: parseId(id, "agreement id") });
    emit(o, events.map(({ args, ...rest }) => ({ ...rest, args: Object.fromEntries(Object.entries(args).filter(([k]) => k !== "terms")) })), () =>
      table(
        events.map((e) => ({
          block: e.blockNumber,
          event: e.eventName,
          version: e.args.version !== undefined ? String(e.args.version) : "",
          who: String(e.args.party ?? e.args.proposer ?? e.args.mover ?? ""),
        })),
      ),
    );
  });

  return agreement;
}

export const STATUS_NAMES = AGREEMENT_STATUS_NAMES;
