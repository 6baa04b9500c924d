/**
 * What the settling actions share: a payment as the caller writes it (defaults filled, checked
 * before anything is sent), the ledger's ERC-20 allowance, and the typed settlement events of a
 * transaction.
 */
import { erc20Abi, getAddress, isAddress, isHex, zeroAddress, type Address, type Hex } from "viem";
import { settlementLedgerAbi } from "../abi";
import { accountAddress, signerOf, type ConcordContext } from "../client";
import { InvalidInputError } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import type { Payment } from "../typedData";
import { bookTransaction, versionsOf, type ReservesHeldEvent, type Settlement, type SettlingLog } from "../settlements";
import { eventsArgs, writeConcord, type WriteResult } from "../write";
import { getSettlementRates } from "./getSettlementRates";

/** Seconds a payment stays valid when no deadline is given: one hour of chain time. */
export const DEFAULT_PAYMENT_SECONDS = 3_600n;

/**
 * A payment as a caller writes it: the ledger's `Payment` with the optional fields defaulted
 * (ETH, no referrer, refunds to the payer, a deadline {@link DEFAULT_PAYMENT_SECONDS} after the
 * latest block).
 */
export type PaymentInput = {
  agreementId: bigint;
  /** The version the payment was quoted under ({@link quoteSettlement}'s `version`); it settles only while that version is active. */
  version: number;
  /** An ERC-20 token; omit (or the zero address) for ETH. */
  token?: Address;
  /** What the customer paid, in the token's smallest unit (wei for ETH). */
  gross: bigint;
  /** The one channel paid the referral fee; omit for none. Never the payer. */
  referrer?: Address;
  /** The order reference ({@link makeOrderRef}, {@link makeOrderRefs}): it settles once in its scope. */
  orderRef: Hex;
  /** Who a refund is credited to (default: the payer). */
  refundBeneficiary?: Address;
  /** Unix time (chain time) after which the payment no longer settles. */
  deadline?: bigint;
};

export type { ReservesHeldEvent, SettledEvent, Settlement } from "../settlements";

const MAX_UINT256 = 2n ** 256n - 1n;

function checkedAddress(value: Address | undefined, what: string): Address {
  if (value === undefined) return zeroAddress;
  if (!isAddress(value, { strict: false })) throw new InvalidInputError(`${what} "${value}" is not an address`);
  return getAddress(value);
}

/** The ledger's payment for `input`, checked; `deadline` fills a missing deadline. */
export function paymentOf(input: PaymentInput, deadline: bigint, what = "payment"): Payment {
  if (input.agreementId <= 0n || input.agreementId >= 2n ** 64n) {
    throw new InvalidInputError(`${what}: agreement id ${input.agreementId} is not a uint64 above 0`);
  }
  if (!Number.isInteger(input.version) || input.version <= 0 || input.version >= 2 ** 32) {
    throw new InvalidInputError(`${what}: version ${String(input.version)} is not a version number (pin the version quoted)`);
  }
  if (input.gross <= 0n || input.gross > MAX_UINT256) throw new InvalidInputError(`${what}: gross amount is ${input.gross}; it must be positive`);
  if (!isHex(input.orderRef) || input.orderRef.length !== 66) {
    throw new InvalidInputError(`${what}: order reference "${input.orderRef}" is not 32 bytes of hex`);
  }
  if (BigInt(input.orderRef) === 0n) throw new InvalidInputError(`${what}: the order reference is zero; make one with makeOrderRef`);
  const paymentDeadline = input.deadline ?? deadline;
  if (paymentDeadline <= 0n || paymentDeadline > MAX_UINT256) throw new InvalidInputError(`${what}: deadline ${paymentDeadline} is not a unix time`);
  return {
    agreementId: input.agreementId,
    version: input.version,
    token: checkedAddress(input.token, `${what}: token`),
    gross: input.gross,
    referrer: checkedAddress(input.referrer, `${what}: referrer`),
    orderRef: input.orderRef,
    refundBeneficiary: checkedAddress(input.refundBeneficiary, `${what}: refund beneficiary`),
    deadline: paymentDeadline,
  };
}

/** The ledger's payments for `inputs`, with one read of the latest block for the default deadline (none when every deadline is given). */
export async function paymentsOf(context: ConcordContext, inputs: readonly PaymentInput[]): Promise<Payment[]> {
  let fallback = 0n;
  if (inputs.some((p) => p.deadline === undefined)) {
    const block = await withConcordErrors(() => context.publicClient.getBlock({ blockTag: "latest" }));
    fallback = block.timestamp + DEFAULT_PAYMENT_SECONDS;
  }
  return inputs.map((input, i) => paymentOf(input, fallback, inputs.length === 1 ? "payment" : `payment ${i}`));
}

/**
 * Checks the ledger's ERC-20 allowance from the context's account for `amount` and, with
 * `approve`, approves exactly `amount` when it is short (a transaction of its own); without it a
 * short allowance is an InvalidInputError naming both amounts, before anything is sent.
 */
export async function ensureAllowance(context: ConcordContext, token: Address, amount: bigint, approve: boolean): Promise<void> {
  const owner = accountAddress(signerOf(context));
  const allowance = await withConcordErrors(() =>
    context.publicClient.readContract({ address: token, abi: erc20Abi, functionName: "allowance", args: [owner, context.addresses.ledger] }),
  );
  if (allowance >= amount) return;
  if (!approve) {
    throw new InvalidInputError(
      `the ledger may spend ${allowance} of token ${token} for ${owner}; the settlement needs ${amount}: approve it first, pass approve: true, or use settleWithPermit`,
    );
  }
  await writeConcord(context, { address: token, abi: erc20Abi, functionName: "approve", args: [context.addresses.ledger, amount] });
}

/**
 * The settlements of a settling transaction, in log order, as the ledger booked them: each
 * Settled event with its scope, fee, reserve, net and lot from its version's terms.
 */
export async function settlementsOf(context: ConcordContext, result: WriteResult): Promise<Settlement[]> {
  const logs = result.events.filter(
    (e) => e.log.address.toLowerCase() === context.addresses.ledger.toLowerCase() && (e.eventName === "Settled" || e.eventName === "ReservesHeld"),
  ) as unknown as SettlingLog[];
  const settled = eventsArgs(result, settlementLedgerAbi, "Settled");
  const rates = await getSettlementRates(context, { versions: versionsOf(settled), blockNumber: result.receipt.blockNumber });
  return bookTransaction(logs, rates, result.hash);
}

/** The ReservesHeld events of a settling transaction (one per lot opened), in log order. */
export function reservesHeldOf(result: WriteResult): ReservesHeldEvent[] {
  return eventsArgs(result, settlementLedgerAbi, "ReservesHeld");
}

/** One line naming a payment: amount, token, agreement, version, referrer and order reference. */
export function describePayment(payment: Payment): string {
  const amount = payment.token === zeroAddress ? `${payment.gross} wei of ETH` : `${payment.gross} units of token ${payment.token}`;
  const referrer = payment.referrer === zeroAddress ? "" : `, referred by ${payment.referrer}`;
  return `${amount} to agreement ${payment.agreementId} version ${payment.version}${referrer} (order reference ${payment.orderRef})`;
}
