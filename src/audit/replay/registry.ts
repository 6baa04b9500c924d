/**
 * Replays the registry's events: agreements, versions with their terms, approvals that expire and
 * can be revoked, consent signatures, activations and terminations. Checks the consent law
 * (DESIGN.md law 5: every consenter of the version's tree, nested members included, and for an
 * amendment every consenter of the version in force, consented by a signature counted in the same
 * transaction, a live approval, or, for negotiated terms, an acceptance in the hub), the pins of
 * nested parties, and that each activation's unit and parties root are the terms' own.
 */
import type { Address, Hex } from "viem";
import { partiesRoot } from "../../sdk/partyTree";
import { distributionUnit } from "../../sdk/split";
import type { Terms } from "../../sdk/terms";
import { hashTerms } from "../../sdk/typedData";
import type { ConcordLog, EventRef } from "../types";
import type { AgreementState, ReplayBook, VersionState } from "./state";

type Args = Readonly<Record<string, unknown>>;

/** Where the share of a nested party goes: the pinned child must be active at that very version. */
function checkPins(book: ReplayBook, agreementId: bigint, terms: Terms, event: EventRef): void {
  for (const party of terms.parties) {
    if (party.agreementId === 0n) continue;
    const child = book.agreements.get(party.agreementId);
    if (party.agreementId >= agreementId || !child || child.status !== "active" || child.activeVersion !== party.version) {
      book.violate(
        "predictability",
        `agreement ${agreementId} pins agreement ${party.agreementId} version ${party.version}, which is ${child ? `${child.status} at version ${child.activeVersion}` : "unknown"}`,
        event,
      );
    }
  }
}

/** Records that `v` of `agreementId`, just activated, pins each of its nested parties' versions (the registry's `pinnedBy`). */
function pin(book: ReplayBook, agreementId: bigint, v: VersionState): void {
  for (const party of v.terms.parties) {
    if (party.agreementId === 0n) continue;
    book.termsOf(party.agreementId, party.version)?.pinnedBy.push({ agreementId, version: v.version });
  }
}

/** Whether an approval given until `expiry` counts at `time` (the registry: `block.timestamp <= expiry`). */
const live = (expiry: bigint | undefined, time: bigint | undefined): boolean => expiry !== undefined && (time === undefined || time <= expiry);

/** The agreement's open negotiation and its latest offer, if that offer's terms hash is `termsHash`. */
function negotiatedOffer(book: ReplayBook, agreementId: bigint, termsHash: Hex) {
  for (const n of book.negotiations.values()) {
    const latest = n.offers.at(-1);
    if (n.agreementId === agreementId && n.status === "open" && latest?.offerHash === termsHash) return { negotiation: n, offer: latest };
  }
  return undefined;
}

function onVersionProposed(book: ReplayBook, agreement: AgreementState, args: Args, event: EventRef): void {
  const version = Number(args.version);
  const terms = args.terms as Terms;
  const proposer = args.proposer as Address;
  const termsHash = args.termsHash as Hex;
  const id = agreement.agreementId;
  if (version !== agreement.latestVersion + 1) book.violate("consistency", `agreement ${id}: version ${version} proposed after version ${agreement.latestVersion}`, event);
  if (hashTerms(terms) !== termsHash) book.violate("consistency", `agreement ${id} version ${version}: the terms emitted do not hash to ${termsHash}`, event);
  const current = agreement.versions.get(agreement.activeVersion);
  // A negotiated version is proposed in the transaction of the hub's last acceptance, by the participant whose offer was agreed.
  const negotiated = book.hubAcceptance?.transactionHash === event.transactionHash && book.hubAcceptance.agreementId === id;
  const offer = negotiated ? negotiatedOffer(book, id, termsHash) : undefined;
  const mayPropose = negotiated
    ? offer?.offer.proposer === proposer
    : agreement.status === "active" && current
      ? book.consentersOf(current.terms).has(proposer)
      : proposer === agreement.proposer;
  if (!mayPropose) book.violate("consent", `agreement ${id} version ${version} proposed by ${proposer}, who is not a consenter of the version in force`, event, undefined, proposer);
  checkPins(book, id, terms, event);
  for (const party of terms.parties) if (party.agreementId === 0n) book.accounts.add(party.account);
  agreement.latestVersion = Math.max(agreement.latestVersion, version);
  agreement.versions.set(version, {
    version,
    termsHash,
    terms,
    proposer,
    proposedAt: event,
    approvals: new Map(),
    terminationApprovals: new Map(),
    negotiated,
    signed: [],
    terminationSigned: [],
    pinnedBy: [],
  });
}

