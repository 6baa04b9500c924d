import os from "node:os";
import type { Command } from "commander";
import { zeroAddress, type Address } from "viem";
import { getAgreement } from "../../sdk";
import {
  DEFAULT_STANCE,
  contextMoveSender,
  PartyMoveError,
  PartySetupError,
  StanceError,
  TACTICS,
  describeOffer,
  partyAgent,
  partySeed,
  playParty,
  readPartyRisk,
  tacticByName,
  type MeasuredRisk,
  type Offer,
  type PartyAgentReturnType,
  type PartyOutcome,
  type PartyRound,
  type PartySetup,
  type PartyStance,
  type Reservation,
} from "../../negotiation";
import { contextFor, signerAddress } from "../context";
import { ChainError, ExitCode, UsageError } from "../errors";
import { toJson, toJsonLine } from "../output";
import { parseAddress, parseDuration, parseId, parseInteger } from "../parse";
import { optionsOf } from "../options";

type AgentOptions = {
  tactic: string;
  reservation: string;
  idealFee: string;
  idealReserve?: string;
  idealWindow: string;
  weights: string;
  refundExposure: string;
  feeElasticity: string;
  token?: string;
  seed?: string;
  pollInterval: string;
  maxWait?: string;
  fromBlock: string;
  jsonLines?: boolean;
};


/** Parses --reservation: "0.45" (a utility) or "30%" (a walk-away share). */
export function parseReservation(value: string): Reservation {
  const text = value.trim();
  const share = /^(\d{1,3}(?:\.\d{1,2})?)%$/.exec(text);
  if (share) {
    const bps = Math.round(Number(share[1]) * 100);
    if (bps <= 0 || bps > 10_000) throw new UsageError(`--reservation ${text} is out of range: a walk-away share is more than 0% and at most 100%`);
    return { walkAwayShareBps: bps };
  }
  if (/^\d*\.?\d+$/.test(text)) {
    const utility = Number(text);
    if (utility > 1) throw new UsageError(`--reservation ${text} is out of range: a utility is from 0 to 1 (or give a walk-away share such as 30%)`);
    return { utility };
  }
  throw new UsageError(`--reservation "${value}" is not a utility from 0 to 1 (0.45) or a walk-away share (30%)`);
}

/** Parses a number in [min, max] ("0.5"). */
function parseNumber(value: string, what: string, min: number, max: number): number {
  if (!/^\d*\.?\d+$/.test(value.trim())) throw new UsageError(`${what} "${value}" is not a number`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`${what} is ${n}; it must be from ${min} to ${max}`);
  return n;
}

/** Parses --weights "value,fee,reserve,window": four non-negative numbers that sum to 1. */
function parseWeights(value: string): PartyStance["weights"] {
  const parts = value.split(",").map((s) => s.trim());
  if (parts.length !== 4) throw new UsageError(`--weights "${value}" is not four numbers (money, fee, reserve, window), e.g. 0.75,0.1,0.1,0.05`);
  const [v, f, r, w] = parts.map((p, i) => parseNumber(p, `--weights ${["money", "fee", "reserve", "window"][i]} weight`, 0, 1)) as [number, number, number, number];
  if (Math.abs(v + f + r + w - 1) > 1e-9) throw new UsageError(`--weights "${value}" sum to ${+(v + f + r + w).toFixed(6)}; they must sum to 1`);
  return { value: v, referralFee: f, reserve: r, disputeWindow: w };
}

