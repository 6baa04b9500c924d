/**
 * Plays one participant of a negotiation on chain until the negotiation ends: the per-party
 * counterpart of {@link runOnchainNegotiation}, for an agent that runs in its own process beside
 * the other parties' agents (the `concord negotiate agent` command, a partner's server).
 *
 * It reads the negotiation from the {NegotiationHub} (its state, and every round from the hub's
 * events), waits for this party's turn by polling, and makes the agent's move through a `send`
 * function the caller supplies, so that the caller decides how to sign and how to check a move
 * before sending it. What the agent sees is rebuilt from the chain's record and its decisions
 * depend only on that and its seed: an agent stopped and started again resumes where it was.
 */
import { decodeEventLog, getAddress, numberToHex, pad, type Address, type Hex, type Log, type PublicClient } from "viem";
import { NEGOTIATION_STATUS, negotiationHubAbi } from "./abi";
import type { NegotiationAgent, NegotiationView, OfferRecord } from "./agent";
import type { ParticipantWallet } from "./onchain";
import { offerToTerms, termsToOffer, type ChainTerms } from "./terms";
import type { Move, Offer } from "./types";

/** A call of the hub that this party makes. */
export type HubMove =
  | { functionName: "offer"; args: readonly [agreementId: bigint, terms: ChainTerms] }
  | { functionName: "accept"; args: readonly [agreementId: bigint, terms: ChainTerms] }
  | { functionName: "end"; args: readonly [agreementId: bigint] }
  | { functionName: "expire"; args: readonly [agreementId: bigint] };

/**
 * Sends `move` to the hub from this party's account and resolves with the transaction hash once
 * it is mined successfully; throws otherwise (a simulation that reverts should throw before
 * anything is signed).
 */
export type SendHubMove = (move: HubMove) => Promise<Hex>;

/** The negotiation as this party found it when it sat down. */
export type PartySetup = {
  hub: Address;
  agreementId: bigint;
  negotiationId: number;
  /** The participants in turn order (sorted by address, as on chain). */
  participants: Address[];
  account: Address;
  /** This party's index among the participants. */
  self: number;
  opener: number;
  roundLimit: number;
  /** Unix time after which no move is accepted. */
  deadline: bigint;
  openedAt: bigint;
  openedBlock: bigint;
  /** The opening offer: its refund authority, document hash and referrer list are kept in this party's offers. */
  opening: ChainTerms;
};

/** One move of the negotiation (by any participant), as this party saw it. */
export type PartyRound = {
  move: number;
  /** 1-based round: every participant moves once per round. */
  round: number;
  by: number;
  mover: Address;
  /** Whether this party made the move. */
  mine: boolean;
  kind: Move["kind"];
  /** The latest offer after this move, and its terms as on chain. */
  offer: Offer;
  terms: ChainTerms;
  /** This party's utility of the latest offer. */
  utility: number;
  /** Who has accepted the latest offer after this move. */
  accepted: boolean[];
  /** Why this party ended the negotiation (its own "end" moves only). */
  reason?: string;
  transactionHash: Hex;
  blockNumber: bigint;
};

export type PartyOutcome =
  | { status: "agreed"; moves: number; version: number; termsHash: Hex; offer: Offer; terms: ChainTerms; utility: number }
  | { status: "broken"; moves: number; by: number; party: Address; reason?: string }
  | { status: "expired"; moves: number; reason: string; expireTransaction?: Hex }
  | { status: "stopped"; moves: number; cause: "signal" | "max-wait"; reason: string };

export type PlayPartyParameters = {
  publicClient: PublicClient;
  hub: Address;
  agreementId: bigint;
  /** This party's account: it must be a participant of the open negotiation. */
  account: Address;
  /** The agent, or a function that makes it once the participants are known (it may throw to refuse). */
  agent: NegotiationAgent | ((setup: PartySetup) => NegotiationAgent);
  send: SendHubMove;
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

/** The negotiation cannot be played by this party (nothing was sent): no open negotiation, not a participant, ... */
export class PartySetupError extends Error {
  override name = "PartySetupError";
}

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
};

type Snapshot = { blockNumber: bigint; timestamp: bigint; state: HubState };

