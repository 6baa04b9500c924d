/**
 * Plays one participant of a negotiation on chain until the negotiation ends: the per-party
 * counterpart of {@link runOnchainNegotiation}, for an agent that runs in its own process beside
 * the other parties' agents (the `concord negotiate agent` command, a partner's server).
 *
 * It reads the negotiation through the SDK (its state with getNegotiation, every round from the
 * hub's events with getConcordEvents), waits for this party's turn by polling, and makes the
 * agent's move through a `send` function (by default the SDK's negotiation actions from the
 * context's account), so that the caller may decide how to sign and check a move before sending
 * it. What the agent sees is rebuilt from the chain's record and its decisions depend only on that
 * and its seed: an agent stopped and started again resumes where it was.
 */
import { getAddress, numberToHex, pad, type Address, type Hex } from "viem";
import {
  acceptOffer,
  contractAddresses,
  endNegotiation,
  expireNegotiation,
  getConcordEvents,
  getNegotiation,
  offerTerms,
  ContractRevertError,
  NEGOTIATION_STATUS_NAMES as STATUS_NAMES,
  type ConcordContext,
} from "../sdk";
import type { NegotiationAgent } from "./agent";
import {
  NegotiationRecord,
  PartySetupError,
  expiryReason,
  offerOf,
  termsForOffer,
  type HubEvent,
  type PartyRound,
  type PartySetup,
} from "./partyRecord";
import type { ChainTerms } from "./terms";
import type { Offer } from "./types";

export { PartySetupError, termsForOffer, type PartyRound, type PartySetup } from "./partyRecord";

/** A call of the hub that this party makes. */
export type HubMove =
  | { functionName: "offer"; agreementId: bigint; terms: ChainTerms }
  | { functionName: "accept"; agreementId: bigint; terms: ChainTerms }
  | { functionName: "end"; agreementId: bigint }
  | { functionName: "expire"; agreementId: bigint };

/**
 * Sends `move` to the hub from this party's account and resolves with the transaction hash once
 * it is mined successfully; throws otherwise (a simulation that reverts should throw before
 * anything is signed).
 */
export type SendHubMove = (move: HubMove) => Promise<Hex>;

export type PartyOutcome =
  | { status: "agreed"; moves: number; version: number; termsHash: Hex; offer: Offer; terms: ChainTerms; utility: number }
  | { status: "broken"; moves: number; by: number; party: Address; reason?: string }
  | { status: "expired"; moves: number; reason: string; expireTransaction?: Hex }
  | { status: "stopped"; moves: number; cause: "signal" | "max-wait"; reason: string };

export type PlayPartyParameters = {
  /** Reads go through this context; its account is the party unless `account` says otherwise. */
  context: ConcordContext;
  agreementId: bigint;
  /** This party's account (default: the context's): it must be a participant of the open negotiation. */
  account?: Address;
  /** The agent, or a function that makes it once the participants are known (it may throw to refuse). */
  agent: NegotiationAgent | ((setup: PartySetup) => NegotiationAgent);
  /** How moves are sent (default {@link contextMoveSender} of `context`). */
  send?: SendHubMove;
  /** Between reads while waiting for a turn (default 1,000 ms). */
  pollIntervalMs?: number;
  /** Stop when no participant has moved for this long (default: wait until the negotiation ends). */
  maxWaitMs?: number;
  /** Stops the loop between moves; a move being sent is always waited for. */
  signal?: AbortSignal;
  /** First block to search for the negotiation's events (default 0). */
  fromBlock?: bigint;
  /** Blocks per eth_getLogs request (default 5,000). */
  chunkSize?: bigint;
  /** When the negotiation lapses on this party's turn, record it on chain with `expire` (default true). */
  recordExpiry?: boolean;
  /** Called once, with the agent, before the first round is reported. */
  onStart?: (setup: PartySetup, agent: NegotiationAgent) => void;
  /** Called for every move, in order: those made before this party sat down first. */
  onRound?: (round: PartyRound) => void;
};

export type PlayPartyReturnType = {
  setup: PartySetup;
  rounds: PartyRound[];
  outcome: PartyOutcome;
  /** This party's transactions, in order (its moves and any expiry it recorded). */
  transactions: Hex[];
};

