/**
 * What a reconciliation reads and what it expects: for every storage word of the ledger the
 * rebuilt state determines (balances, pools, paidUpTo, reserve lots, risk counters, and with
 * "all" the order-reference bitmaps), its slot and the fields it must hold; and what the ledger
 * must hold of each token. Pure: no I/O.
 */
import { hexToBigInt, numberToHex, type Address, type Hex } from "viem";
import { balanceSlot, lotSlot, nextSlot, orderBitmapSlot, paidUpToSlot, poolSlot, riskSlot } from "../reads";
import { storedLotHash, type Provenance, type ReplayState } from "../replay";

export type DifferenceKind =
  | "balance"
  | "pool-total"
  | "pool-held"
  | "pool-distributed"
  | "paid-up-to"
  | "lot"
  | "order-bitmap"
  | "risk"
  | "holdings";

/** Which order-reference state {reconcile} reads: "reserves" (default) the reserve lots; "all" also every scope's bitmap words. */
export type OrderReferenceReads = "reserves" | "all";

/** Where a word belongs: what a difference in it names. */
export type Subject = {
  /** The account whose amount it is (the ledger itself for pools, lots and holdings; the scope for a bitmap). */
  account: Address;
  token: Address;
  agreementId?: bigint;
  version?: number;
  partyIndex?: number;
  lotId?: bigint;
  provenance: Provenance;
};

/** What a field's value is: an amount of the word's token (base units), a count, or a hash or bitmap. */
export type ValueKind = "amount" | "count" | "hash";

/** One field of a storage word: `bits` bits from bit `shift`. */
export type Field = {
  kind: DifferenceKind;
  /** What its value is (how a difference in it is shown). */
  value: ValueKind;
  /** What the field is, for the message ("balance of 0x… in 0x…"). */
  what: string;
  shift: bigint;
  bits: bigint;
  /** The field's stored value rebuilt from the events. */
  expected: bigint;
  /** How a stored value is shown (a balance is stored plus one; a lot hash as hex). */
  show?: (stored: bigint) => bigint | Hex;
};

export type PlannedWord = { slot: Hex; fields: Field[]; subject: Subject };
/** What the ledger must hold of a token: the sum of `parts` (base units), as the events give them. */
export type PlannedHolding = { token: Address; expected: bigint; parts: HoldingParts; subject: Subject };

/** What a token's holdings are made of, rebuilt from the events (base units). */
export type HoldingParts = { balances: bigint; reserves: bigint; undistributed: bigint };

export type Plan = {
  words: PlannedWord[];
  holdings: PlannedHolding[];
  checked: { balances: number; pools: number; paidUpTo: number; lots: number; orderBitmaps: number; risk: number; holdings: number };
};

const LOW_128 = 128n;
const stored = (w: bigint) => (w === 0n ? 0n : w - 1n);
const asHash = (w: bigint): Hex => numberToHex(w, { size: 32 });

