import fs from "node:fs";
import type { Command } from "commander";
import { getAddress, isHex, zeroAddress, type Address, type Hex } from "viem";
import {
  findSettlement,
  makeOrderRef,
  orderSalt,
  quoteSettlement,
  settle,
  settleWithPermit,
  settlementLedgerAbi,
  signIntent,
  withConcordErrors,
  type ConcordContext,
  type Payment,
  type SettleReturnType,
} from "../../sdk";
import { contextFor, signerAddress, tokenInfo } from "../context";
import { UsageError } from "../errors";
import { emitWrite } from "../receipt";
import { emit, formatUnits, table } from "../output";
import { checkFields, parseAddress, parseAmount, parseBytes32, parseDuration, parseId, tokenOf, type FieldKind } from "../parse";
import { optionsOf } from "../options";
import { concordHome, orderKey } from "../orderKey";


type OrderOptions = { orderId?: string; salt?: string; orderRef?: string };

/**
 * The order reference from --order-ref, or from --order-id and a salt: --salt when given, else
 * derived from the order id and the user's order key (src/cli/orderKey.ts), so that the same
 * order id always gives the same reference and a retry is refused instead of paying twice.
 */
function orderRefOf(o: OrderOptions): { orderRef: Hex; salt?: Hex; derived: boolean } {
  if (o.orderRef) {
    if (o.orderId || o.salt) throw new UsageError("give --order-ref, or --order-id (with an optional --salt), not both");
    return { orderRef: parseBytes32(o.orderRef, "--order-ref"), derived: false };
  }
  if (!o.orderId) throw new UsageError("give --order-id (your order id, hashed with a salt) or --order-ref (a reference made off chain)");
  if (o.salt) {
    const salt = parseBytes32(o.salt, "--salt");
    return { orderRef: makeOrderRef({ orderId: o.orderId, salt }), salt, derived: false };
  }
  const salt = orderSalt({ orderId: o.orderId, key: orderKey() });
  return { orderRef: makeOrderRef({ orderId: o.orderId, salt }), salt, derived: true };
}

/**
 * Refuses (exit 2, nothing sent) an order reference already settled in its scope, naming the
 * transaction that settled it: a retried settle never pays twice.
 */
async function refuseSettledOrder(context: ConcordContext, scope: Address, orderRef: Hex, orderId?: string): Promise<void> {
  const settled = await withConcordErrors(() =>
    context.publicClient.readContract({ address: context.addresses.ledger, abi: settlementLedgerAbi, functionName: "isOrderSettled", args: [scope, orderRef] }),
  );
  if (!settled) return;
  const event = await findSettlement(context, { scope, orderRef }).catch(() => undefined);
  const order = orderId ? `order ${orderId} (reference ${orderRef})` : `order reference ${orderRef}`;
  const where = event ? ` by transaction ${event.transactionHash} in block ${event.blockNumber}` : "";
  throw new UsageError(`${order} is already settled in the scope of ${scope}${where}; nothing sent (a retry never pays twice: give --salt for a new reference on purpose)`);
}

/** The file a merchant's `intent sign` writes and anyone's `settle --intent` pays. Amounts as decimal strings. */
type IntentFile = {
  kind: "payment-intent";
  chainId: number;
  ledger: Address;
  orderSigner: Address;
  payment: { agreementId: string; version: number; token: Address; gross: string; referrer: Address; orderRef: Hex; refundBeneficiary: Address; deadline: string };
  signature: Hex;
};

const PAYMENT_FIELDS = {
  agreementId: "decimal",
  version: "integer",
  token: "address",
  gross: "decimal",
  referrer: "address",
  orderRef: "hex",
  refundBeneficiary: "address",
  deadline: "decimal",
} as const satisfies Record<keyof IntentFile["payment"], FieldKind>;

function readIntentFile(file: string, expected: { chainId: number; ledger: Address }): { payment: Payment; signature: Hex; orderSigner: Address } {
  let parsed: IntentFile;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8")) as IntentFile;
  } catch {
    throw new UsageError(`intent file ${file} cannot be read as JSON`);
  }
  checkFields(`intent file ${file}`, parsed, { kind: "string", chainId: "integer", ledger: "address", orderSigner: "address", signature: "hex" });
  checkFields(`intent file ${file}`, parsed.payment, PAYMENT_FIELDS, "payment");
  if (parsed.kind !== "payment-intent") throw new UsageError(`${file} is not a payment intent (kind ${String(parsed.kind)})`);
  if (parsed.chainId !== expected.chainId) throw new UsageError(`intent file ${file} is for chain ${parsed.chainId}, not ${expected.chainId}`);
  if (parsed.ledger?.toLowerCase() !== expected.ledger.toLowerCase()) throw new UsageError(`intent file ${file} is for ledger ${parsed.ledger}, not ${expected.ledger}`);
  if (!isHex(parsed.signature)) throw new UsageError(`intent file ${file} has no signature`);
  const p = parsed.payment;
  try {
    const payment: Payment = {
      agreementId: BigInt(p.agreementId),
      version: p.version,
      token: getAddress(p.token),
      gross: BigInt(p.gross),
      referrer: getAddress(p.referrer),
      orderRef: parseBytes32(p.orderRef, `order reference in ${file}`),
      refundBeneficiary: getAddress(p.refundBeneficiary),
      deadline: BigInt(p.deadline),
    };
    return { payment, signature: parsed.signature, orderSigner: getAddress(parsed.orderSigner) };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`intent file ${file} has a malformed payment: ${(error as Error).message.split("\n")[0]}`);
  }
}

