import { encodeAbiParameters, keccak256, pad, toHex, zeroHash, type Address, type Hex } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordReadErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import { bookTransaction, type SettlingLog } from "../settlements";
import { getConcordEvents } from "./getConcordEvents";
import { getSettlementRates } from "./getSettlementRates";

/** A reserve lot as the ledger stores its hash (`ReserveLot` in ISettlementLedger.sol). */
export type ReserveLot = { agreementId: bigint; version: number; token: Address; releaseAt: number; held: bigint; entriesHash: Hex };
/** One settlement's part of a lot (`LotEntry`). */
export type LotEntry = { scope: Address; orderRef: Hex; beneficiary: Address; reserve: bigint; refunded: boolean };

type LedgerFunction<N extends string> = Extract<(typeof settlementLedgerAbi)[number], { type: "function"; name: N }>;
function ledgerFunction<N extends string>(name: N): LedgerFunction<N> {
  const item = settlementLedgerAbi.find((x): x is LedgerFunction<N> => x.type === "function" && x.name === name);
  if (!item) throw new Error(`the generated ledger ABI has no ${name}`);
  return item;
}
// The struct layouts come from the generated ABI, so they cannot drift from the contract's.
const LOT_PARAMETERS = ledgerFunction("hashLot").inputs;
const ENTRY_COMPONENTS = ledgerFunction("refund").inputs[2].components;
const CHAIN_PARAMETERS = [{ type: "bytes32" }, { type: "tuple", components: ENTRY_COMPONENTS }] as const;

/** The id of the lot whose first entry is (`scope`, `orderRef`): uint256(keccak256(abi.encode(scope, orderRef))). */
export function lotIdOf(scope: Address, orderRef: Hex): bigint {
  return BigInt(keccak256(encodeAbiParameters([{ type: "address" }, { type: "bytes32" }], [scope, orderRef])));
}

/** The hash chain of a lot's entries: h = keccak256(abi.encode(h, entry)) from h = 0. */
export function hashLotEntries(entries: readonly LotEntry[]): Hex {
  return entries.reduce<Hex>((h, entry) => keccak256(encodeAbiParameters(CHAIN_PARAMETERS, [h, entry])), zeroHash);
}

/** The hash under which the ledger stores a lot (its `hashLot`). */
export function hashReserveLot(lot: ReserveLot): Hex {
  return keccak256(encodeAbiParameters(LOT_PARAMETERS, [lot]));
}

export type GetReserveLotParameters = {
  lotId: bigint;
  /** Where to start looking for the lot's events (default 0). */
  fromBlock?: bigint;
};
export type GetReserveLotReturnType = {
  lotId: bigint;
  /** "held": some reserve is still held; "released": moved into the pool; "refunded": refunded to nothing. */
  state: "held" | "released" | "refunded";
  /** The lot as it stands (after refunds): pass it to {@link releaseReserve} or {@link refund}. */
  lot: ReserveLot;
  /** Its entries as they stand, in settlement order. */
  entries: LotEntry[];
  /** What was released into the pool (0 unless released). */
  released: bigint;
  /** The settling transaction that opened the lot. */
  transactionHash: Hex;
  blockNumber: bigint;
};
export type GetReserveLotErrorType = ConcordReadErrorType;

/**
 * Rebuilds a reserve lot and its entries from events alone, ReservesHeld (the lot), the Settled
 * events of the same transaction it holds the reserves of (its entries, in order; see
 * {@link bookTransaction}) and later ReserveRefunded
 * events, then checks them against the ledger: the entries against the hash chain the lot was
 * opened with, and the lot against the hash the ledger stores (`lotHash`; zero once released or
 * refunded to nothing). Any difference is an error: what is returned is what the ledger accepts.
 *
 * @param context - Any context.
 * @param parameters - {@link GetReserveLotParameters}
 * @returns The lot, its entries and its state.
 *
 * @example
 * import { getReserveLot, releaseReserve } from "./src/sdk"
 * const { state, lot } = await getReserveLot(context, { lotId: settled.lotId })
 * if (state === "held" && now >= lot.releaseAt) await releaseReserve(context, { lotId: settled.lotId, lot })
 */
