import type { Command } from "commander";
import { zeroAddress, type Address, type Hex } from "viem";
import { findSettlement, getReserveLot, refund, releaseReserve, type ConcordContext } from "../../sdk";
import { contextFor, signerAddress, tokenInfo } from "../context";
import { UsageError } from "../errors";
import { emitWrite } from "../receipt";
import { emit, formatUnits, table } from "../output";
import { parseAddress, parseAmount, parseBytes32, parseId, parseInteger } from "../parse";
import { optionsOf } from "../options";

type SettlementOptions = { lot?: string; entry?: string; orderRef?: string; scope?: string };

/** A settlement named by --lot (and --entry) or by --order-ref in its --scope. */
type Target = { lotId: bigint; entryIndex?: number } | { scope: Address; orderRef: Hex };

function targetOf(o: SettlementOptions, needsEntry: boolean): Target {
  if (o.lot !== undefined) {
    if (o.orderRef || o.scope) throw new UsageError("name the settlement by --lot (and --entry), or by --order-ref and --scope, not both");
    const lotId = parseId(o.lot, "--lot", 256);
    if (o.entry === undefined) {
      if (needsEntry) throw new UsageError("--lot needs --entry N: the settlement's index in the lot (concord reserve show --lot ID lists them)");
      return { lotId };
    }
    return { lotId, entryIndex: parseInteger(o.entry, "--entry", 0, 10_000) };
  }
  if (!o.orderRef || !o.scope) {
    throw new UsageError("name the settlement by --lot ID (and --entry N), or by --order-ref REF and --scope ADDRESS (the order signer of an intent, the payer of a direct payment)");
  }
  return { orderRef: parseBytes32(o.orderRef, "--order-ref"), scope: parseAddress(o.scope, "--scope") };
}

/** The lot id of a target: given, or the lot its settlement's reserve went into. */
async function lotIdOf(context: ConcordContext, target: Target): Promise<bigint> {
  if ("lotId" in target) return target.lotId;
  const settled = await findSettlement(context, target);
  if (settled.settlement.lotId === 0n) throw new UsageError(`the settlement of ${target.orderRef} in scope ${target.scope} held no reserve`);
  return settled.settlement.lotId;
}


export async function show(command: Command): Promise<void> {
  const o = optionsOf<SettlementOptions>(command);
  const context = await contextFor(o, { signer: false });
  const lotId = await lotIdOf(context, targetOf(o, false));
  const found = await getReserveLot(context, { lotId });
  const { decimals, symbol } = await tokenInfo(context, found.lot.token);
  const f = (x: bigint) => `${formatUnits(x, decimals)} ${symbol}`;
  emit(o, found, () =>
    [
      `lot ${lotId} of agreement ${found.lot.agreementId} version ${found.lot.version}: ${found.state}; ${f(found.lot.held)} held, releasable from ${new Date(found.lot.releaseAt * 1000).toISOString()}`,
      table(found.entries.map((e, i) => ({ entry: i, scope: e.scope, orderRef: e.orderRef, beneficiary: e.beneficiary, reserve: f(e.reserve), refunded: e.refunded ? "yes" : "" }))),
    ].join("\n"),
  );
}

export async function release(command: Command): Promise<void> {
  const o = optionsOf<SettlementOptions>(command);
  const context = await contextFor(o, { signer: true });
  const lotId = await lotIdOf(context, targetOf(o, false));
  const found = await getReserveLot(context, { lotId });
  if (found.state !== "held") throw new UsageError(`reserve lot ${lotId} holds nothing: it was ${found.state}`);
  const { decimals, symbol } = await tokenInfo(context, found.lot.token);
  const result = await releaseReserve(context, { lotId, lot: found.lot });
  emitWrite(o, { signer: signerAddress(context), sent: [result], data: { lotId, amount: result.amount }, human: () =>
    `released lot ${lotId}: ${formatUnits(result.amount, decimals)} ${symbol} into the pool of agreement ${found.lot.agreementId} version ${found.lot.version}` });
}

export async function refundSettlement(command: Command): Promise<void> {
  const o = optionsOf<SettlementOptions & { amount: string }>(command);
  const context = await contextFor(o, { signer: true });
  const target = targetOf(o, true);
  const found = await getReserveLot(context, { lotId: await lotIdOf(context, target) });
  if (found.state !== "held") throw new UsageError(`reserve lot ${found.lotId} holds nothing to refund: it was ${found.state}`);
  const { decimals, symbol } = await tokenInfo(context, found.lot.token);
  const amount = parseAmount(o.amount, decimals, "--amount");
  // Said here in token units (the SDK would refuse it too, in base units), before anything is signed.
  const entry = "lotId" in target ? found.entries[target.entryIndex!] : found.entries.find((e) => e.scope === target.scope && e.orderRef === target.orderRef);
  if (entry && amount > entry.reserve) {
    throw new UsageError(
      `--amount ${o.amount} is more than the reserve still held for order reference ${entry.orderRef}: ${formatUnits(entry.reserve, decimals)} ${symbol}${entry.refunded ? " (after earlier refunds)" : ""}`,
    );
  }
  const result = "lotId" in target
    ? await refund(context, { lotId: target.lotId, entryIndex: target.entryIndex!, lot: found.lot, entries: found.entries, amount })
    : await refund(context, { ...target, amount });
  emitWrite(o, { signer: signerAddress(context), sent: [result], data: { lotId: result.lotId, entryIndex: result.entryIndex, amount, beneficiary: result.beneficiary, remainingReserve: result.remainingReserve }, human: () =>
    `refunded ${o.amount} ${symbol} to ${result.beneficiary}'s balance (lot ${result.lotId}, entry ${result.entryIndex}); ${formatUnits(result.remainingReserve, decimals)} ${symbol} of its reserve still held${found.lot.token === zeroAddress ? "" : ` in ${found.lot.token}`}` });
}