type HubEvent = { eventName: string; args: Record<string, unknown>; blockNumber: bigint; transactionHash: Hex; id: string };

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

/** The events of one negotiation over a block range, in chain order, in chunks of `chunk` blocks. */
async function readEvents(
  client: PublicClient,
  hub: Address,
  agreementId: bigint,
  negotiationId: number,
  from: bigint,
  to: bigint,
  chunk: bigint,
): Promise<HubEvent[]> {
  const out: HubEvent[] = [];
  for (let start = from; start <= to; start += chunk) {
    const end = start + chunk - 1n < to ? start + chunk - 1n : to;
    const logs = (await client.request({
      method: "eth_getLogs",
      params: [{ address: hub, fromBlock: numberToHex(start), toBlock: numberToHex(end), topics: [null, topicOf(agreementId), topicOf(negotiationId)] }],
    })) as unknown as Log<string, string>[];
    for (const log of logs) {
      const event = decodeEventLog({ abi: negotiationHubAbi, data: log.data, topics: log.topics as [Hex, ...Hex[]] });
      out.push({
        eventName: event.eventName,
        args: event.args as unknown as Record<string, unknown>,
        blockNumber: BigInt(log.blockNumber!),
        transactionHash: log.transactionHash as Hex,
        id: `${log.transactionHash}:${Number(log.logIndex)}`,
      });
    }
  }
  return out;
}

/** The chain's record of one negotiation as one participant follows it. */
class NegotiationRecord {
  readonly offers: OfferRecord[] = [];
  readonly terms: ChainTerms[] = [];
  readonly rounds: PartyRound[] = [];
  accepted: boolean[];
  moves = 0;
  agreed?: { version: number; termsHash: Hex };
  broken?: { party: Address; move: number };
  expired?: { moves: number; transactionHash: Hex };
  private readonly seen = new Set<string>();
  /** Why this party ended the negotiation, by move number (the chain does not record it). */
  readonly reasons = new Map<number, string>();

  constructor(
    private readonly setup: PartySetup,
    private readonly agent: NegotiationAgent,
    private readonly onRound?: (round: PartyRound) => void,
  ) {
    this.accepted = setup.participants.map(() => false);
  }

  private indexOf(account: unknown): number {
    const i = this.setup.participants.findIndex((p) => p.toLowerCase() === String(account).toLowerCase());
    if (i < 0) throw new Error(`${String(account)} moved in negotiation ${this.setup.negotiationId} but is not a participant`);
    return i;
  }

  apply(events: readonly HubEvent[]): void {
    for (const e of events) {
      if (this.seen.has(e.id)) continue;
      this.seen.add(e.id);
      let kind: Move["kind"] | undefined;
      let by = -1;
      let move = 0;
      if (e.eventName === "OfferMade") {
        kind = "offer";
        by = this.indexOf(e.args.proposer);
        move = Number(e.args.move);
        const terms = e.args.terms as ChainTerms;
        this.offers.push({ by, move, offer: offerOf(terms, this.setup, move), acceptedBy: [by] });
        this.terms.push(terms);
        this.accepted = this.accepted.map((_, i) => i === by);
      } else if (e.eventName === "OfferAccepted") {
        kind = "accept";
        by = this.indexOf(e.args.party);
        move = Number(e.args.move);
        this.offers[this.offers.length - 1]!.acceptedBy.push(by);
        this.accepted[by] = true;
      } else if (e.eventName === "NegotiationBroken") {
        kind = "end";
        by = this.indexOf(e.args.party);
        move = Number(e.args.move);
        this.broken = { party: this.setup.participants[by]!, move };
      } else if (e.eventName === "NegotiationAgreed") {
        this.agreed = { version: Number(e.args.version), termsHash: e.args.termsHash as Hex };
      } else if (e.eventName === "NegotiationExpired") {
        this.expired = { moves: Number(e.args.moves), transactionHash: e.transactionHash };
      }
      if (!kind) continue;
      this.moves = move;
      const latest = this.offers[this.offers.length - 1]!;
      const reason = by === this.setup.self ? this.reasons.get(move) : undefined;
      const round: PartyRound = {
        move,
        round: Math.floor((move - 1) / this.setup.participants.length) + 1,
        by,
        mover: this.setup.participants[by]!,
        mine: by === this.setup.self,
        kind,
        offer: latest.offer,
        terms: this.terms[this.terms.length - 1]!,
        utility: this.agent.utility.utility(latest.offer),
        accepted: [...this.accepted],
        ...(reason === undefined ? {} : { reason }),
        transactionHash: e.transactionHash,
        blockNumber: e.blockNumber,
      };
      this.rounds.push(round);
      this.onRound?.(round);
    }
  }

