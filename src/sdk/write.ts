import {
  decodeEventLog,
  type Abi,
  type Address,
  type ContractEventName,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type GetEventArgs,
  type Hex,
  type Log,
  type TransactionReceipt,
  toEventSelector,
} from "viem";
import { accountAddress, signerOf, walletOf, type ConcordContext } from "./client";
import { ContractRevertError, InvalidInputError } from "./errors/base";
import { withConcordErrors } from "./errors/decode";

/** A decoded event of a receipt. */
export type DecodedEvent = { eventName: string; args: Record<string, unknown>; log: Log };

/** What every write action returns: the transaction, its receipt and its decoded Concord events. */
export type WriteResult = { hash: Hex; receipt: TransactionReceipt; events: DecodedEvent[] };

type Writable = "nonpayable" | "payable";

/** Every argument of event `eventName` of `abi`, decoded and typed. */
export type EventArgsOf<abi extends Abi, eventName extends string> = GetEventArgs<
  abi,
  eventName,
  { EnableUnion: false; IndexedOnly: false; Required: true }
>;

/** A call of a state-changing function of `abi`, checked against the ABI at compile time. */
export type ConcordCall<
  abi extends Abi,
  functionName extends ContractFunctionName<abi, Writable>,
> = {
  address: Address;
  abi: abi;
  functionName: functionName;
  args: ContractFunctionArgs<abi, Writable, functionName>;
  value?: bigint;
};

/** A call of any contract function, its ABI known only at run time. */
export type UntypedCall = { address: Address; abi: Abi; functionName: string; args: readonly unknown[]; value?: bigint };

/**
 * What a write action sends, before it is sent: the call and one line that says what it does.
 * Each action's `xCall` step returns one; the action sends it ({@link sendPlanned}), its
 * `prepareX` twin returns it encoded for a wallet or relayer to execute (src/sdk/prepare.ts).
 */
export type PlannedCall = { call: UntypedCall; description: string };

/** A {@link PlannedCall} whose function name and arguments are checked against the (const) ABI at compile time. */
export function planCall<const abi extends Abi, functionName extends ContractFunctionName<abi, Writable>>(
  call: ConcordCall<abi, functionName>,
  description: string,
): PlannedCall {
  return {
    call: { address: call.address, abi: call.abi, functionName: call.functionName, args: call.args as readonly unknown[], value: call.value },
    description,
  };
}

/** Sends a planned call from the context's account: {@link simulateAndWrite}. */
export function sendPlanned(context: ConcordContext, planned: PlannedCall): Promise<WriteResult> {
  return simulateAndWrite(context, planned.call);
}

/**
 * Simulates the call first (a revert becomes a decoded ContractRevertError before any gas is
 * spent), then sends it, waits for the receipt and decodes the events of `abi`; see
 * {@link simulateAndWrite}.
 *
 * The function name and arguments are checked against the (const) ABI at compile time. For an
 * ABI or function name only known at run time, use {@link simulateAndWrite}.
 */
export async function writeConcord<
  const abi extends Abi,
  functionName extends ContractFunctionName<abi, Writable>,
>(context: ConcordContext, call: ConcordCall<abi, functionName>): Promise<WriteResult> {
  return simulateAndWrite(context, {
    address: call.address,
    abi: call.abi,
    functionName: call.functionName,
    args: call.args as readonly unknown[],
    value: call.value,
  });
}

/**
 * Simulates the call first, then sends it, waits for the receipt and decodes the events of `abi`.
 * Untyped arguments; the SDK's actions go through the typed {@link writeConcord}.
 *
 * The simulation is `eth_estimateGas` (viem's `estimateContractGas`): it executes the call
 * against the latest state exactly as `eth_call` (viem's `simulateContract`) does, so a revert
 * becomes a decoded {@link ContractRevertError} before anything is signed or any gas is spent,
 * and its result, with {@link withGasMargin}, is the gas limit the transaction is then sent with. A separate `eth_call` would
 * execute the same call a second time, since `writeContract` estimates gas itself when not given
 * a limit (scripts/bench-sdk.ts measures the difference).
 */