/** The agent's stance from the options, checked before anything is read from the chain. */
function stanceFromOptions(o: AgentOptions): Omit<PartyStance, "idealReserveBps"> & { idealReserveBps?: number } {
  let tactic;
  try {
    tactic = tacticByName(o.tactic);
  } catch {
    throw new UsageError(`--tactic "${o.tactic}" is not a tactic: use ${Object.keys(TACTICS).join(", ")}`);
  }
  const window = parseDuration(o.idealWindow, "--ideal-window");
  if (window < 3_600 || window > 365 * 86_400) throw new UsageError(`--ideal-window ${o.idealWindow} is out of range: from 1h to 365d`);
  return {
    ...DEFAULT_STANCE,
    tactic,
    reservation: parseReservation(o.reservation),
    weights: parseWeights(o.weights),
    idealReferralFeeBps: parseInteger(o.idealFee, "--ideal-fee", 0, 2_000),
    ...(o.idealReserve === undefined ? {} : { idealReserveBps: parseInteger(o.idealReserve, "--ideal-reserve", 0, 5_000) }),
    idealDisputeWindowDays: window / 86_400,
    refundExposure: parseNumber(o.refundExposure, "--refund-exposure", 0, 1),
    feeElasticity: parseNumber(o.feeElasticity, "--fee-elasticity", 0, 100),
  };
}

const short = (a: string) => `${a.slice(0, 6)}…${a.slice(-4)}`;
const pct = (bps: number) => `${+(bps / 100).toFixed(2)}%`;

function offerJson(offer: Offer, participants: readonly Address[]) {
  return {
    shares: participants.map((account, i) => ({ account, shareBps: offer.shares[i] ?? 0 })),
    referralFeeBps: offer.referralFeeBps,
    reserveBps: offer.reserveBps,
    disputeWindow: offer.disputeWindow,
  };
}

function roundJson(r: PartyRound, participants: readonly Address[]) {
  return {
    move: r.move,
    round: r.round,
    by: r.mover,
    mine: r.mine,
    kind: r.kind,
    offer: offerJson(r.offer, participants),
    utility: r.utility,
    acceptedBy: participants.filter((_, i) => r.accepted[i]),
    ...(r.reason === undefined ? {} : { reason: r.reason }),
    transactionHash: r.transactionHash,
    blockNumber: r.blockNumber,
  };
}

function outcomeJson(outcome: PartyOutcome, setup: PartySetup) {
  switch (outcome.status) {
    case "agreed":
      return { ...outcome, offer: offerJson(outcome.offer, setup.participants) };
    case "broken":
      return { status: outcome.status, moves: outcome.moves, by: outcome.party, ...(outcome.reason === undefined ? {} : { reason: outcome.reason }) };
    default:
      return outcome;
  }
}

const ROW = (move: string, round: string, by: string, did: string, offer: string, utility: string, accepted: string) =>
  `${move.padStart(4)} ${round.padStart(3)}  ${by.padEnd(19)} ${did.padEnd(6)}  ${offer.padEnd(50)} ${utility.padStart(7)}  ${accepted}`;

function humanRound(r: PartyRound, participants: number): string {
  const accepted = r.accepted.filter(Boolean).length;
  const row = ROW(String(r.move), String(r.round), `${short(r.mover)}${r.mine ? " (you)" : ""}`, r.kind, describeOffer(r.offer), r.utility.toFixed(3), `${accepted}/${participants}`);
  return r.reason ? `${row}\n      reason: ${r.reason}` : row;
}

function humanOutcome(outcome: PartyOutcome, setup: PartySetup, reservation: number): string {
  switch (outcome.status) {
    case "agreed":
      return (
        `agreed at move ${outcome.moves}: agreement ${setup.agreementId} version ${outcome.version} is active (terms hash ${outcome.termsHash})\n` +
        `  ${describeOffer(outcome.offer)}; your utility ${outcome.utility.toFixed(3)} (reservation ${reservation.toFixed(3)})`
      );
    case "broken":
      return `no agreement: broken by ${outcome.party}${outcome.by === setup.self ? " (you)" : ""} at move ${outcome.moves}${outcome.reason ? `: ${outcome.reason}` : ""}`;
    case "expired":
      return `no agreement: expired after ${outcome.moves} moves: ${outcome.reason}${outcome.expireTransaction ? ` (recorded in ${outcome.expireTransaction})` : ""}`;
    case "stopped":
      return `${outcome.reason}; run the agent again to resume`;
  }
}