function describeSettled(result: SettleReturnType, unit: { decimals: number; symbol: string }, extra: string[]): string {
  const s = result.settled;
  const f = (x: bigint) => `${formatUnits(x, unit.decimals)} ${unit.symbol}`;
  const intent = s.scope.toLowerCase() !== s.payer.toLowerCase();
  return [
    `settled ${f(s.gross)} for agreement ${s.agreementId} (version ${s.version}), paid by ${s.payer}`,
    `order reference ${s.orderRef}, scoped to ${s.scope} (${intent ? "the order signer: a merchant's intent" : "the payer: a direct payment"})`,
    ...extra,
    `referral fee ${f(s.referralFee)}${s.referralFee ? ` to ${s.referrer}` : ""}; reserve ${f(s.reserve)}${s.lotId ? ` held in lot ${s.lotId}${result.reservesHeld ? ` until ${new Date(Number(result.reservesHeld.releaseAt) * 1000).toISOString()}` : ""}` : ""}`,
    `refunds go to ${s.refundBeneficiary}`,
  ].join("\n");
}

export async function pay(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string | undefined];
  const o = optionsOf<OrderOptions & { intent?: string; amount?: string; token?: string; referrer?: string; beneficiary?: string; permit?: boolean; approve?: boolean }>(command);
  const context = await contextFor(o, { signer: true });
  const payer = signerAddress(context);
  let payment: Payment | Parameters<typeof settle>[1]["payment"];
  let signature: Hex | undefined;
  const extra: string[] = [];
  if (o.intent) {
    if (id !== undefined || o.amount || o.token || o.referrer || o.orderId || o.orderRef || o.beneficiary) {
      throw new UsageError("--intent pays the payment the merchant signed: give no agreement id, amount, token, referrer, order or beneficiary");
    }
    const intent = readIntentFile(o.intent, { chainId: context.chainId, ledger: context.addresses.ledger });
    await refuseSettledOrder(context, intent.orderSigner, intent.payment.orderRef);
    payment = intent.payment;
    signature = intent.signature;
    extra.push(`the intent of ${intent.orderSigner} attests the referrer ${intent.payment.referrer === zeroAddress ? "(none)" : intent.payment.referrer}`);
  } else {
    if (id === undefined) throw new UsageError("give the agreement id of a direct payment, or --intent FILE");
    if (!o.amount) throw new UsageError("a direct payment needs --amount");
    const agreementId = parseId(id, "agreement id");
    const token = tokenOf(o.token);
    const { decimals } = await tokenInfo(context, token);
    const gross = parseAmount(o.amount, decimals, "--amount");
    const referrer = o.referrer ? parseAddress(o.referrer, "--referrer") : undefined;
    // Fails here, without a transaction, when the agreement is not active or the referrer not allowed.
    const quote = await quoteSettlement(context, { agreementId, gross, referrer, payer });
    if (quote.orderSigner !== zeroAddress) {
      throw new UsageError(`agreement ${id} settles only intents of its order signer ${quote.orderSigner}: ask it for a signed intent and pay it with --intent`);
    }
    const { orderRef, derived } = orderRefOf(o);
    await refuseSettledOrder(context, payer, orderRef, o.orderId);
    if (derived) extra.push(`the reference of order ${o.orderId} comes from your order key (${concordHome()}/order-key): a retry is refused`);
    payment = { agreementId, version: quote.version, token, gross, referrer, orderRef, refundBeneficiary: o.beneficiary ? parseAddress(o.beneficiary, "--beneficiary") : undefined };
  }
  const token = payment.token ?? zeroAddress;
  const unit = await tokenInfo(context, token);
  if (token === zeroAddress) {
    const funds = await context.publicClient.getBalance({ address: payer });
    if (funds < payment.gross) throw new UsageError(`${payer} has ${formatUnits(funds, 18)} ETH; the settlement needs ${formatUnits(payment.gross, 18)} ETH plus gas`);
  }
  if (o.permit && token === zeroAddress) throw new UsageError("--permit is for an EIP-2612 token; this payment is in ETH");
  const result = o.permit ? await settleWithPermit(context, { payment, signature }) : await settle(context, { payment, signature, approve: o.approve });
  emitWrite(o, { signer: signerAddress(context), sent: [result], data: { ...result.settled, releaseAt: result.reservesHeld?.releaseAt ?? null }, human: () => describeSettled(result, unit, extra) });
}

