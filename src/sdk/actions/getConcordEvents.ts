import { decodeEventLog, type Abi, type Address, type Hex, type Log } from "viem";
import { agreementRegistryAbi, negotiationHubAbi, settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError } from "../errors/base";
import { withConcordErrors } from "../errors/decode";

/** The Concord contracts whose events can be read. */
export type ConcordContract = "registry" | "ledger" | "negotiationHub";

/** One decoded Concord event with its position in the chain. */
export type ConcordEvent = {
  contract: ConcordContract;
  eventName: string;
  args: Record<string, unknown>;
  blockNumber: bigint;
  blockHash: Hex;
  transactionHash: Hex;
  transactionIndex: number;
  logIndex: number;
};

export type GetConcordEventsParameters = {
  /** First block (default 0). */
  fromBlock?: bigint;
  /** Last block (default: the head, read once). */
  toBlock?: bigint;
  /** Blocks per eth_getLogs request (default 5,000): no request spans an unbounded range. */
  chunkSize?: bigint;
  /** Which contracts (default all three). */
  contracts?: readonly ConcordContract[];
  /** Only these event names (default all). */
  eventNames?: readonly string[];
  /** Topic filters on indexed arguments, as eth_getLogs takes them (topics[1..3]). */
  topics?: readonly (Hex | null)[];
};

export type GetConcordEventsReturnType = ConcordEvent[];
export type GetConcordEventsErrorType = InvalidInputError;

const ABIS: Record<ConcordContract, Abi> = {
  registry: agreementRegistryAbi as Abi,
  ledger: settlementLedgerAbi as Abi,
  negotiationHub: negotiationHubAbi as Abi,
};

/** The address of each Concord contract, reading the hub from the registry when needed. */
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

/**
 * Reads and decodes Concord events over a block range, in chunks of `chunkSize` blocks, ordered by
 * (block, transaction index, log index).
 *
 * @example
 * const events = await getConcordEvents(context, { fromBlock: 0n, eventNames: ["Settled"] })
 * for (const e of events) console.log(e.args.orderRef, e.args.gross)
 */
export async function getConcordEvents(
  context: ConcordContext,
  parameters: GetConcordEventsParameters = {},
): Promise<GetConcordEventsReturnType> {
  const chunk = parameters.chunkSize ?? 5_000n;
  if (chunk <= 0n) throw new InvalidInputError(`chunk size is ${chunk}; it must be at least 1 block`);
  return withConcordErrors(async () => {
    const addresses = await contractAddresses(context);
    const selected = parameters.contracts ?? (["registry", "ledger", "negotiationHub"] as const);
    const byAddress = new Map<string, ConcordContract>(selected.map((c) => [addresses[c].toLowerCase(), c]));
    const head = parameters.toBlock ?? (await context.publicClient.getBlockNumber({ cacheTime: 0 }));
    const from = parameters.fromBlock ?? 0n;
    if (from > head) return [];
    const out: ConcordEvent[] = [];
    for (let start = from; start <= head; start += chunk) {
      const end = start + chunk - 1n < head ? start + chunk - 1n : head;
      const logs = (await context.publicClient.request({
        method: "eth_getLogs",
        params: [
          {
            address: selected.map((c) => addresses[c]),
            fromBlock: `0x${start.toString(16)}`,
            toBlock: `0x${end.toString(16)}`,
            ...(parameters.topics ? { topics: [null, ...parameters.topics] } : {}),
          },
        ],
      })) as unknown as Array<Log<string, string>>;
      for (const log of logs) {
        const contract = byAddress.get(log.address.toLowerCase());
        if (!contract) continue;
        const decoded = decodeEventLog({ abi: ABIS[contract], data: log.data, topics: log.topics as [Hex, ...Hex[]] });
        if (parameters.eventNames && !parameters.eventNames.includes(decoded.eventName ?? "")) continue;
        out.push({
          contract,
          eventName: decoded.eventName ?? "",
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
        ? a.blockNumber < b.blockNumber ? -1 : 1
        : a.transactionIndex !== b.transactionIndex
          ? a.transactionIndex - b.transactionIndex
          : a.logIndex - b.logIndex,
    );
    return out;
  });
}
