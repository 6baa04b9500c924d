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
  signConsent,
  signTermination,
  terminateAgreement,
  type ConsentSignature,
  type Terms,
} from "../../sdk";
import { contextFor, signerAddress } from "../context";
import { UsageError } from "../errors";
import { emit, table } from "../output";
import { parseAddress, parseBytes32, parseDuration, parseId, parseInteger, parseShares } from "../parse";
import { examples, optionsOf } from "./shared";

type TermsOptions = {
  shares: string;
  referralFee?: string;
  referrerPolicy?: "none" | "open" | "allowlist";
  referrers?: string;
  reserve?: string;
  disputeWindow?: string;
  refundAuthority?: string;
  dustParty?: string;
  document?: string;
  documentHash?: string;
};

function withTermsOptions(command: Command): Command {
  return command
    .requiredOption("--shares <list>", "parties and basis points: 0xHotel=5000,0xRestaurant=3000,#4=2000 (#N: nested agreement)")
    .option("--referral-fee <bps>", "referral fee in basis points (at most 2,000)", "0")
    .option("--referrer-policy <policy>", "none | open | allowlist (default: open with a fee, none without)")
    .option("--referrers <list>", "comma-separated allowlist of referrer addresses")
    .option("--reserve <bps>", "reserve held per settlement, in basis points (at most 5,000)", "0")
    .option("--dispute-window <duration>", "how long reserves are held: seconds or 7d, 12h (required with a reserve)")
    .option("--refund-authority <address>", "who may refund from reserves")
    .option("--dust-party <address|#id>", "the party that receives rounding dust (default: the first party)")
    .option("--document <file>", "an off-chain contract whose keccak256 goes in the terms")
    .option("--document-hash <bytes32>", "the document hash itself");
}

/** Terms from command-line options; the SDK checks every rule and names the bad value. */
export function termsFromOptions(o: TermsOptions): Terms {
  const parties = parseShares(o.shares).map((p) =>
    p.account ? { account: p.account, shareBps: p.shareBps } : { agreementId: p.agreementId!, shareBps: p.shareBps },
  );
  const policy = o.referrerPolicy;
  if (policy !== undefined && !["none", "open", "allowlist"].includes(policy)) {
    throw new UsageError(`--referrer-policy "${policy}" is not none, open or allowlist`);
  }
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
    referrerPolicy: policy,
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

function describeTerms(terms: Terms): string {
  const parties = table(
    terms.parties.map((p, i) => ({
      "#": i,
      party: p.agreementId !== 0n ? `agreement ${p.agreementId}` : p.account,
      share: `${(p.shareBps / 100).toFixed(2)}%`,
      dust: i === terms.dustPartyIndex ? "yes" : "",
    })),
  );
  const policy = ["none", "open", "allowlist"][terms.referrerPolicy] ?? String(terms.referrerPolicy);
  return [
    parties,
    `referral fee   ${terms.referralFeeBps} bps (${policy}${terms.referrers.length ? `: ${terms.referrers.join(", ")}` : ""})`,
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
      "concord agreement propose --account 1 --shares 0xHotel=5000,0xRestaurant=3000,0xAirline=2000 --referral-fee 500 --reserve 1000 --dispute-window 7d --refund-authority 0xHotel",
    ],
  ).action(async (_o, command: Command) => {
    const o = optionsOf<TermsOptions>(command);
    const terms = termsFromOptions(o);
    const context = await contextFor(o, { signer: true });
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
    const terms = termsFromOptions(o);
    const context = await contextFor(o, { signer: true });
    const result = await proposeAmendment(context, { agreementId: parseId(id, "agreement id"), terms });
    emit(o, { agreementId: BigInt(id), version: result.version, termsHash: result.termsHash, transactionHash: result.hash }, () =>
      `agreement ${id}: version ${result.version} proposed (terms hash ${result.termsHash}); it takes effect with every party's consent`,
    );
  });

  examples(
    agreement
      .command("sign")
      .argument("<agreementId>")
      .description("sign consent to a version (EIP-712), offline: writes a signature file for `activate`")
      .option("--version <n>", "the version (default: the latest)")
      .option("--termination", "sign consent to terminate the active version instead")
      .option("--out <file>", "write the signature here (default: standard output)")
      .option("--deadline <duration>", "validity from now, e.g. 7d", "7d")
      .option("--nonce <n>", "an unused nonce of yours (default: random)"),
    ["concord agreement sign 1 --account 2 --out restaurant.sig.json", "concord agreement sign 1 --termination --keystore hotel.json --password-file pw.txt"],
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
      .description("consent on chain, by a transaction from your account")
      .option("--version <n>", "the version (default: the latest)")
      .option("--termination", "approve terminating the active version instead"),
    ["concord agreement approve 1 --account 3"],
  ).action(async (id: string, _o, command: Command) => {
    const o = optionsOf<{ version?: string; termination?: boolean }>(command);
    const agreementId = parseId(id, "agreement id");
    const context = await contextFor(o, { signer: true });
    const info = await getAgreement(context, { agreementId });
    if (o.termination) {
      const result = await approveTermination(context, { agreementId });
      emit(o, { agreementId, termination: true, transactionHash: result.hash }, () => `${signerAddress(context)} approved terminating agreement ${id}`);
      return;
    }
    const version = o.version ? parseInteger(o.version, "--version", 1, info.latestVersion) : info.latestVersion;
    const result = await approveVersion(context, { agreementId, version });
    emit(o, { agreementId, version, transactionHash: result.hash }, () => `${signerAddress(context)} approved agreement ${id} version ${version}`);
  });

  examples(
    agreement
      .command("activate")
      .argument("<agreementId>")
      .description("submit the parties' signature files and activate a version (or an amendment) in one transaction")
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
    emit(o, { agreementId, version, transactionHash: result.hash }, () => `agreement ${id} version ${version} is active (tx ${result.hash})`);
  });

  examples(
    agreement
      .command("terminate")
      .argument("<agreementId>")
      .description("terminate with every party's consent (termination signature files and/or on-chain approvals)")
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