/** 128 + the signal's number, as shells report a process stopped by it. */
const signalExitCode = (signal: NodeJS.Signals) => 128 + (os.constants.signals[signal] ?? 2);

function exitCodeOf(outcome: PartyOutcome, signal: NodeJS.Signals | undefined): number {
  switch (outcome.status) {
    case "agreed":
      return ExitCode.Ok;
    case "broken":
    case "expired":
      return ExitCode.NoAgreement;
    case "stopped":
      return outcome.cause === "max-wait" ? ExitCode.Stopped : signalExitCode(signal ?? "SIGINT");
  }
}

/** What the agent starts with: printed first with --json-lines, and part of the final document. */
type StartDocument = ReturnType<typeof startDocument>;

function startDocument(setup: PartySetup, stance: PartyStance, made: PartyAgentReturnType, seed: number, risk: MeasuredRisk, token: Address) {
  return {
    agreementId: setup.agreementId,
    negotiationId: setup.negotiationId,
    account: setup.account,
    participant: setup.self,
    participants: setup.participants,
    roundLimit: setup.roundLimit,
    deadline: setup.deadline,
    moveTimeout: setup.moveTimeout,
    tactic: stance.tactic.name,
    seed,
    reservation: { utility: made.reservation, walkAwayShareBps: made.walkAwayShareBps ?? null, maxUtility: made.maxUtility },
    ideal: made.ideal,
    risk: {
      token,
      refundRate: risk.estimate.refundRate,
      observedRefundRate: risk.estimate.observedRefundRate,
      interval: risk.estimate.interval,
      evidence: risk.estimate.evidence,
      settlements: risk.estimate.settlements,
      recommendedReserveBps: risk.reserveBps,
      basis: risk.basis,
    },
  };
}

function humanHeader(start: StartDocument, setup: PartySetup, stance: PartyStance, reserveGiven: boolean): string {
  const order = setup.participants.map((p, i) => `${short(p)}${i === setup.self ? " (you)" : ""}`).join(", ");
  const reserve = stance.idealReserveBps === 0 ? "no reserve" : `reserve ${pct(stance.idealReserveBps)} for ${stance.idealDisputeWindowDays}d`;
  const ideals = `fee ${pct(stance.idealReferralFeeBps)}, ${reserve}`;
  const { reservation, risk } = start;
  const meaning = reservation.walkAwayShareBps === null ? `no share reaches it at ${ideals}` : `= a ${pct(reservation.walkAwayShareBps)} share at ${ideals}`;
  return [
    `agent for ${setup.account} on agreement ${setup.agreementId}, negotiation ${setup.negotiationId}: participant ${setup.self + 1} of ${setup.participants.length} (shares in the order ${order})`,
    `tactic ${start.tactic}; reservation ${reservation.utility.toFixed(3)} (${meaning}); the best offer for you is worth ${reservation.maxUtility.toFixed(3)}`,
    `measured risk: refund rate ${(risk.refundRate * 100).toFixed(2)}% (${Math.round(risk.interval.level * 100)}% upper ${(risk.interval.upper * 100).toFixed(2)}%) ` +
      `over ${risk.evidence.toFixed(1)} observations by volume (${risk.settlements} settlements): asks a ${pct(risk.recommendedReserveBps)} reserve${reserveGiven ? ` (--ideal-reserve ${pct(stance.idealReserveBps)} used instead)` : ""}`,
    `${setup.roundLimit} rounds, until ${new Date(Number(setup.deadline) * 1000).toISOString()}, at most ${setup.moveTimeout} s per move; seed ${start.seed}`,
    ROW("move", "rnd", "by", "did", "offer", "utility", "accepted"),
  ].join("\n");
}

/**
 * Runs `play` with SIGINT and SIGTERM turned into a stop between moves: the first signal aborts
 * `signal` (a move already sent is waited for, via `moveInFlight`); a second one exits at once.
 */
