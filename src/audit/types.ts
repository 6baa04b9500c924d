/**
 * The types every part of the auditor shares: a client, a deployment's addresses, a decoded log
 * and where it sits in the chain. No code, so that fetch, replay, reads and reconcile import it
 * without importing each other.
 */
import type { Address, Client, Hex } from "viem";

/** What the auditor needs of a viem client: JSON-RPC requests (any transport: http, custom). */
export type RpcClient = Pick<Client, "request">;

/** The Concord contracts whose events the auditor replays. */
export type ContractRole = "registry" | "ledger" | "negotiationHub";

/** The addresses of one Concord deployment. */
export type ConcordAddresses = {
  registry: Address;
  ledger: Address;
  /** The negotiation hub, when the deployment has one. */
  negotiationHub?: Address | undefined;
};

/** Where an event sits in the chain; what a violation or a difference points at. */
export type EventRef = {
  blockNumber: bigint;
  transactionIndex: number;
  logIndex: number;
  transactionHash: Hex;
  eventName: string;
};

/** A decoded Concord log; every address in `args` is checksummed (viem's decoder spells them). */
export type ConcordLog = EventRef & {
  blockHash: Hex;
  address: Address;
  contract: ContractRole;
  args: Readonly<Record<string, unknown>>;
  /**
   * The block's timestamp, for the events whose laws depend on time (an activation or a
   * termination counts approvals that have not expired); undefined on the others.
   */
  blockTimestamp?: bigint | undefined;
  /** The raw log, kept so that a store can persist and re-decode it exactly. */
  topics: readonly Hex[];
  data: Hex;
};

/** One block range's logs. */
export type LogBatch = {
  fromBlock: bigint;
  toBlock: bigint;
  logs: ConcordLog[];
  /** Logs the provider returned for this range (always equal to `logs.length`; undecodable logs throw). */
  rawCount: number;
};

/** Events whose replay needs the block's timestamp (approvals are counted while not expired). */
export const TIMED_EVENTS: ReadonlySet<string> = new Set(["VersionActivated", "AgreementTerminated"]);
