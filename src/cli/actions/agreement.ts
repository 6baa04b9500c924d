import type { Command } from "commander";
import { keccak256, toHex, type Address, type Hex, type LocalAccount } from "viem";
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
import { emitWrite } from "../receipt";
import { emit, table } from "../output";
import { parseAddress, parseDuration, parseId, parseInteger } from "../parse";
import { readSignatureFiles, signatureFileText, writeSignatureFile, type SignatureFile } from "../signatureFile";
import { optionsOf } from "../options";
import { describeTerms, termsFromOptions, type TermsOptions } from "./terms";

async function chainNow(context: Awaited<ReturnType<typeof contextFor>>): Promise<bigint> {
  return (await context.publicClient.getBlock({ blockTag: "latest" })).timestamp;
}

export async function propose(command: Command): Promise<void> {
  const o = optionsOf<TermsOptions>(command);
  const context = await contextFor(o, { signer: true });
  const terms = await termsFromOptions(o, context);
  const result = await proposeAgreement(context, { terms });
  emitWrite(o, { signer: signerAddress(context), sent: [result], data: { agreementId: result.agreementId, version: 1, termsHash: result.termsHash }, human: () =>
    [`agreement ${result.agreementId} proposed (version 1, terms hash ${result.termsHash})`, "", describeTerms(terms), ""].join("\n") });
}

export async function amend(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
  const o = optionsOf<TermsOptions>(command);
  const context = await contextFor(o, { signer: true });
  const terms = await termsFromOptions(o, context);
  const result = await proposeAmendment(context, { agreementId: parseId(id, "agreement id"), terms });
  emitWrite(o, { signer: signerAddress(context), sent: [result], data: { agreementId: BigInt(id), version: result.version, termsHash: result.termsHash }, human: () =>
    `agreement ${id}: version ${result.version} proposed (terms hash ${result.termsHash}); it takes effect with every party's consent` });
}

export async function sign(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
  const o = optionsOf<{ version?: string; termination?: boolean; out?: string; deadline: string; nonce?: string; wallet?: string }>(command);
  const agreementId = parseId(id, "agreement id");
  const context = await contextFor(o, { signer: true });
  const info = await getAgreement(context, { agreementId });
  const deadline = (await chainNow(context)) + BigInt(parseDuration(o.deadline, "--deadline"));
  const nonce = o.nonce ? parseId(o.nonce, "--nonce", 256) : undefined;
  let version: number;
  let terms: Terms | undefined;
  if (o.termination) {
    version = info.activeVersion;
    if (info.status !== "active") throw new UsageError(`agreement ${id} is ${info.status}; only an active agreement can be terminated`);
  } else {
    version = o.version ? parseInteger(o.version, "--version", 1, info.latestVersion) : info.latestVersion;
    if (version <= info.activeVersion) throw new UsageError(`version ${version} of agreement ${id} is already active or superseded`);
    ({ terms } = await getVersion(context, { agreementId, version }));
  }
  if (o.wallet !== undefined) {
    const { signAsWalletOwner } = await import("./walletConsent");
    const kind = o.termination ? "termination" : "consent";
    const signedPart = await signAsWalletOwner(context, (context.account ?? context.walletClient!.account!) as Address | LocalAccount, { wallet: o.wallet, out: o.out }, { kind, agreementId, version, terms, nonce, deadline });
    const { file, owner, complete, refusal } = signedPart;
    emit(o, { ...file, file: o.out, owner, complete, ...(refusal ? { refusal } : {}) }, () =>
      `${owner} signed ${kind} to agreement ${id} version ${version} for the wallet ${file.signer} (${file.owners.length} owner${file.owners.length === 1 ? "" : "s"} in ${o.out}): ` +
      (complete ? "the wallet accepts the signature; the file is ready for activate" : `not enough yet (${refusal}); the next owner signs into the same file`));
    return;
  }
  const signed: ConsentSignature = o.termination
    ? await signTermination(context, { agreementId, version, nonce, deadline })
    : await signConsent(context, { agreementId, version, terms: terms!, nonce, deadline });
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
  if (o.out) {
    writeSignatureFile(o.out, file);
    emit(o, { ...file, file: o.out }, () => `${signed.signer} signed ${file.kind} to agreement ${id} version ${version}; wrote ${o.out}`);
  } else {
    process.stdout.write(signatureFileText(file));
  }
}

export async function approve(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
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
    emitWrite(o, { signer: signerAddress(context), sent: [result], data: { agreementId, version, termination: Boolean(o.termination), revoked: true, party: result.party }, human: () => `${me} revoked its approval of ${what}` });
    return;
  }
  const expiry = (await chainNow(context)) + BigInt(parseDuration(o.expiry, "--expiry"));
  const result = o.termination
    ? await approveTermination(context, { agreementId, version, expiry })
    : await approveVersion(context, { agreementId, version, expiry });
  emitWrite(o, { signer: signerAddress(context), sent: [result], data: { agreementId, version, termination: Boolean(o.termination), party: result.party, expiry: result.expiry }, human: () =>
    `${me} approved ${what}, until ${new Date(Number(result.expiry) * 1000).toISOString()}` });
}

export async function activate(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
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
  emitWrite(o, { signer: signerAddress(context), sent: [result], data: { agreementId, version, signers: result.signers }, human: () =>
    `agreement ${id} version ${version} is active (${signatures.length} signatures, the rest approved on chain)` });
}

export async function terminate(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
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
  emitWrite(o, { signer: signerAddress(context), sent: [result], data: { agreementId, terminated: true }, human: () => `agreement ${id} terminated` });
}

export async function show(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
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
}

export async function list(command: Command): Promise<void> {
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
  emit(o, { agreements: rows }, () =>
    table(rows.map((r) => ({ id: r.agreementId, status: r.status, active: r.activeVersion || "-", latest: r.latestVersion, fee: `${r.referralFeeBps} bps`, reserve: `${r.reserveBps} bps` }))),
  );
}

export async function history(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
  const o = optionsOf(command);
  const context = await contextFor(o, { signer: false });
  const events = await getAgreementHistory(context, { agreementId: parseId(id, "agreement id") });
  emit(o, { events: events.map(({ args, ...rest }) => ({ ...rest, args: Object.fromEntries(Object.entries(args).filter(([k]) => k !== "terms")) })) }, () =>
    table(
      events.map((e) => ({
        block: e.blockNumber,
        event: e.eventName,
        version: e.args.version !== undefined ? String(e.args.version) : "",
        who: String(e.args.party ?? e.args.proposer ?? e.args.mover ?? ""),
      })),
    ),
  );
}
