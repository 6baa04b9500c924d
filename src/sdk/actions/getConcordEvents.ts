import { decodeEventLog, type Abi, type Address, type ContractEventName, type Hex, type Log } from "viem";
import { agreementRegistryAbi, negotiationHubAbi, settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordReadErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import type { EventArgsOf } from "../write";

/** The Concord contracts whose events can be read. */
export type ConcordContract = "registry" | "ledger" | "negotiationHub";

type RegistryEventName = ContractEventName<typeof agreementRegistryAbi>;
type LedgerEventName = ContractEventName<typeof settlementLedgerAbi>;
type HubEventName = ContractEventName<typeof negotiationHubAbi>;

/** The name of any event of the Concord contracts. */
export type ConcordEventName = RegistryEventName | LedgerEventName | HubEventName;

type AbiOfEvent<N extends ConcordEventName> = N extends RegistryEventName
  ? typeof agreementRegistryAbi
  : N extends LedgerEventName
    ? typeof settlementLedgerAbi
    : typeof negotiationHubAbi;

/** Where a log sits in the chain. */
type EventPosition = {
  contract: ConcordContract;
  blockNumber: bigint;
  blockHash: Hex;
  transactionHash: Hex;
  transactionIndex: number;
  logIndex: number;
};

/** One decoded Concord event with its position in the chain (arguments untyped). */
export type ConcordEvent = EventPosition & { eventName: string; args: Record<string, unknown> };

/**
 * One decoded Concord event whose arguments are typed from the ABI; a union over `N`, narrowed by
 * comparing `eventName`.
 */
export type TypedConcordEvent<N extends ConcordEventName = ConcordEventName> = N extends ConcordEventName
  ? EventPosition & { eventName: N; args: EventArgsOf<AbiOfEvent<N>, N> }
  : never;

export type GetConcordEventsParameters = {
  /** First block (default 0). */
  fromBlock?: bigint;
  /** Last block (default the head; a later block is clamped to the head, read once per call). */
  toBlock?: bigint;
  /** Blocks per eth_getLogs request (default 5,000): no request spans more, whatever the range. */
  chunkSize?: bigint;
  /** Which contracts (default: those that emit the `events` asked for, else all three). */
  contracts?: readonly ConcordContract[];
  /** Only these events (default all); with a literal list the result is typed. */
  events?: readonly ConcordEventName[];
  /** @deprecated The same as `events`, without typed results. */
  eventNames?: readonly string[];
  /** Topic filters on indexed arguments, as eth_getLogs takes them (topics[1..3]). */
  topics?: readonly (Hex | null)[];
};

export type GetConcordEventsReturnType<N extends ConcordEventName = ConcordEventName> = TypedConcordEvent<N>[];
export type GetConcordEventsErrorType = ConcordReadErrorType;

const ABIS: Record<ConcordContract, Abi> = {
  registry: agreementRegistryAbi as Abi,
  ledger: settlementLedgerAbi as Abi,
  negotiationHub: negotiationHubAbi as Abi,
};

const EMITTERS: Record<ConcordContract, ReadonlySet<string>> = {
  registry: new Set(agreementRegistryAbi.filter((x) => x.type === "event").map((x) => x.name)),
  ledger: new Set(settlementLedgerAbi.filter((x) => x.type === "event").map((x) => x.name)),
  negotiationHub: new Set(negotiationHubAbi.filter((x) => x.type === "event").map((x) => x.name)),
};

/** The address of each Concord contract, reading the hub from the registry when needed (once per context). */
export async function contractAddresses(context: ConcordContext): Promise<Record<ConcordContract, Address>> {
  const negotiationHub =
    context.addresses.negotiationHub ??
    ((await context.publicClient.readContract({
      address: context.addresses.registry,
      abi: agreementRegistryAbi,
      functionName: "negotiationHub",
    })) as Address);
  context.addresses.negotiationHub = negotiationHub;
  return { registry: context.addresses.registry, ledger: context.addresses.ledger, negotiationHub };
}

const hex = (n: bigint): Hex => `0x${n.toString(16)}`;

/**
 * Reads and decodes Concord events over a block range. The range is read in chunks of at most
 * `chunkSize` blocks, so no single eth_getLogs asks for an unbounded range; the end is clamped
 * to the head, read once. Events come back ordered by (block, transaction index, log index).
 *
 * @param context - Any context (no wallet needed).
 * @param parameters - {@link GetConcordEventsParameters}
 * @returns The decoded events; typed by name when `events` is a literal list.
 *
 * @example
 * import { getConcordEvents } from "./src/sdk"
 * const settlements = await getConcordEvents(context, { fromBlock: 0n, events: ["Settled"], chunkSize: 2_000n })
 * for (const e of settlements) console.log(e.args.orderRef, e.args.gross, e.args.referrer) // typed: Hex, bigint, Address
 */
export async function getConcordEvents<const N extends ConcordEventName>(
  context: ConcordContext,
  parameters: GetConcordEventsParameters & { events: readonly N[] },
): Promise<GetConcordEventsReturnType<N>>;
export async function getConcordEvents(context: ConcordContext, parameters?: GetConcordEventsParameters): Promise<ConcordEvent[]>;
export async function getConcordEvents(
  context: ConcordContext,
  parameters: GetConcordEventsParameters = {},
): Promise<unknown[]> {
  const chunk = parameters.chunkSize ?? 5_000n;
  if (chunk <= 0n) throw new InvalidInputError(`chunk size is ${chunk}; it must be at least 1 block`);
  const from = parameters.fromBlock ?? 0n;
  if (from < 0n) throw new InvalidInputError(`fromBlock is ${from}; it must be 0 or more`);
  const names: readonly string[] | undefined = parameters.events ?? parameters.eventNames;
  if (names) {
    for (const name of names) {
      if (!Object.values(EMITTERS).some((set) => set.has(name))) throw new InvalidInputError(`"${name}" is not an event of the Concord contracts`);
    }
  }
  const selected =
    parameters.contracts ??
    (names
      ? (Object.keys(EMITTERS) as ConcordContract[]).filter((c) => names.some((n) => EMITTERS[c].has(n)))
      : (["registry", "ledger", "negotiationHub"] as const));
  return withConcordErrors(async () => {
    const addresses = await contractAddresses(context);
    const byAddress = new Map<string, ConcordContract>(selected.map((c) => [addresses[c].toLowerCase(), c]));
    const head = await context.publicClient.getBlockNumber({ cacheTime: 0 });
    const to = parameters.toBlock === undefined || parameters.toBlock > head ? head : parameters.toBlock;
    const wanted = names ? new Set(names) : undefined;
    const out: ConcordEvent[] = [];
    for (let start = from; start <= to; start += chunk) {
      const end = start + chunk - 1n < to ? start + chunk - 1n : to;
      const logs = (await context.publicClient.request({
        method: "eth_getLogs",
        params: [
          {
            address: selected.map((c) => addresses[c]),
            fromBlock: hex(start),
            toBlock: hex(end),
            ...(parameters.topics ? { topics: [null, ...parameters.topics] } : {}),
          },
        ],
      })) as unknown as Array<Log<string, string>>;
      for (const log of logs) {
        const contract = byAddress.get(log.address.toLowerCase());
        if (!contract) continue;
        const decoded = decodeEventLog({ abi: ABIS[contract], data: log.data, topics: log.topics as [Hex, ...Hex[]] });
        const eventName = decoded.eventName ?? "";
        if (wanted && !wanted.has(eventName)) continue;
        out.push({
          contract,
          eventName,
          args: decoded.args as unknown as Record<string, unknown>,
          blockNumber: BigInt(log.blockNumber!),
          blockHash: log.blockHash as Hex,
          transactionHash: log.transactionHash as Hex,
          transactionIndex: Number(log.transactionIndex),
          logIndex: Number(log.logIndex),
        });
      }
    }
    out.sort((a, b) =>
      a.blockNumber !== b.blockNumber
        ? a.blockNumber < b.blockNumber
          ? -1
          : 1
        : a.transactionIndex !== b.transactionIndex
          ? a.transactionIndex - b.transactionIndex
          : a.logIndex - b.logIndex,
    );
    return out;
  });
}