/** A move of this party failed while the negotiation was still waiting for it. */
export class PartyMoveError extends Error {
  override name = "PartyMoveError";
  constructor(
    message: string,
    readonly move: HubMove["functionName"],
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

const STATUS_OPEN = 1;
const STATUS_AGREED = 2;
const STATUS_BROKEN = 3;
const STATUS_EXPIRED = 4;
/** Failed reads in a row after which the loop gives up (each waits one more poll interval). */
const MAX_READ_FAILURES = 5;

type HubState = {
  status: number;
  negotiationId: number;
  participantCount: number;
  turn: number;
  moves: number;
  roundLimit: number;
  deadline: bigint;
  moveTimeout: number;
  lastMoveAt: bigint;
};

type Snapshot = { blockNumber: bigint; timestamp: bigint; state: HubState };

const topicOf = (n: bigint | number): Hex => pad(numberToHex(n), { size: 32 });

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** The events of one negotiation over a block range, in chain order (the SDK's reader, filtered by agreement and negotiation). */
async function readEvents(context: ConcordContext, agreementId: bigint, negotiationId: number, fromBlock: bigint, toBlock: bigint, chunkSize: bigint): Promise<HubEvent[]> {
  if (fromBlock > toBlock) return [];
  const events = await getConcordEvents(context, {
    contracts: ["negotiationHub"],
    fromBlock,
    toBlock,
    chunkSize,
    topics: [topicOf(agreementId), topicOf(negotiationId)],
  });
  return events.map((e) => ({ eventName: e.eventName, args: e.args as unknown as Record<string, unknown>, blockNumber: e.blockNumber, transactionHash: e.transactionHash, logIndex: e.logIndex }));
}

/**
 * A {@link SendHubMove} through the SDK's negotiation actions, from the context's account: each
 * move is simulated first (a revert throws before anything is signed), sent and waited for.
 * @example
 *   const send = contextMoveSender(hotelContext);
 */
export function contextMoveSender(context: ConcordContext): SendHubMove {
  return async (move) => {
    const result =
      move.functionName === "offer"
        ? await offerTerms(context, { agreementId: move.agreementId, terms: move.terms })
        : move.functionName === "accept"
          ? await acceptOffer(context, { agreementId: move.agreementId, terms: move.terms })
          : move.functionName === "end"
            ? await endNegotiation(context, { agreementId: move.agreementId })
            : await expireNegotiation(context, { agreementId: move.agreementId });
    return result.hash;
  };
}

/**
 * Plays this party's agent in the open negotiation of `agreementId` until the negotiation is
 * agreed, broken or expired, or the loop is stopped (by `signal` or `maxWaitMs`). Throws a
 * {@link PartySetupError} before sending anything when the party cannot play (no open negotiation,
 * not a participant, an offer with nested agreements), and a {@link PartyMoveError} when one of
 * its moves fails while the negotiation still waits for it.
 *
 * @example
 *   const result = await playParty({
 *     context: hotelContext, agreementId: 3n,
 *     agent: (setup) => partyAgent({ ...setup, stance, refundRate: 0.02, seed: 7 }).agent,
 *     onRound: (r) => console.log(r.move, r.kind, r.utility.toFixed(3)),
 *   });
 *   if (result.outcome.status === "agreed") console.log(`version ${result.outcome.version} is active`);
 */
export async function playParty(params: PlayPartyParameters): Promise<PlayPartyReturnType> {
  const { context, agreementId, signal } = params;
  const { publicClient } = context;
  const account = getAddress(params.account ?? signerAddressOf(context));
  const send = params.send ?? contextMoveSender(context);
  const pollIntervalMs = params.pollIntervalMs ?? 1_000;
  const chunk = params.chunkSize ?? 5_000n;
  const recordExpiry = params.recordExpiry ?? true;
  if (!(pollIntervalMs > 0)) throw new Error(`pollIntervalMs must be positive, got ${pollIntervalMs}`);
  if (chunk <= 0n) throw new Error(`chunkSize must be at least 1 block, got ${chunk}`);

  let participants: Address[] = [];
  /** Where the negotiation's events start, once known (getNegotiation reads the offers from there). */
  let eventsFrom = params.fromBlock ?? 0n;
  /** The opener's index, once known: the turn is (opener + moves) mod participants. */
  let openerIndex = 0;
  /**
   * Set when this party's move was refused because the negotiation lapsed: a node's view at its
   * latest block may still read it open when time has moved on (a dev chain's time travel).
   */
  let lapsed = false;
  const read = async (): Promise<Snapshot> => {
    const block = await publicClient.getBlock({ blockTag: "latest" });
    const found = await getNegotiation(context, { agreementId, fromBlock: eventsFrom });
    if (participants.length === 0) participants = found.participants.map((p) => getAddress(p));
    const count = Math.max(1, found.participants.length);
    return {
      blockNumber: block.number,
      timestamp: block.timestamp,
      state: {
        status: lapsed && found.status === "open" ? STATUS_EXPIRED : STATUS_NAMES.indexOf(found.status),
        negotiationId: found.negotiationId,
        participantCount: found.participants.length,
        turn: (openerIndex + found.moves) % count,
        moves: found.moves,
        roundLimit: found.roundLimit,
        deadline: found.deadline,
        moveTimeout: found.moveTimeout,
        lastMoveAt: found.lastMoveAt,
      },
    };
  };

  // ---- sit down: the open negotiation, its participants and its rounds so far
  const first = await read();
  const { state: s0 } = first;
  if (s0.status !== STATUS_OPEN) {
    throw new PartySetupError(
      s0.negotiationId === 0
        ? `agreement ${agreementId} has no negotiation`
        : `agreement ${agreementId} has no open negotiation: negotiation ${s0.negotiationId} is ${STATUS_NAMES[s0.status] ?? s0.status}`,
    );
  }
  const negotiationId = s0.negotiationId;
  const self = participants.indexOf(account);
  if (self < 0) {
    throw new PartySetupError(`${account} is not a participant of negotiation ${negotiationId} on agreement ${agreementId} (participants: ${participants.join(", ")})`);
  }
  const fromBlock = params.fromBlock ?? 0n;
  const history = await readEvents(context, agreementId, negotiationId, fromBlock, first.blockNumber, chunk);
  const opened = history.find((e) => e.eventName === "NegotiationOpened");
  const openingOffer = history.find((e) => e.eventName === "OfferMade");
  if (!opened || !openingOffer) {
    throw new PartySetupError(`no NegotiationOpened event for negotiation ${negotiationId} of agreement ${agreementId} from block ${fromBlock}: give an earlier first block`);
  }
  const openedAt = (await publicClient.getBlock({ blockNumber: opened.blockNumber })).timestamp;
  const { negotiationHub: hub } = await contractAddresses(context);
  const setup: PartySetup = {
    hub,
    agreementId,
    negotiationId,
    participants,
    account,
    self,
    opener: participants.findIndex((p) => p.toLowerCase() === String(opened.args.opener).toLowerCase()),
    roundLimit: s0.roundLimit,
    deadline: s0.deadline,
    moveTimeout: s0.moveTimeout,
    openedAt,
    openedBlock: opened.blockNumber,
    opening: openingOffer.args.terms as ChainTerms,
  };
  // Every offer so far must be one an agent can weigh.
  for (const e of history) if (e.eventName === "OfferMade") offerOf(e.args.terms as ChainTerms, setup, Number(e.args.move));
  const agent = typeof params.agent === "function" ? params.agent(setup) : params.agent;
  if (agent.self !== self || agent.utility.model.space.parties !== participants.length) {
    throw new PartySetupError(
      `agent ${agent.name} is participant ${agent.self} of ${agent.utility.model.space.parties}; this party is participant ${self} of ${participants.length}`,
    );
  }
  params.onStart?.(setup, agent);
  openerIndex = setup.opener;
  eventsFrom = setup.openedBlock;
  first.state.turn = (openerIndex + first.state.moves) % participants.length;

  const record = new NegotiationRecord(setup, agent, params.onRound);
  record.apply(history);
  let scannedTo = first.blockNumber;
  const transactions: Hex[] = [];

  /** Whether the events read so far explain `state` (a node's logs may lag behind its state). */
  const explains = (state: HubState): boolean => {
    if (state.negotiationId !== negotiationId) return Boolean(record.agreed || record.broken || record.expired);
    if (state.moves !== record.moves) return false;
    if (state.status === STATUS_AGREED) return Boolean(record.agreed);
    if (state.status === STATUS_BROKEN) return Boolean(record.broken);
    return true;
  };

  /** The state at the head, and every event up to it when the state changed. */
  const refresh = async (): Promise<Snapshot> => {
    const snap = await read();
    if (!explains(snap.state) || snap.state.status !== STATUS_OPEN) {
      record.apply(await readEvents(context, agreementId, negotiationId, scannedTo + 1n, snap.blockNumber, chunk));
      // Read the same blocks again next time unless they explain the state.
      if (explains(snap.state)) scannedTo = snap.blockNumber;
    }
    return snap;
  };

  const finish = (outcome: PartyOutcome): PlayPartyReturnType => ({ setup, rounds: record.rounds, outcome, transactions });
  const ended = (state: HubState) => state.negotiationId !== negotiationId || state.status !== STATUS_OPEN;

  let snap = first;
  let lastProgress = Date.now();
  let progressMoves = record.moves;
  let expiryTried = false;
  /** After this party's move, a state with fewer moves is a stale read. */
  let atLeastMoves = 0;
  let readFailures = 0;
  /** Reads again; a few failed reads in a row (a node restarting, a dropped connection) are waited out. */
  const poll = async () => {
    try {
      snap = await refresh();
      readFailures = 0;
    } catch (error) {
      if (++readFailures >= MAX_READ_FAILURES) throw error;
    }
  };

  for (;;) {
    if (signal?.aborted) {
      // Report the move in flight when the stop came, if any: it may even have ended the negotiation.
      await poll().catch(() => undefined);
      if (!ended(snap.state) || !explains(snap.state)) {
        return finish({
          status: "stopped",
          moves: record.moves,
          cause: "signal",
          reason: `stopped by ${String(signal.reason ?? "a signal")} after move ${record.moves}; the negotiation is still open`,
        });
      }
    }
    const { state } = snap;

    if (state.negotiationId !== negotiationId || state.status !== STATUS_OPEN) {
      if (record.agreed) {
        const last = record.offers[record.offers.length - 1]!;
        return finish({
          status: "agreed",
          moves: record.moves,
          version: record.agreed.version,
          termsHash: record.agreed.termsHash,
          offer: last.offer,
          terms: record.terms[record.terms.length - 1]!,
          utility: agent.utility.utility(last.offer),
        });
      }
      if (record.broken) {
        const by = participants.indexOf(record.broken.party);
        const reason = record.reasons.get(record.broken.moves);
        return finish({ status: "broken", moves: record.moves, by, party: record.broken.party, ...(reason === undefined ? {} : { reason }) });
      }
      const reason = expiryReason(setup, record.moves, snap.timestamp, state.lastMoveAt);
      if (record.expired) {
        const mine = transactions.includes(record.expired.transactionHash);
        return finish({ status: "expired", moves: record.moves, reason, ...(mine ? { expireTransaction: record.expired.transactionHash } : {}) });
      }
      if (explains(state)) {
        // It lapsed without a record: the participant whose turn it was writes it, once.
        if (recordExpiry && !expiryTried && !signal?.aborted && state.turn === self) {
          expiryTried = true;
          try {
            transactions.push(await send({ functionName: "expire", agreementId }));
          } catch {
            // Someone else recorded it first, or the node refused: the expiry stands either way.
          }
          await poll();
          continue;
        }
        return finish({ status: "expired", moves: record.moves, reason });
      }
      // The state says how it ended but the node's logs do not yet: read again.
    }

    if (record.moves !== progressMoves) {
      progressMoves = record.moves;
      lastProgress = Date.now();
    }
    const myTurn = state.status === STATUS_OPEN && state.negotiationId === negotiationId && state.turn === self;
    if (myTurn && explains(state) && state.moves >= atLeastMoves) {
      const move = state.moves + 1;
      const decision = agent.decide(record.view(move, Number(snap.timestamp - setup.openedAt)));
      const call: HubMove =
        decision.kind === "offer"
          ? { functionName: "offer", agreementId, terms: termsForOffer(decision.offer, setup) }
          : decision.kind === "accept"
            ? { functionName: "accept", agreementId, terms: record.terms[record.terms.length - 1]! }
            : { functionName: "end", agreementId };
      // An end is not a move: the broken negotiation records the moves made before it.
      if (decision.kind === "end") record.reasons.set(state.moves, decision.reason);
      try {
        transactions.push(await send(call));
        atLeastMoves = move;
      } catch (error) {
        if (error instanceof ContractRevertError && error.errorName === "NegotiationExpiredAlready") lapsed = true;
        snap = await refresh();
        // The negotiation moved on without this move (its deadline passed, say): the loop reports it.
        if (snap.state.negotiationId === negotiationId && snap.state.status === STATUS_OPEN && snap.state.turn === self && snap.state.moves === move - 1) {
          const detail = error instanceof Error ? ((error as { shortMessage?: string }).shortMessage ?? error.message).split("\n")[0] : String(error);
          throw new PartyMoveError(`${call.functionName} at move ${move} of negotiation ${negotiationId} on agreement ${agreementId} failed: ${detail}`, call.functionName, error);
        }
        continue;
      }
      await poll();
      continue;
    }

    if (params.maxWaitMs !== undefined && Date.now() - lastProgress >= params.maxWaitMs) {
      return finish({
        status: "stopped",
        moves: record.moves,
        cause: "max-wait",
        reason: `no participant moved for ${Math.round(params.maxWaitMs / 1000)} s; stopped waiting after move ${record.moves}; the negotiation is still open`,
      });
    }
    await sleep(pollIntervalMs * (readFailures + 1), signal);
    if (signal?.aborted) continue;
    await poll();
  }
}


function signerAddressOf(context: ConcordContext): Address {
  const account = context.account ?? context.walletClient?.account;
  if (!account) throw new PartySetupError("playParty needs the party's account: give the context an account or pass `account`");
  return typeof account === "string" ? account : account.address;
}
