/**
 * Drives a negotiation between agents on a chain: each agent's move goes through the SDK's
 * negotiation actions from that participant's context, and what the agents see is rebuilt from the
 * hub's events in each move's receipt (OfferMade, OfferAccepted), so the agents negotiate on
 * exactly the chain's record.
 */
import { createPublicClient, createWalletClient, custom, type Account, type Address, type Chain, type EIP1193Provider, type Hex, type PublicClient, type Transport, type WalletClient } from "viem";
import {
  ContractRevertError,
  acceptOffer,
  endNegotiation,
  expireNegotiation,
  offerTerms,
  openNegotiation,
  type ConcordContext,
  type DecodedEvent,
  type WriteResult,
} from "../sdk";
import type { NegotiationAgent, NegotiationView, OfferRecord } from "./agent";
import { offerToTerms, termsToOffer, type ChainTerms, type FixedTerms } from "./terms";
import type { Move, Outcome, Transcript, TranscriptEntry } from "./types";

export type ParticipantWallet = WalletClient<Transport, Chain | undefined, Account>;

/** One move as it happened on chain. */
export type OnchainRound = TranscriptEntry & { mover: Address; txHash: Hex; gasUsed: bigint };

export type RunOnchainNegotiationParameters = {
  /** A context per participant, each with its wallet (any order; matched by account). */
  contexts: readonly ConcordContext[];
  agreementId: bigint;
  /** Agents in participant order (the account parties of `currentTerms`, sorted by address). */
  agents: readonly NegotiationAgent[];
  /** Terms of the version in force (latest version of a proposed agreement, active version of an active one). */
  currentTerms: ChainTerms;
  /** Terms fields that are not negotiated. */
  fixed: FixedTerms;
  roundLimit: number;
  /** Seconds from the opening until no move is accepted (at most the hub's 90 days). */
  duration: number;
  /** Seconds a move may wait before anyone may expire the negotiation (at least the hub's 5 minutes). */
  moveTimeout: number;
  /** Participant index of the opener (default 0). */
  opener?: number;
  /** Called after every move with what happened. */
  onRound?: (round: OnchainRound) => void;
};

export type RunOnchainNegotiationReturnType = {
  negotiationId: number;
  participants: Address[];
  rounds: OnchainRound[];
  transcript: Transcript;
  /** The activated version when agreed. */
  version?: number;
  termsHash?: Hex;
};

/** Thrown when a move the hub should have accepted reverts; carries the decoded error name. */
export class OnchainNegotiationError extends Error {
  constructor(
    message: string,
    readonly errorName: string | undefined,
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = "OnchainNegotiationError";
  }
}

const accountOf = (context: ConcordContext): Address | undefined => {
  const account = context.account ?? context.walletClient?.account;
  return account === undefined ? undefined : typeof account === "string" ? account : account.address;
};

/**
 * Runs the negotiation to its end on chain and returns the transcript, every move's gas, and the
 * activated version when the participants agreed.
 * @example
 *   const result = await runOnchainNegotiation({ contexts, agreementId, agents, currentTerms, fixed,
 *     roundLimit: 10, duration: 7 * 86_400, moveTimeout: 86_400, onRound: (r) => console.log(r.move, r.kind) });
 */
