import type { Command } from "commander";
import {
  acceptOffer,
  endNegotiation,
  expireNegotiation,
  getNegotiation,
  offerTerms,
  openNegotiation,
  withdrawAcceptance,
  type Terms,
} from "../../sdk";
import { contextFor, signerAddress } from "../context";
import { UsageError } from "../errors";
import { emitWrite } from "../receipt";
import { emit, table } from "../output";
import { parseDuration, parseId, parseInteger } from "../parse";
import { describeTerms, termsFromOptions, type TermsOptions } from "./terms";
import { optionsOf } from "../options";

const iso = (seconds: bigint | number) => new Date(Number(seconds) * 1000).toISOString();
const sharesOf = (terms: Terms) => terms.parties.map((p) => `${p.agreementId ? `#${p.agreementId}@${p.version}` : p.account.slice(0, 8)} ${p.shareBps}`).join(", ");

export async function open(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
  const o = optionsOf<TermsOptions & { rounds: string; duration: string; moveTimeout: string }>(command);
  const agreementId = parseId(id, "agreement id");
  const context = await contextFor(o, { signer: true });
  const offer = await termsFromOptions(o, context);
  const roundLimit = parseInteger(o.rounds, "--rounds", 1, 2 ** 32 - 1);
  const duration = parseDuration(o.duration, "--duration");
  const moveTimeout = parseDuration(o.moveTimeout, "--move-timeout");
  const result = await openNegotiation(context, { agreementId, roundLimit, duration, moveTimeout, initialOffer: offer });
  emitWrite(o, { signer: signerAddress(context), sent: [result], data: { agreementId, negotiationId: result.negotiationId, participants: result.participants, deadline: result.deadline, roundLimit, moveTimeout }, human: () =>
    [
      `${signerAddress(context)} opened negotiation ${result.negotiationId} on agreement ${id}: ${roundLimit} rounds, until ${iso(result.deadline)}, ${moveTimeout} s per move at most`,
      `participants in turn order: ${result.participants.join(", ")}`,
    ].join("\n") });
}

export async function offer(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
  const o = optionsOf<TermsOptions>(command);
  const agreementId = parseId(id, "agreement id");
  const context = await contextFor(o, { signer: true });
  const terms = await termsFromOptions(o, context);
  const result = await offerTerms(context, { agreementId, terms });
  emitWrite(o, { signer: signerAddress(context), sent: [result], data: { agreementId, move: result.move, offerHash: result.offerHash }, human: () => `${signerAddress(context)} offered new terms on agreement ${id} (move ${result.move})` });
}

export async function accept(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
  const o = optionsOf(command);
  const agreementId = parseId(id, "agreement id");
  const context = await contextFor(o, { signer: true });
  const result = await acceptOffer(context, { agreementId });
  emitWrite(o, { signer: signerAddress(context), sent: [result], data: { agreementId, move: result.move, agreed: result.agreed, version: result.version ?? null }, human: () =>
    result.agreed
      ? `every participant accepted: agreement ${id} version ${result.version} is active`
      : `${signerAddress(context)} accepted the latest offer on agreement ${id} (move ${result.move})` });
}

export async function withdrawAcceptanceMove(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
  const o = optionsOf(command);
  const agreementId = parseId(id, "agreement id");
  const context = await contextFor(o, { signer: true });
  const result = await withdrawAcceptance(context, { agreementId });
  emitWrite(o, { signer: signerAddress(context), sent: [result], data: { agreementId, withdrawn: true }, human: () => `${signerAddress(context)} no longer accepts the latest offer on agreement ${id}` });
}

export async function end(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
  const o = optionsOf(command);
  const agreementId = parseId(id, "agreement id");
  const context = await contextFor(o, { signer: true });
  const result = await endNegotiation(context, { agreementId });
  emitWrite(o, { signer: signerAddress(context), sent: [result], data: { agreementId, broken: true }, human: () => `negotiation on agreement ${id} ended by ${signerAddress(context)}` });
}

export async function expire(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
  const o = optionsOf(command);
  const agreementId = parseId(id, "agreement id");
  const context = await contextFor(o, { signer: true });
  const result = await expireNegotiation(context, { agreementId });
  emitWrite(o, { signer: signerAddress(context), sent: [result], data: { agreementId, expired: true }, human: () => `negotiation on agreement ${id} closed as expired` });
}

export async function show(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
  const o = optionsOf(command);
  const agreementId = parseId(id, "agreement id");
  const context = await contextFor(o, { signer: false });
  const n = await getNegotiation(context, { agreementId });
  if (n.negotiationId === 0) throw new UsageError(`agreement ${id} was never negotiated`);
  const accepts = new Set(n.accepted.map((a) => a.toLowerCase()));
  emit(o, n, () =>
    [
      `negotiation ${n.negotiationId} of agreement ${id}: ${n.status}${n.nextMover ? `, next mover ${n.nextMover}` : ""}`,
      `${n.moves} moves of ${n.roundLimit * n.participants.length}; deadline ${iso(n.deadline)}; move timeout ${n.moveTimeout} s (last move ${iso(n.lastMoveAt)})`,
      table(n.participants.map((p, i) => ({ "#": i, participant: p, accepts: accepts.has(p.toLowerCase()) ? "yes" : "" }))),
      ...(n.latestOffer
        ? [`latest offer (move ${n.latestOffer.move} by ${n.latestOffer.proposer}): ${sharesOf(n.latestOffer.terms)}`, describeTerms(n.latestOffer.terms)]
        : []),
    ].join("\n"),
  );
}