export async function getReserveLot(context: ConcordContext, parameters: GetReserveLotParameters): Promise<GetReserveLotReturnType> {
  const { lotId } = parameters;
  if (lotId <= 0n || lotId >= 2n ** 256n) throw new InvalidInputError(`lot id ${lotId} is not a lot id (0 means the settlement held no reserve)`);
  const events = await getConcordEvents(context, {
    fromBlock: parameters.fromBlock,
    events: ["ReservesHeld", "ReserveRefunded", "ReserveReleased"],
    topics: [pad(toHex(lotId))],
  });
  const opened = events.filter((e) => e.eventName === "ReservesHeld");
  const first = opened[0];
  if (!first || first.eventName !== "ReservesHeld") {
    throw new InvalidInputError(`no reserve lot ${lotId} was opened from block ${parameters.fromBlock ?? 0n}`);
  }
  if (opened.length > 1) throw new InvalidInputError(`reserve lot ${lotId} was opened ${opened.length} times: these are not a Concord ledger's events`);
  const held = first.args;
  const logs = (await getConcordEvents(context, { fromBlock: first.blockNumber, toBlock: first.blockNumber, events: ["Settled", "ReservesHeld"] })).filter(
    (e) => e.transactionHash === first.transactionHash,
  );
  const rates = await getSettlementRates(context, {
    versions: logs.flatMap((e) => (e.eventName === "Settled" ? [{ agreementId: e.args.agreementId, version: e.args.version }] : [])),
    blockNumber: first.blockNumber,
  });
  const entries: LotEntry[] = bookTransaction(logs as SettlingLog[], rates, first.transactionHash)
    .filter((s) => s.lotId === lotId)
    .map((s) => ({ scope: s.scope, orderRef: s.orderRef, beneficiary: s.refundBeneficiary, reserve: s.reserve, refunded: false }));
  const fail = (why: string): never => {
    throw new InvalidInputError(`the events of reserve lot ${lotId} do not rebuild it: ${why}`);
  };
  if (entries.length === 0 || lotIdOf(entries[0]!.scope, entries[0]!.orderRef) !== lotId) fail("its first settlement does not name it");
  if (entries.reduce((sum, e) => sum + e.reserve, 0n) !== held.held) fail(`its settlements hold other than ${held.held}`);
  if (hashLotEntries(entries) !== held.entriesHash) fail("its settlements do not hash to the entries hash it was opened with");
  let remaining = held.held;
  let released = 0n;
  for (const e of events) {
    if (e.eventName === "ReserveRefunded") {
      const index = Number(e.args.entryIndex);
      const entry = entries[index];
      if (!entry || entry.orderRef !== e.args.orderRef || entry.reserve - e.args.amount !== e.args.remainingReserve) {
        fail(`refund of entry ${e.args.entryIndex} in transaction ${e.transactionHash} does not match it`);
      }
      entries[index] = { ...entry!, reserve: e.args.remainingReserve, refunded: true };
      remaining -= e.args.amount;
    } else if (e.eventName === "ReserveReleased") {
      released = e.args.amount;
    }
  }
  const lot: ReserveLot = {
    agreementId: held.agreementId,
    version: held.version,
    token: held.token,
    releaseAt: held.releaseAt,
    held: remaining,
    entriesHash: hashLotEntries(entries),
  };
  const state = released !== 0n ? "released" : remaining === 0n ? "refunded" : "held";
  if (state === "released" && released !== remaining) fail(`${released} was released, but ${remaining} was held`);
  const stored = await withConcordErrors(() =>
    context.publicClient.readContract({ address: context.addresses.ledger, abi: settlementLedgerAbi, functionName: "lotHash", args: [lotId] }),
  );
  const expected = state === "held" ? hashReserveLot(lot) : zeroHash;
  if (stored !== expected) fail(`the ledger stores ${stored}, the events give ${expected} (are events missing before block ${parameters.fromBlock ?? 0n}?)`);
  return { lotId, state, lot, entries, released, transactionHash: first.transactionHash, blockNumber: first.blockNumber };
}
