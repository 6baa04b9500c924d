/**
 * Drives a negotiation between agents on a chain: each agent's move becomes a transaction to the
 * {NegotiationHub} from that participant's wallet, and what the agents see is rebuilt from the
 * hub's events (OfferMade, OfferAccepted), so the agents negotiate on exactly the chain's record.
 */
import {
  BaseError,
  createPublicClient,
  createWalletClient,
  custom,
  type EIP1193Provider,
  ContractFunctionRevertedError,
  decodeEventLog,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from "viem";
import { negotiationHubAbi, registryNegotiationAbi } from "./abi";
import type { NegotiationAgent, NegotiationView, OfferRecord } from "./agent";
import { offerToTerms, termsToOffer, type ChainTerms, type FixedTerms } from "./terms";
import type { Move, Outcome, Transcript, TranscriptEntry } from "./types";

export type ParticipantWallet = WalletClient<Transport, Chain | undefined, Account>;

/** One move as it happened on chain. */
export type OnchainRound = TranscriptEntry & { mover: Address; txHash: Hex; gasUsed: bigint };

export type RunOnchainNegotiationParameters = {
  publicClient: PublicClient;
  /** A wallet per participant (any order; matched by address). */
  wallets: readonly ParticipantWallet[];
  hub: Address;
  agreementId: bigint;
  /** Agents in participant order (the account parties of `currentTerms`, sorted by address). */
  agents: readonly NegotiationAgent[];
  /** Terms of the version in force (latest version of a proposed agreement, active version of an active one). */
  currentTerms: ChainTerms;
  /** Terms fields that are not negotiated. */
  fixed: FixedTerms;
  roundLimit: number;
  /** Unix time after which no move is accepted. */
  deadline: bigint;
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

function revertName(err: unknown): string | undefined {
  if (!(err instanceof BaseError)) return undefined;
  const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
  return reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : undefined;
}

/**
 * Runs the negotiation to its end on chain and returns the transcript, every move's gas, and the
 * activated version when the participants agreed.
 * @example
 *   const result = await runOnchainNegotiation({ publicClient, wallets, hub, agreementId, agents,
 *     currentTerms, fixed, roundLimit: 10, deadline, onRound: (r) => console.log(r.move, r.kind) });
 */
export async function runOnchainNegotiation(params: RunOnchainNegotiationParameters): Promise<RunOnchainNegotiationReturnType> {
  const { publicClient, hub, agreementId, agents, currentTerms, fixed, roundLimit, deadline } = params;
  const participants = currentTerms.parties.filter((p) => p.agreementId === 0n).map((p) => p.account);
  const n = participants.length;
  if (agents.length !== n) throw new Error(`${agents.length} agents for ${n} participants`);
  agents.forEach((a, i) => {
    if (a.self !== i) throw new Error(`agent ${a.name} is participant ${a.self} but sits at index ${i}`);
  });
  const walletOf = participants.map((address) => {
    const w = params.wallets.find((x) => x.account.address.toLowerCase() === address.toLowerCase());
    if (!w) throw new Error(`no wallet for participant ${address}`);
    return w;
  });
  const opener = params.opener ?? 0;
  if (opener < 0 || opener >= n) throw new Error(`opener ${opener} is not a participant`);

  const openedAt = (await publicClient.getBlock()).timestamp;
  const timeLimitSeconds = Number(deadline - openedAt);
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
    timeLimitSeconds,
    offers: offers.map((o) => ({ ...o, acceptedBy: [...o.acceptedBy] })),
    accepted: [...accepted],
  });

  /** Applies the hub's events in a receipt to what the agents see; returns the kind of move. */
  const apply = (receipt: TransactionReceipt, mover: number): { kind: Move["kind"]; move: number } => {
    let kind: Move["kind"] | undefined;
    let move = 0;
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== hub.toLowerCase()) continue;
      const event = decodeEventLog({ abi: negotiationHubAbi, data: log.data, topics: log.topics });
      if (event.eventName === "NegotiationOpened") negotiationId = event.args.negotiationId;
      if (event.eventName === "OfferMade") {
        kind = "offer";
        move = event.args.move;
        offers.push({ by: mover, move, offer: termsToOffer(event.args.terms, participants), acceptedBy: [mover] });
        accepted = accepted.map((_, i) => i === mover);
      } else if (event.eventName === "OfferAccepted") {
        kind = "accept";
        move = event.args.move;
        offers[offers.length - 1]!.acceptedBy.push(mover);
        accepted[mover] = true;
      } else if (event.eventName === "NegotiationBroken") {
        kind = "end";
        move = event.args.move;
      } else if (event.eventName === "NegotiationAgreed") {
        version = event.args.version;
        termsHash = event.args.termsHash;
      }
    }
    if (!kind) throw new Error(`transaction ${receipt.transactionHash} emitted no move event`);
    return { kind, move };
  };

  const record = (receipt: TransactionReceipt, mover: number, kind: Move["kind"], move: number, reason?: string) => {
    const offer = offers[offers.length - 1]!.offer;
    const round: OnchainRound = {
      move,
      round: Math.floor((move - 1) / n) + 1,
      by: mover,
      kind,
      offer,
      utilities: agents.map((a) => a.utility.utility(offer)),
      accepted: [...accepted],
      ...(reason === undefined ? {} : { reason }),
      mover: participants[mover]!,
      txHash: receipt.transactionHash,
      gasUsed: receipt.gasUsed,
    };
    rounds.push(round);
    params.onRound?.(round);
  };

  const send = async (mover: number, call: () => Promise<Hex>): Promise<TransactionReceipt> => {
    const hash = await call();
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`move by ${participants[mover]} reverted in ${hash}`);
    return receipt;
  };

  // Opening offer.
  const opening = agents[opener]!.decide(await viewFor(opener, 1));
  if (opening.kind !== "offer") throw new Error(`opener ${agents[opener]!.name} must open with an offer, chose ${opening.kind}`);
  const openReceipt = await send(opener, () =>
    walletOf[opener]!.writeContract({
      address: hub,
      abi: negotiationHubAbi,
      functionName: "open",
      args: [agreementId, roundLimit, deadline, offerToTerms(opening.offer, participants, fixed), currentTerms],
      chain: walletOf[opener]!.chain,
    }),
  );
  const opened = apply(openReceipt, opener);
  record(openReceipt, opener, opened.kind, opened.move);

  let moves = 1;
  let turn = (opener + 1) % n;
  let outcome: Outcome | undefined;
  const expire = async (reason: string): Promise<Outcome> => {
    await send(turn, () =>
      walletOf[turn]!.writeContract({ address: hub, abi: negotiationHubAbi, functionName: "expire", args: [agreementId], chain: walletOf[turn]!.chain }),
    );
    return { status: "expired", moves, reason };
  };

  while (!outcome) {
    if (moves >= roundLimit * n) {
      outcome = await expire(
        `round limit reached: ${roundLimit} rounds x ${n} participants = ${moves} moves without a unanimous acceptance`,
      );
      break;
    }
    const decision = agents[turn]!.decide(await viewFor(turn, moves + 1));
    const latestTerms = offerToTerms(offers[offers.length - 1]!.offer, participants, fixed);
    const wallet = walletOf[turn]!;
    let receipt: TransactionReceipt;
    try {
      receipt = await send(turn, () =>
        decision.kind === "offer"
          ? wallet.writeContract({
              address: hub,
              abi: negotiationHubAbi,
              functionName: "offer",
              args: [agreementId, offerToTerms(decision.offer, participants, fixed)],
              chain: wallet.chain,
            })
          : decision.kind === "accept"
            ? wallet.writeContract({ address: hub, abi: negotiationHubAbi, functionName: "accept", args: [agreementId, latestTerms], chain: wallet.chain })
            : wallet.writeContract({ address: hub, abi: negotiationHubAbi, functionName: "end", args: [agreementId], chain: wallet.chain }),
      );
    } catch (err) {
      const name = revertName(err);
      if (name === "NegotiationDeadlinePassed") {
        outcome = await expire(`deadline passed: no move after ${new Date(Number(deadline) * 1000).toISOString()}`);
        break;
      }
      throw new OnchainNegotiationError(
        `${decision.kind} by ${agents[turn]!.name} (${participants[turn]}) failed${name ? `: ${name}` : ""}`,
        name,
        err,
      );
    }
    const applied = apply(receipt, turn);
    moves = applied.move;
    record(receipt, turn, applied.kind, applied.move, decision.kind === "end" ? decision.reason : undefined);
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

/** Proposes `terms` as a new agreement from `wallet`; returns its id. */
export async function proposeAgreement(
  publicClient: PublicClient,
  wallet: ParticipantWallet,
  registry: Address,
  terms: ChainTerms,
): Promise<bigint> {
  const hash = await wallet.writeContract({ address: registry, abi: registryNegotiationAbi, functionName: "propose", args: [terms], chain: wallet.chain });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== registry.toLowerCase()) continue;
    try {
      const event = decodeEventLog({ abi: registryNegotiationAbi, data: log.data, topics: log.topics });
      if (event.eventName === "AgreementProposed") return event.args.agreementId;
    } catch {
      // VersionProposed and other registry events are not in this ABI slice.
    }
  }
  throw new Error(`propose transaction ${hash} emitted no AgreementProposed`);
}

/** The negotiation hub deployed by `registry`. */
export async function negotiationHubOf(publicClient: PublicClient, registry: Address): Promise<Address> {
  return publicClient.readContract({ address: registry, abi: registryNegotiationAbi, functionName: "negotiationHub" });
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