/**
 * The gas limit a write is sent with: the estimate plus a fifth. An estimate is exact for the
 * state and block it ran on, and the block the transaction is mined in can cost more: a storage
 * word written with `block.timestamp` is a no-op when the estimate ran in the same second as the
 * previous write and a 2,900-gas change a second later (the negotiation hub's `lastMoveAt`), which
 * made an exactly estimated transaction run out of gas. Unused gas is not charged.
 */
export function withGasMargin(estimate: bigint): bigint {
  return estimate + (estimate + 4n) / 5n;
}

export async function simulateAndWrite(
  context: ConcordContext,
  call: UntypedCall,
): Promise<WriteResult> {
  const wallet = walletOf(context);
  const account = signerOf(context);
  return withConcordErrors(async () => {
    const contractCall = { address: call.address, abi: call.abi, functionName: call.functionName, args: call.args, value: call.value };
    // The sender's address, not the local account: with an account object viem would first fill
    // nonce and fees (three more requests) for an estimate that needs none of them.
    const gas = withGasMargin(
      await context.publicClient.estimateContractGas({
        ...contractCall,
        account: accountAddress(account),
      } as Parameters<typeof context.publicClient.estimateContractGas>[0]),
    );
    const hash = await wallet.writeContract({
      ...contractCall,
      account,
      gas,
      chain: wallet.chain,
    } as Parameters<typeof wallet.writeContract>[0]);
    const receipt = await context.publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") {
      // Passed the simulation but reverted when mined: the state changed in between.
      throw new ContractRevertError(`transaction ${hash} from ${accountAddress(account)} reverted when mined`, {
        details: `${call.functionName} passed the simulation; the chain state changed before the transaction was mined`,
      });
    }
    return { hash, receipt, events: decodeEvents(call.abi, receipt.logs, call.address) };
  });
}

/** Per ABI: topic0 -> the one-event ABI that decodes it (selectors hashed once, not per log). */
const eventIndex = new WeakMap<Abi, Map<string, Abi>>();

function eventsByTopic(abi: Abi): Map<string, Abi> {
  let index = eventIndex.get(abi);
  if (!index) {
    index = new Map();
    for (const item of abi) {
      if (item.type === "event" && !item.anonymous) index.set(toEventSelector(item).toLowerCase(), [item]);
    }
    eventIndex.set(abi, index);
  }
  return index;
}

/** Decodes the logs that belong to `abi` (and were emitted by `address`, when given); others are skipped. */
export function decodeEvents(abi: Abi, logs: readonly Log[], address?: Address): DecodedEvent[] {
  const index = eventsByTopic(abi);
  const out: DecodedEvent[] = [];
  for (const log of logs) {
    if (address && log.address.toLowerCase() !== address.toLowerCase()) continue;
    const eventAbi = log.topics[0] ? index.get(log.topics[0].toLowerCase()) : undefined;
    if (!eventAbi) continue; // a log of another contract (a token's Transfer, say)
    try {
      const decoded = decodeEventLog({ abi: eventAbi, data: log.data, topics: log.topics });
      out.push({ eventName: decoded.eventName ?? "", args: decoded.args as unknown as Record<string, unknown>, log });
    } catch {
      // same selector, different indexing: not one of ours
    }
  }
  return out;
}

/** The typed arguments of the first `eventName` event of a write, or an error naming the transaction. */
export function eventArgs<const abi extends Abi, eventName extends ContractEventName<abi>>(
  result: WriteResult,
  _abi: abi,
  eventName: eventName,
): EventArgsOf<abi, eventName> {
  const event = result.events.find((e) => e.eventName === eventName);
  if (!event) throw new InvalidInputError(`transaction ${result.hash} emitted no ${eventName} event`);
  return event.args as EventArgsOf<abi, eventName>;
}

/** The typed arguments of every `eventName` event of a write, in log order. */
export function eventsArgs<const abi extends Abi, eventName extends ContractEventName<abi>>(
  result: WriteResult,
  _abi: abi,
  eventName: eventName,
): EventArgsOf<abi, eventName>[] {
  return result.events.filter((e) => e.eventName === eventName).map((e) => e.args as EventArgsOf<abi, eventName>);
}