export async function runOnchainNegotiation(params: RunOnchainNegotiationParameters): Promise<RunOnchainNegotiationReturnType> {
  const { agreementId, agents, currentTerms, fixed, roundLimit } = params;
  const participants = currentTerms.parties.map((p) => {
    if (p.agreementId !== 0n) throw new Error(`the terms in force nest agreement #${p.agreementId}: agents negotiate among account parties only`);
    return p.account;
  });
  const n = participants.length;
  if (agents.length !== n) throw new Error(`${agents.length} agents for ${n} participants`);
  agents.forEach((a, i) => {
    if (a.self !== i) throw new Error(`agent ${a.name} is participant ${a.self} but sits at index ${i}`);
  });
  const contextOf = participants.map((address) => {
    const c = params.contexts.find((x) => accountOf(x)?.toLowerCase() === address.toLowerCase());
    if (!c) throw new Error(`no context with the account of participant ${address}`);
    return c;
  });
  const opener = params.opener ?? 0;
  if (opener < 0 || opener >= n) throw new Error(`opener ${opener} is not a participant`);
  const publicClient: PublicClient = contextOf[0]!.publicClient;

  const openedAt = (await publicClient.getBlock()).timestamp;
  const offers: OfferRecord[] = [];
  const rounds: OnchainRound[] = [];
  let accepted = Array.from({ length: n }, () => false);
  let negotiationId = 0;
  let version: number | undefined;
  let termsHash: Hex | undefined;

  const viewFor = async (self: number, move: number): Promise<NegotiationView> => ({
    self,
    participants: n,
    move,
    roundLimit,
    elapsedSeconds: Number((await publicClient.getBlock()).timestamp - openedAt),
    timeLimitSeconds: params.duration,
    offers: offers.map((o) => ({ ...o, acceptedBy: [...o.acceptedBy] })),
    accepted: [...accepted],
  });

  /** Applies the hub's events of a move to what the agents see; returns the kind of move. */
  const apply = (events: readonly DecodedEvent[], hash: Hex, mover: number): { kind: Move["kind"]; move: number } => {
    let kind: Move["kind"] | undefined;
    let move = 0;
    for (const event of events) {
      const args = event.args as Record<string, unknown>;
      if (event.eventName === "NegotiationOpened") negotiationId = Number(args.negotiationId);
      if (event.eventName === "OfferMade") {
        kind = "offer";
        move = Number(args.move);
        offers.push({ by: mover, move, offer: termsToOffer(args.terms as ChainTerms, participants), acceptedBy: [mover] });
        accepted = accepted.map((_, i) => i === mover);
      } else if (event.eventName === "OfferAccepted") {
        kind = "accept";
        move = Number(args.move);
        offers[offers.length - 1]!.acceptedBy.push(mover);
        accepted[mover] = true;
      } else if (event.eventName === "NegotiationBroken") {
        kind = "end";
        move = Number(args.moves);
      } else if (event.eventName === "NegotiationAgreed") {
        version = Number(args.version);
        termsHash = args.termsHash as Hex;
      }
    }
    if (!kind) throw new Error(`transaction ${hash} emitted no move event`);
    return { kind, move };
  };

  const record = (result: WriteResult, mover: number, kind: Move["kind"], move: number, reason?: string) => {
    const offer = offers[offers.length - 1]!.offer;
    const round: OnchainRound = {
      move,
      round: Math.floor((Math.max(move, 1) - 1) / n) + 1,
      by: mover,
      kind,
      offer,
      utilities: agents.map((a) => a.utility.utility(offer)),
      accepted: [...accepted],
      ...(reason === undefined ? {} : { reason }),
      mover: participants[mover]!,
      txHash: result.hash,
      gasUsed: result.receipt.gasUsed,
    };
    rounds.push(round);
    params.onRound?.(round);
  };

  // Opening offer.
  const opening = agents[opener]!.decide(await viewFor(opener, 1));
  if (opening.kind !== "offer") throw new Error(`opener ${agents[opener]!.name} must open with an offer, chose ${opening.kind}`);
  const openResult = await openNegotiation(contextOf[opener]!, {
    agreementId,
    roundLimit,
    duration: params.duration,
    moveTimeout: params.moveTimeout,
    initialOffer: offerToTerms(opening.offer, participants, fixed),
    currentTerms,
  });
  const opened = apply(openResult.events, openResult.hash, opener);
  record(openResult, opener, opened.kind, opened.move);

  let moves = 1;
  let turn = (opener + 1) % n;
  let outcome: Outcome | undefined;
  const expire = async (reason: string): Promise<Outcome> => {
    await expireNegotiation(contextOf[turn]!, { agreementId });
    return { status: "expired", moves, reason };
  };

  while (!outcome) {
    if (moves >= roundLimit * n) {
      outcome = await expire(`round limit reached: ${roundLimit} rounds x ${n} participants = ${moves} moves without a unanimous acceptance`);
      break;
    }
    const decision = agents[turn]!.decide(await viewFor(turn, moves + 1));
    const latestTerms = offerToTerms(offers[offers.length - 1]!.offer, participants, fixed);
    const context = contextOf[turn]!;
    let result: WriteResult;
    try {
      result =
        decision.kind === "offer"
          ? await offerTerms(context, { agreementId, terms: offerToTerms(decision.offer, participants, fixed) })
          : decision.kind === "accept"
            ? await acceptOffer(context, { agreementId, terms: latestTerms })
            : await endNegotiation(context, { agreementId });
    } catch (err) {
      const name = err instanceof ContractRevertError ? err.errorName : undefined;
      if (name === "NegotiationExpiredAlready") {
        outcome = await expire(`the negotiation lapsed (deadline ${params.duration} s after opening, or move timeout ${params.moveTimeout} s) before move ${moves + 1}`);
        break;
      }
      throw new OnchainNegotiationError(`${decision.kind} by ${agents[turn]!.name} (${participants[turn]}) failed${name ? `: ${name}` : ""}`, name, err);
    }
    const applied = apply(result.events, result.hash, turn);
    moves = applied.move;
    record(result, turn, applied.kind, applied.move, decision.kind === "end" ? decision.reason : undefined);
    if (applied.kind === "end" && decision.kind === "end") {
      outcome = { status: "broken", moves, by: turn, reason: decision.reason };
    } else if (version !== undefined) {
      outcome = { status: "agreed", offer: offers[offers.length - 1]!.offer, moves };
    }
    turn = (turn + 1) % n;
  }

  return {
    negotiationId,
    participants: [...participants],
    rounds,
    transcript: { entries: rounds.map(({ mover: _m, txHash: _t, gasUsed: _g, ...entry }) => entry), outcome },
    ...(version === undefined ? {} : { version }),
    ...(termsHash === undefined ? {} : { termsHash }),
  };
}

/**
 * viem clients over an EIP-1193 provider whose accounts it can sign for (Hardhat's in-process
 * network, or a `hardhat node` / anvil through Hardhat's provider): one public client and a
 * wallet per address.
 */
export function clientsFromProvider(
  provider: EIP1193Provider,
  chain: Chain,
  accounts: readonly Address[],
): { publicClient: PublicClient; wallets: ParticipantWallet[] } {
  const transport = custom(provider);
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 }) as PublicClient;
  const wallets = accounts.map((account) => createWalletClient({ account, chain, transport }) as ParticipantWallet);
  return { publicClient, wallets };
}