/** Plans every read of a reconciliation of `state` against `ledger`. */
export function planReconciliation(state: ReplayState, ledger: Address, orderReferences: OrderReferenceReads): Plan {
  const words: PlannedWord[] = [];
  const checked = { balances: 0, pools: 0, paidUpTo: 0, lots: 0, orderBitmaps: 0, risk: 0, holdings: 0 };
  const tokens = state.tokens();

  // Balances: every account the events name, in every token the ledger handled. The word holds the
  // balance plus one once the account was credited (docs/contracts.md, "Balances").
  const accounts = new Set(state.accounts);
  for (const entry of state.balances.values()) accounts.add(entry.account);
  for (const token of tokens) {
    for (const account of accounts) {
      const entry = state.balanceEntry(account, token);
      const amount = entry?.amount ?? 0n;
      checked.balances += 1;
      words.push({
        slot: balanceSlot(account, token),
        subject: { account, token, provenance: entry?.provenance ?? { count: 0, recent: [] } },
        fields: [{ kind: "balance", value: "amount", what: `balance of ${account} in ${token}`, shift: 0n, bits: 256n, expected: entry?.credited ? amount + 1n : 0n, show: stored }],
      });
    }
  }

  for (const pool of state.pools.values()) {
    const where = `pool of agreement ${pool.agreementId} version ${pool.version} in ${pool.token}`;
    const subject = { account: ledger, token: pool.token, agreementId: pool.agreementId, version: pool.version, provenance: pool.provenance };
    const slot = poolSlot(pool.agreementId, pool.version, pool.token);
    checked.pools += 1;
    words.push({
      slot,
      subject,
      fields: [
        { kind: "pool-total", value: "amount", what: `${where}: total`, shift: 0n, bits: LOW_128, expected: pool.total },
        { kind: "pool-held", value: "amount", what: `${where}: held`, shift: 128n, bits: LOW_128, expected: pool.held },
      ],
    });
    words.push({
      slot: nextSlot(slot),
      subject,
      fields: [{ kind: "pool-distributed", value: "amount", what: `${where}: distributed`, shift: 0n, bits: 256n, expected: pool.distributed }],
    });
    const parties = state.termsOf(pool.agreementId, pool.version)?.terms.parties ?? [];
    parties.forEach((party, partyIndex) => {
      checked.paidUpTo += 1;
      words.push({
        slot: paidUpToSlot(pool.agreementId, pool.version, pool.token, partyIndex),
        subject: { ...subject, account: party.agreementId === 0n ? party.account : ledger, partyIndex },
        fields: [{ kind: "paid-up-to", value: "amount", what: `paidUpTo of party ${partyIndex} of the ${where}`, shift: 0n, bits: 256n, expected: pool.paidUpTo[partyIndex] ?? 0n }],
      });
    });
  }

  // Reserve lots: the hash of the lot while it holds a reserve, zero once released or refunded.
  for (const lot of state.lots.values()) {
    checked.lots += 1;
    words.push({
      slot: lotSlot(lot.lotId),
      subject: { account: ledger, token: lot.token, agreementId: lot.agreementId, version: lot.version, lotId: lot.lotId, provenance: lot.provenance },
      fields: [
        {
          kind: "lot",
          value: "hash",
          what: `lot ${lot.lotId} (${lot.open ? `${lot.held} held until ${lot.releaseAt}` : "closed"})`,
          shift: 0n,
          bits: 256n,
          expected: hexToBigInt(storedLotHash(lot)),
          show: asHash,
        },
      ],
    });
  }

  for (const risk of state.risk.values()) {
    const where = `risk counters of agreement ${risk.agreementId} in ${risk.token}`;
    const subject = { account: ledger, token: risk.token, agreementId: risk.agreementId, provenance: risk.provenance };
    const slot = riskSlot(risk.agreementId, risk.token);
    checked.risk += 1;
    words.push({
      slot,
      subject,
      fields: [
        { kind: "risk", value: "amount", what: `${where}: settled volume`, shift: 0n, bits: 128n, expected: risk.settledVolume },
        { kind: "risk", value: "count", what: `${where}: settled count`, shift: 128n, bits: 64n, expected: risk.settledCount },
        { kind: "risk", value: "count", what: `${where}: refund count`, shift: 192n, bits: 64n, expected: risk.refundCount },
      ],
    });
    words.push({ slot: nextSlot(slot), subject, fields: [{ kind: "risk", value: "amount", what: `${where}: refunded volume`, shift: 0n, bits: 256n, expected: risk.refundedVolume }] });
  }

  if (orderReferences === "all") {
    for (const [scope, bitmap] of state.orderBitmaps) {
      for (const [word, bits] of bitmap) {
        checked.orderBitmaps += 1;
        words.push({
          slot: orderBitmapSlot(scope, word),
          subject: { account: scope, token: ledger, provenance: { count: 0, recent: [] } },
          fields: [{ kind: "order-bitmap", value: "hash", what: `order references ${numberToHex(word << 8n, { size: 32 })}.. settled in scope ${scope}`, shift: 0n, bits: 256n, expected: bits, show: asHash }],
        });
      }
    }
  }

  const holdings = tokens.map((token): PlannedHolding => {
    const t = state.totalsOf(token);
    checked.holdings += 1;
    return {
      token,
      expected: t.holdings,
      parts: { balances: t.balances, reserves: t.heldReserves, undistributed: t.undistributed },
      subject: { account: ledger, token, provenance: t.provenance },
    };
  });
  return { words, holdings, checked };
}
