/**
 * The hashes of reserve lots (docs/contracts.md, "Reserves"): a lot's id is
 * `uint256(keccak256(abi.encode(scope, orderRef)))` of its first entry, its entries form the chain
 * `h = keccak256(abi.encode(h, LotEntry))` from `h = 0`, and the ledger stores only
 * `keccak256(abi.encode(ReserveLot))` under the id. Written with viem's encoder and keccak; the
 * many entries of the open lots a sync hashes at its end go through {wasmKeccak}.
 */
import { createKeccak } from "hash-wasm";
import { encodeAbiParameters, hexToBigInt, hexToBytes, keccak256, zeroHash, type Hex } from "viem";
import type { LotEntry, LotState } from "./state";

const LOT_ENTRY = {
  type: "tuple",
  components: [
    { name: "scope", type: "address" },
    { name: "orderRef", type: "bytes32" },
    { name: "beneficiary", type: "address" },
    { name: "reserve", type: "uint128" },
    { name: "refunded", type: "bool" },
  ],
} as const;

const RESERVE_LOT = [
  {
    type: "tuple",
    components: [
      { name: "agreementId", type: "uint64" },
      { name: "version", type: "uint32" },
      { name: "token", type: "address" },
      { name: "releaseAt", type: "uint40" },
      { name: "held", type: "uint128" },
      { name: "entriesHash", type: "bytes32" },
    ],
  },
] as const;

/** The id of a lot whose first entry is `entry`. */
export function lotIdOf(entry: Pick<LotEntry, "scope" | "orderRef">): bigint {
  return hexToBigInt(keccak256(encodeAbiParameters([{ type: "address" }, { type: "bytes32" }], [entry.scope, entry.orderRef])));
}

/** keccak256 of ABI-encoded bytes, as viem's `keccak256` returns it. */
export type Keccak = (bytes: Hex) => Hex;

/**
 * keccak256 compiled to WebAssembly (hash-wasm), for the hash chains of open lots: the same
 * hash as viem's, 2 µs against 26 µs for an entry's 224 bytes (Node 20, 2 cores; viem's is
 * JavaScript), and a million settlements leave about 250,000 entries in open lots.
 */
export async function wasmKeccak(): Promise<Keccak> {
  const hasher = await createKeccak(256);
  return (bytes) => {
    hasher.init();
    hasher.update(hexToBytes(bytes));
    return `0x${hasher.digest("hex")}`;
  };
}

/** The hash chain of a lot's entries. */
export function entriesHashOf(entries: readonly LotEntry[], keccak: Keccak = keccak256): Hex {
  let h: Hex = zeroHash;
  for (const entry of entries) h = keccak(encodeAbiParameters([{ type: "bytes32" }, LOT_ENTRY], [h, entry]));
  return h;
}

/** What the ledger stores for a lot: the hash of its fields while it holds a reserve, zero after. */
export function storedLotHash(lot: LotState): Hex {
  if (!lot.open) return zeroHash;
  if (lot.entriesHash === undefined) {
    // With a store the entries are in it: a sync hashes its open lots' entries before it returns.
    if (!lot.entries) throw new Error(`lot ${lot.lotId}: neither its entries nor their hash are in memory`);
    lot.entriesHash = entriesHashOf(lot.entries);
  }
  return keccak256(
    encodeAbiParameters(RESERVE_LOT, [
      { agreementId: lot.agreementId, version: lot.version, token: lot.token, releaseAt: lot.releaseAt, held: lot.held, entriesHash: lot.entriesHash },
    ]),
  );
}