function onVersionActivated(book: ReplayBook, agreement: AgreementState, log: ConcordLog): void {
  const args = log.args;
  const id = agreement.agreementId;
  const version = Number(args.version);
  const v = book.versionFor(id, version, log);
  if (!v) return;
  const unit = BigInt(args.unit as number);
  if (args.termsHash !== v.termsHash) book.violate("consistency", `agreement ${id} version ${version} activated with terms hash ${String(args.termsHash)}, proposed as ${v.termsHash}`, log);
  const shares = v.terms.parties.map((p) => p.shareBps);
  if (distributionUnit(shares) !== unit) book.violate("predictability", `agreement ${id} version ${version}: unit ${unit}, the shares give ${distributionUnit(shares)}`, log);
  if (partiesRoot(v.terms.parties) !== args.partiesRoot) book.violate("predictability", `agreement ${id} version ${version}: parties root ${String(args.partiesRoot)} is not the terms' own`, log);
  if (version <= agreement.activeVersion || agreement.status === "terminated") {
    book.violate("consistency", `agreement ${id} activated version ${version} while ${agreement.status} at version ${agreement.activeVersion}`, log);
  }

  // Consent: every consenter of the new tree, and of the tree in force for an amendment.
  const current = agreement.status === "active" ? agreement.versions.get(agreement.activeVersion) : undefined;
  const required = book.consentersOf(v.terms);
  if (current) for (const account of book.consentersOf(current.terms)) required.add(account);
  const signed = new Set(v.signed.filter((s) => s.transactionHash === log.transactionHash).map((s) => s.party));
  const accepted = v.negotiated ? negotiatedOffer(book, id, v.termsHash)?.offer.acceptedBy : undefined;
  for (const account of [...required].sort()) {
    if (signed.has(account) || live(v.approvals.get(account), log.blockTimestamp) || accepted?.has(account)) continue;
    book.violate("consent", `agreement ${id} version ${version} activated without the consent of ${account}`, log, undefined, account);
  }
  for (const signer of signed) {
    if (!required.has(signer)) book.violate("consent", `agreement ${id} version ${version}: ${signer} signed but is not a consenter`, log, undefined, signer);
  }

  // Activation pins the nested parties again: each must still be active at its pinned version.
  checkPins(book, id, v.terms, log);
  pin(book, id, v);
  v.unit = unit;
  v.partiesRoot = args.partiesRoot as Hex;
  v.activatedAt = log;
  agreement.activeVersion = version;
  agreement.status = "active";
}

function onTerminated(book: ReplayBook, agreement: AgreementState, log: ConcordLog): void {
  const id = agreement.agreementId;
  const version = Number(log.args.version);
  const v = agreement.versions.get(version);
  if (agreement.status !== "active" || version !== agreement.activeVersion || !v) {
    book.violate("consistency", `agreement ${id} terminated at version ${version} while ${agreement.status} at version ${agreement.activeVersion}`, log);
  }
  if (v) {
    const signed = new Set(v.terminationSigned.filter((s) => s.transactionHash === log.transactionHash).map((s) => s.party));
    const required = book.consentersOf(v.terms);
    for (const account of [...required].sort()) {
      if (signed.has(account) || live(v.terminationApprovals.get(account), log.blockTimestamp)) continue;
      book.violate("consent", `agreement ${id} terminated without the consent of ${account}`, log, undefined, account);
    }
    for (const signer of signed) {
      if (!required.has(signer)) book.violate("consent", `agreement ${id} termination: ${signer} signed but is not a consenter`, log, undefined, signer);
    }
  }
  agreement.status = "terminated";
}

/** Applies one registry event. */
export function applyRegistry(book: ReplayBook, log: ConcordLog): void {
  const args = log.args;
  if (log.eventName === "NonceCancelled") return; // moves no value and changes no terms
  const agreementId = args.agreementId as bigint;
  if (log.eventName === "AgreementProposed") {
    if (book.agreements.has(agreementId)) book.violate("consistency", `agreement ${agreementId} proposed twice`, log);
    else book.agreements.set(agreementId, { agreementId, proposer: args.proposer as Address, status: "proposed", latestVersion: 0, activeVersion: 0, versions: new Map() });
    return;
  }
  const agreement = book.agreementFor(agreementId, log);
  if (!agreement) return;
  if (log.eventName === "VersionProposed") return onVersionProposed(book, agreement, args, log);
  if (log.eventName === "VersionActivated") return onVersionActivated(book, agreement, log);
  if (log.eventName === "AgreementTerminated") return onTerminated(book, agreement, log);
  const v = book.versionFor(agreementId, Number(args.version), log);
  if (!v) return;
  const party = args.party as Address;
  switch (log.eventName) {
    case "VersionApproved":
      v.approvals.set(party, BigInt(args.expiry as bigint));
      return;
    case "ApprovalRevoked":
      v.approvals.delete(party);
      return;
    case "ConsentSigned":
      v.signed.push({ party, transactionHash: log.transactionHash });
      return;
    case "TerminationApproved":
      v.terminationApprovals.set(party, BigInt(args.expiry as bigint));
      return;
    case "TerminationApprovalRevoked":
      v.terminationApprovals.delete(party);
      return;
    case "TerminationSigned":
      v.terminationSigned.push({ party, transactionHash: log.transactionHash });
      return;
    default:
      book.violate("consistency", `unknown registry event ${log.eventName}`, log);
  }
}