async function untilStopSignal<T>(
  play: (signal: AbortSignal, moveInFlight: <R>(send: () => Promise<R>) => Promise<R>) => Promise<T>,
): Promise<{ value: T; stoppedBy: NodeJS.Signals | undefined }> {
  const controller = new AbortController();
  let sending = false;
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppedBy) {
      process.stderr.write(`${signal} again: exiting now${sending ? "; the move already sent may still be mined" : ""}\n`);
      process.exit(signalExitCode(signal));
    }
    stoppedBy = signal;
    process.stderr.write(`${signal}: stopping${sending ? " once the move already sent is mined" : ""}\n`);
    controller.abort(signal);
  };
  const moveInFlight = async <R>(send: () => Promise<R>): Promise<R> => {
    sending = true;
    try {
      return await send();
    } finally {
      sending = false;
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return { value: await play(controller.signal, moveInFlight), stoppedBy };
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** `concord negotiate agent`. */
export async function agent(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];

  const o = optionsOf<AgentOptions>(command);
  const agreementId = parseId(id, "agreement id");
  if (o.json && o.jsonLines) throw new UsageError("give --json (one document at the end) or --json-lines (a line per event), not both");
  const partial = stanceFromOptions(o);
  const pollIntervalMs = parseInteger(o.pollInterval, "--poll-interval", 50, 600_000);
  const maxWaitMs = o.maxWait === undefined ? undefined : parseDuration(o.maxWait, "--max-wait") * 1000;
  if (maxWaitMs === 0) throw new UsageError("--max-wait must be more than 0 seconds");
  const fromBlock = parseId(o.fromBlock, "--from-block");
  const seedOption = o.seed === undefined ? undefined : parseInteger(o.seed, "--seed", 0, 2 ** 31 - 1);
  const token = o.token ? parseAddress(o.token, "--token") : zeroAddress;

  const context = await contextFor(o, { signer: true });
  const account = signerAddress(context);
  await getAgreement(context, { agreementId });
  const sendMove = contextMoveSender(context);
  const risk = await readPartyRisk(context, { account, token, fromBlock });
  const stance: PartyStance = { ...partial, idealReserveBps: partial.idealReserveBps ?? risk.reserveBps };

  const print = (line: string) => process.stdout.write(`${line}\n`);
  let start: StartDocument | undefined;
  const rounds: PartyRound[] = [];
  const result = await untilStopSignal((signal, moveInFlight) =>
    playParty({
      context,
      agreementId,
      account,
      agent: (setup) => {
        const seed = seedOption ?? partySeed(agreementId, setup.negotiationId, account);
        const made = partyAgent({ participants: setup.participants, self: setup.self, stance, refundRate: risk.estimate.refundRate, seed, name: short(account) });
        start = startDocument(setup, stance, made, seed, risk, token);
        return made.agent;
      },
      send: (move) => moveInFlight(() => sendMove(move)),
      pollIntervalMs,
      maxWaitMs,
      fromBlock,
      signal,
      onStart: (setup) => {
        if (o.jsonLines) print(toJsonLine({ event: "start", ...start! }));
        else if (!o.json) print(humanHeader(start!, setup, stance, partial.idealReserveBps !== undefined));
      },
      onRound: (r) => {
        rounds.push(r);
        if (o.jsonLines) print(toJsonLine({ event: "round", ...roundJson(r, start!.participants) }));
        else if (!o.json) print(humanRound(r, start!.participants.length));
      },
    }),
  ).catch((error: unknown) => {
    if (error instanceof PartySetupError || error instanceof StanceError) throw new UsageError(`${error.message}; nothing was sent`);
    if (error instanceof PartyMoveError) throw new ChainError(error.message);
    throw error;
  });

  const { setup, outcome, transactions } = result.value;
  const document = { ...start!, rounds: rounds.map((r) => roundJson(r, setup.participants)), outcome: outcomeJson(outcome, setup), transactions };
  if (o.jsonLines) print(toJsonLine({ event: "result", ...document }));
  else if (o.json) print(toJson(document));
  else print(humanOutcome(outcome, setup, start!.reservation.utility));
  process.exitCode = exitCodeOf(outcome, result.stoppedBy);
}
