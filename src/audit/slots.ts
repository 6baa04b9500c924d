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

/**
 * Where the SettlementLedger keeps what the reconciler reads (its `storageLayout`):
 * `mapping(address account => mapping(address token => uint256)) _balances` at slot 0 and
 * `mapping(bytes32 orderRef => bytes32 state) _settlements` at slot 3.
 */
export const LEDGER_STORAGE = { balances: 0n, settlements: 3n } as const;

/**
 * The reader's source (Yul). Calldata: the mapping's base slot, the number of keys per item,
 * then the items' keys; the answer is one storage word per item, in order.
 */
export const SLOT_READER_YUL = `object "ConcordSlotReader" {
  code {
    datacopy(0, dataoffset("runtime"), datasize("runtime"))
    return(0, datasize("runtime"))
  }
  object "runtime" {
    code {
      // calldata: [base slot][keys per item][item 0 keys][item 1 keys]...; one word out per item:
      // sload(keccak256(key_n . ... keccak256(key_1 . base))), the slot of mapping[key_1]...[key_n].
      let base := calldataload(0)
      let depth := calldataload(32)
      let itemSize := mul(depth, 32)
      let end := calldatasize()
      if or(or(iszero(depth), gt(depth, 4)), mod(sub(end, 64), itemSize)) { revert(0, 0) }
      let out := 64
      for { let item := 64 } lt(item, end) { item := add(item, itemSize) } {
        let slot := base
        for { let key := item } lt(key, add(item, itemSize)) { key := add(key, 32) } {
          mstore(0, calldataload(key))
          mstore(32, slot)
          slot := keccak256(0, 64)
        }
        mstore(out, sload(slot))
        out := add(out, 32)
      }
      return(64, sub(out, 64))
    }
  }
}
`;

/** The solc settings the runtime code below was compiled with (solc 0.8.28, language Yul). */
export const SLOT_READER_SOLC_SETTINGS = { optimizer: { enabled: true, details: { yul: true } } } as const;

/** `SLOT_READER_YUL`'s runtime code; test/audit/slots.ts recompiles the source and compares. */
export const SLOT_READER_RUNTIME: Hex =
  "0x5f356020358060051b9081603f193601069060048111901517176064576040916040905b368210603257603f1984016040f35b90919281835b85850181106050575054815260200192918201906023565b9081355f52602052602060405f2091016038565b5f80fd";

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