  view(move: number, elapsedSeconds: number): NegotiationView {
    const { setup } = this;
    return {
      self: setup.self,
      participants: setup.participants.length,
      move,
      roundLimit: setup.roundLimit,
      elapsedSeconds,
      timeLimitSeconds: Number(setup.deadline - setup.openedAt),
      offers: this.offers.map((o) => ({ ...o, acceptedBy: [...o.acceptedBy] })),
      accepted: [...this.accepted],
    };
  }
}

/** The offer that `terms` make among the participants; only account parties can be negotiated by an agent. */
function offerOf(terms: ChainTerms, setup: Pick<PartySetup, "participants" | "agreementId" | "negotiationId">, move: number): Offer {
  const nested = terms.parties.find((p) => p.agreementId !== 0n);
  if (nested) {
    throw new PartySetupError(
      `the offer at move ${move} of negotiation ${setup.negotiationId} on agreement ${setup.agreementId} gives a share to nested agreement #${nested.agreementId}; ` +
        "an agent negotiates shares among account parties only",
    );
  }
  return termsToOffer(terms, setup.participants);
}

/** The terms of this party's offer: the negotiated issues from the agent, the rest as in the opening offer. */
export function termsForOffer(offer: Offer, setup: Pick<PartySetup, "participants" | "opening">): ChainTerms {
  const { opening } = setup;
  const terms = offerToTerms(offer, setup.participants, { refundAuthority: opening.refundAuthority, documentHash: opening.documentHash });
  // An allowlist of referrers set by the opener stays, as long as there is a fee to earn.
  if (opening.referrerPolicy === 2 && opening.referrers.length > 0 && offer.referralFeeBps > 0) {
    return { ...terms, referrerPolicy: 2, referrers: [...opening.referrers] };
  }
  return terms;
}

/** Why a negotiation that is no longer open expired. */
function expiryReason(setup: PartySetup, moves: number, timestamp: bigint): string {
  const n = setup.participants.length;
  if (moves >= setup.roundLimit * n) {
    return `round limit reached: ${setup.roundLimit} rounds x ${n} participants = ${moves} moves without a unanimous acceptance`;
  }
  if (timestamp > setup.deadline) return `deadline passed: no move after ${new Date(Number(setup.deadline) * 1000).toISOString()}`;
  return "the agreement changed since the negotiation opened (a new active version, or a termination)";
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
 *     publicClient, hub, agreementId: 3n, account: hotel.account.address,
 *     agent: (setup) => partyAgent({ ...setup, stance, refundRate: 0.02, seed: 7 }).agent,
 *     send: walletMoveSender(publicClient, hotel, hub),
 *     onRound: (r) => console.log(r.move, r.kind, r.utility.toFixed(3)),
 *   });
 *   if (result.outcome.status === "agreed") console.log(`version ${result.outcome.version} is active`);
 */
