/**
 * Bulk storage reads for the reconciler. An `eth_call` pinned to the target block replaces, for
 * that call only, the ledger's code with a tiny reader (a JSON-RPC state override; nothing is
 * written anywhere) that returns the ledger's own storage words for a list of mapping keys. Each
 * read is one cold SLOAD instead of a delegate call through `multicall` plus the ABI plumbing
 * of a view, about a fifth of the EVM work per read on Hardhat.
 *
 * It relies on the ledger's storage layout, so the reconciler only trusts it after checking it:
 * a sample of keys is read both ways (through the slots and through the ledger's public views,
 * `balanceOf` and `settlementState`, which return exactly these storage words) and everything
 * falls back to the views when any sample differs, when no sample is non-zero, or when the node
 * refuses state overrides. test/audit/slots.ts checks the layout against the compiler's.
 */
import type { Address, Hex } from "viem";
import { keccak256Hex } from "./keccak";

/**
 * Where the SettlementLedger keeps what the reconciler reads (its `storageLayout`):
 * `mapping(address account => mapping(address token => uint256)) _balances` at slot 0 and
 * `mapping(bytes32 orderRef => bytes32 state) _settlements` at slot 3.
 */
export const LEDGER_STORAGE = { balances: 0n, settlements: 3n } as const;

/**
 * The reader's source (Yul). Calldata: the mapping's base slot, the number of keys per item (1
 * or 2: `mapping(k => v)` or `mapping(k1 => mapping(k2 => v))`), then the items' keys; the
 * answer is one storage word per item, in order. Each depth has its own straight loop: on a node
 * that traces every step (Hardhat's EDR does), the per-item opcodes are most of a read's cost,
 * and this form does a depth-1 read in half the steps of a generic key loop.
 */
export const SLOT_READER_YUL = `object "ConcordSlotReader" {
  code {
    datacopy(0, dataoffset("runtime"), datasize("runtime"))
    return(0, datasize("runtime"))
  }
  object "runtime" {
    code {
      // Memory 0..64 is keccak's scratch (key . slot); the answer is written from 64 on.
      let base := calldataload(0)
      let depth := calldataload(32)
      let end := calldatasize()
      let out := 64
      switch depth
      case 1 {
        // sload(keccak256(key . base)) per item
        if mod(sub(end, 64), 32) { revert(0, 0) }
        mstore(32, base)
        for { let i := 64 } lt(i, end) { i := add(i, 32) } {
          mstore(0, calldataload(i))
          mstore(out, sload(keccak256(0, 64)))
          out := add(out, 32)
        }
      }
      case 2 {
        // sload(keccak256(key2 . keccak256(key1 . base))) per item
        if mod(sub(end, 64), 64) { revert(0, 0) }
        for { let i := 64 } lt(i, end) { i := add(i, 64) } {
          mstore(0, calldataload(i))
          mstore(32, base)
          mstore(32, keccak256(0, 64))
          mstore(0, calldataload(add(i, 32)))
          mstore(out, sload(keccak256(0, 64)))
          out := add(out, 32)
        }
      }
      default { revert(0, 0) }
      return(64, sub(out, 64))
    }
  }
}
`;

/** The solc settings the runtime code below was compiled with (solc 0.8.28, language Yul). */
export const SLOT_READER_SOLC_SETTINGS = { optimizer: { enabled: true, details: { yul: true } } } as const;

/** `SLOT_READER_YUL`'s runtime code; test/audit/slots.ts recompiles the source and compares. */
export const SLOT_READER_RUNTIME: Hex =
  "0x60405f35602035600181146061576002146017575f80fd5b6040603f193608605d576040905b36821060365750505b603f19016040f35b9091602060409184355f52838252825f208252818501355f52825f20548152019201906025565b5f80fd5b506020603f193608605d57602052805b368110607c5750602e565b906020809183355f5260405f20548152019101607156";

const ZEROS = "0".repeat(64);

/** A 32-byte key word (an address, a bytes32 or a number), as 64 hex digits. */
export function keyWord(key: Address | Hex | bigint): string {
  if (typeof key === "bigint") {
    const digits = key.toString(16);
    return ZEROS.slice(digits.length) + digits;
  }
  const digits = key.slice(2).toLowerCase();
  return ZEROS.slice(digits.length) + digits;
}

/** Calldata for the reader: every item is `depth` key words (64 hex digits each, already joined). */
export function slotReaderCalldata(base: bigint, depth: number, keyWords: readonly string[]): Hex {
  return `0x${keyWord(base)}${keyWord(BigInt(depth))}${keyWords.join("")}` as Hex;
}

/**
 * The storage slot of a mapping entry as Solidity lays it out: keccak256(key . base) for
 * `mapping(k => v)` at slot `base`, and once more per key for nested mappings. `keys` is `depth`
 * key words joined (64 hex digits each, as {keyWord} gives them), outermost first.
 */
export function mappingSlot(base: bigint, depth: number, keys: string): Hex {
  if (!Number.isInteger(depth) || depth < 1 || keys.length !== depth * 64) {
    throw new RangeError(`a mapping slot needs ${depth} key words of 64 hex digits, got ${keys.length} digits`);
  }
  let slot = keyWord(base);
  for (let i = 0; i < depth; i += 1) slot = keccak256Hex(`0x${keys.slice(i * 64, i * 64 + 64)}${slot}`).slice(2);
  return `0x${slot}`;
}