export async function signIntentFile(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
  const o = optionsOf<OrderOptions & { amount: string; token?: string; referrer?: string; beneficiary?: string; validFor: string; out: string }>(command);
  const agreementId = parseId(id, "agreement id");
  const context = await contextFor(o, { signer: true });
  const token = tokenOf(o.token);
  const { decimals, symbol } = await tokenInfo(context, token);
  const gross = parseAmount(o.amount, decimals, "--amount");
  const referrer = o.referrer ? parseAddress(o.referrer, "--referrer") : undefined;
  const quote = await quoteSettlement(context, { agreementId, gross, referrer });
  if (quote.orderSigner === zeroAddress) throw new UsageError(`agreement ${id} has no order signer: its payers settle directly (concord settle ${id} ...)`);
  const { orderRef, salt, derived } = orderRefOf(o);
  await refuseSettledOrder(context, quote.orderSigner, orderRef, o.orderId);
  const now = (await context.publicClient.getBlock({ blockTag: "latest" })).timestamp;
  const deadline = now + BigInt(parseDuration(o.validFor, "--valid-for"));
  const beneficiary = o.beneficiary ? parseAddress(o.beneficiary, "--beneficiary") : undefined;
  const signed = await signIntent(context, { payment: { agreementId, version: quote.version, token, gross, referrer, orderRef, refundBeneficiary: beneficiary, deadline } });
  if (!signed.signature) throw new UsageError(`the order signer ${signed.orderSigner} is a contract wallet: have its owners sign the typed data (digest ${signed.digest})`);
  if (signed.orderSigner.toLowerCase() !== signerAddress(context).toLowerCase()) {
    throw new UsageError(`agreement ${id}'s order signer is ${signed.orderSigner}; you are ${signerAddress(context)}`);
  }
  const p = signed.payment;
  const file: IntentFile = {
    kind: "payment-intent",
    chainId: context.chainId,
    ledger: context.addresses.ledger,
    orderSigner: signed.orderSigner,
    payment: { agreementId: p.agreementId.toString(), version: p.version, token: p.token, gross: p.gross.toString(), referrer: p.referrer, orderRef: p.orderRef, refundBeneficiary: p.refundBeneficiary, deadline: p.deadline.toString() },
    signature: signed.signature,
  };
  fs.writeFileSync(o.out, JSON.stringify(file, null, 2) + "\n");
  emit(o, { ...file, salt: salt ?? null, file: o.out }, () =>
    [
      `${signed.orderSigner} signed an intent for ${o.amount} ${symbol} on agreement ${id} (version ${p.version}), order reference ${p.orderRef}; wrote ${o.out}`,
      ...(derived ? [`the reference of order ${o.orderId} comes from your order key (${concordHome()}/order-key): signing it again gives the same reference`] : []),
      `anyone may pay it until ${new Date(Number(deadline) * 1000).toISOString()}: concord settle --intent ${o.out}`,
    ].join("\n"),
  );
}

export async function quote(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
  const o = optionsOf<{ amount: string; token?: string; referrer?: string }>(command);
  const context = await contextFor(o, { signer: false });
  const token = tokenOf(o.token);
  const { decimals, symbol } = await tokenInfo(context, token);
  const quote = await quoteSettlement(context, {
    agreementId: parseId(id, "agreement id"),
    gross: parseAmount(o.amount, decimals, "--amount"),
    referrer: o.referrer ? parseAddress(o.referrer, "--referrer") : undefined,
  });
  const f = (x: bigint) => `${formatUnits(x, decimals)} ${symbol}`;
  emit(o, quote, () =>
    [
      table([
        ...(quote.referralFee ? [{ to: `referrer ${quote.referrer}`, amount: f(quote.referralFee) }] : []),
        { to: `reserve (held ${quote.disputeWindow} s)`, amount: f(quote.reserve) },
        { to: `the pool of version ${quote.version} (the parties' shares)`, amount: f(quote.net) },
      ]),
      `total ${f(quote.gross)}${quote.orderSigner !== zeroAddress ? `; only intents of the order signer ${quote.orderSigner} settle` : ""}`,
    ].join("\n"),
  );
}