export async function playParty(params: PlayPartyParameters): Promise<PlayPartyReturnType> {
  const { publicClient, hub, agreementId, signal } = params;
  const account = getAddress(params.account);
  const pollIntervalMs = params.pollIntervalMs ?? 1_000;
  const chunk = params.chunkSize ?? 5_000n;
  const recordExpiry = params.recordExpiry ?? true;
  if (!(pollIntervalMs > 0)) throw new Error(`pollIntervalMs must be positive, got ${pollIntervalMs}`);
  if (chunk <= 0n) throw new Error(`chunkSize must be at least 1 block, got ${chunk}`);

  const read = async (): Promise<Snapshot> => {
    const block = await publicClient.getBlock({ blockTag: "latest" });
    const state = await publicClient.readContract({
      address: hub,
      abi: negotiationHubAbi,
      functionName: "negotiation",
      args: [agreementId],
      blockNumber: block.number,
    });
    return { blockNumber: block.number, timestamp: block.timestamp, state };
  };

  // ---- sit down: the open negotiation, its participants and its rounds so far
  const first = await read();
  const { state: s0 } = first;
  if (s0.status !== STATUS_OPEN) {
    throw new PartySetupError(
      s0.negotiationId === 0
        ? `agreement ${agreementId} has no negotiation`
        : `agreement ${agreementId} has no open negotiation: negotiation ${s0.negotiationId} is ${NEGOTIATION_STATUS[s0.status] ?? s0.status}`,
    );
  }
  const negotiationId = s0.negotiationId;
  const participants = (
    await publicClient.readContract({ address: hub, abi: negotiationHubAbi, functionName: "participants", args: [agreementId], blockNumber: first.blockNumber })
  ).map((p) => getAddress(p));
  const self = participants.indexOf(account);
  if (self < 0) {
    throw new PartySetupError(`${account} is not a participant of negotiation ${negotiationId} on agreement ${agreementId} (participants: ${participants.join(", ")})`);
  }
  const fromBlock = params.fromBlock ?? 0n;
  const history = await readEvents(publicClient, hub, agreementId, negotiationId, fromBlock, first.blockNumber, chunk);
  const opened = history.find((e) => e.eventName === "NegotiationOpened");
  const openingOffer = history.find((e) => e.eventName === "OfferMade");
  if (!opened || !openingOffer) {
    throw new PartySetupError(`no NegotiationOpened event for negotiation ${negotiationId} of agreement ${agreementId} from block ${fromBlock}: give an earlier first block`);
  }
  const openedAt = (await publicClient.getBlock({ blockNumber: opened.blockNumber })).timestamp;
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
      record.apply(await readEvents(publicClient, hub, agreementId, negotiationId, scannedTo + 1n, snap.blockNumber, chunk));
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
        const reason = record.reasons.get(record.broken.move);
        return finish({ status: "broken", moves: record.moves, by, party: record.broken.party, ...(reason === undefined ? {} : { reason }) });
      }
      const reason = expiryReason(setup, record.moves, snap.timestamp);
      if (record.expired) {
        const mine = transactions.includes(record.expired.transactionHash);
        return finish({ status: "expired", moves: record.moves, reason, ...(mine ? { expireTransaction: record.expired.transactionHash } : {}) });
      }
      if (explains(state)) {
        // It lapsed without a record: the participant whose turn it was writes it, once.
        if (recordExpiry && !expiryTried && !signal?.aborted && state.turn === self) {
          expiryTried = true;
          try {
            transactions.push(await params.send({ functionName: "expire", args: [agreementId] }));
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
          ? { functionName: "offer", args: [agreementId, termsForOffer(decision.offer, setup)] }
          : decision.kind === "accept"
            ? { functionName: "accept", args: [agreementId, record.terms[record.terms.length - 1]!] }
            : { functionName: "end", args: [agreementId] };
      if (decision.kind === "end") record.reasons.set(move, decision.reason);
      try {
        transactions.push(await params.send(call));
        atLeastMoves = move;
      } catch (error) {
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

/**
 * A {@link SendHubMove} for a viem wallet: simulates the move (a revert throws before anything is
 * signed), sends it and waits for its receipt.
 * @example
 *   const send = walletMoveSender(publicClient, wallet, hub);
 */
export function walletMoveSender(publicClient: PublicClient, wallet: ParticipantWallet, hub: Address): SendHubMove {
  return async (move) => {
    const { request } = await publicClient.simulateContract({
      address: hub,
      abi: negotiationHubAbi,
      functionName: move.functionName,
      args: move.args,
      account: wallet.account,
    } as Parameters<PublicClient["simulateContract"]>[0]);
    const hash = await wallet.writeContract({ ...request, chain: wallet.chain } as Parameters<ParticipantWallet["writeContract"]>[0]);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${move.functionName} by ${wallet.account.address} reverted in ${hash}`);
    return hash;
  };
}
