import { erc20Abi, zeroAddress, type Address, type Hex } from "viem";
import { settlementLedgerAbi } from "../abi";
import { accountAddress, signerOf, type ConcordContext } from "../client";
import { InvalidInputError, type ConcordWriteErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import { eventArgs, writeConcord, type WriteResult } from "../write";

export type SettleParameters = {
  /** An active agreement. */
  agreementId: bigint;
  /** An ERC-20 token; omit (or the zero address) for ETH. */
  token?: Address;
  /** The gross amount the customer paid, in the token's smallest unit (wei for ETH). */
  gross: bigint;
  /** The channel the customer bought through; omit for none. Never the payer itself. */
  referrer?: Address;
  /** The order reference ({@link makeOrderRef}); each settles at most once. */
  orderRef: Hex;
  /**
   * ERC-20 only. The ledger pulls `gross` with transferFrom, so it needs an allowance. With
   * `approve: true` the SDK sends an `approve(ledger, gross)` first when the allowance is short
   * (a second transaction); with `false` (default) a short allowance is an InvalidInputError
   * before anything is sent. Tokens with EIP-2612 can skip the approval: {@link settleWithPermit}.
   */
  approve?: boolean;
};
/** The Settled event of a settlement, typed. */
export type SettledEvent = {
  orderRef: Hex;
  agreementId: bigint;
  payer: Address;
  version: number;
  token: Address;
  gross: bigint;
  referrer: Address;
  referralFee: bigint;
  reserve: bigint;
  releaseAt: number;
};
export type SettleReturnType = WriteResult & { settled: SettledEvent };
export type SettleErrorType = ConcordWriteErrorType;

/**
 * Checks the ledger's ERC-20 allowance from the context's account and, when asked to, approves
 * exactly `gross` when it is short.
 */
export async function ensureAllowance(context: ConcordContext, token: Address, gross: bigint, approve: boolean): Promise<void> {
  const owner = accountAddress(signerOf(context));
  const allowance = await withConcordErrors(() =>
    context.publicClient.readContract({ address: token, abi: erc20Abi, functionName: "allowance", args: [owner, context.addresses.ledger] }),
  );
  if (allowance >= gross) return;
  if (!approve) {
    throw new InvalidInputError(
      `the ledger may spend ${allowance} of token ${token} for ${owner}; the settlement needs ${gross}: approve it first, pass approve: true, or use settleWithPermit`,
    );
  }
  await writeConcord(context, { address: token, abi: erc20Abi, functionName: "approve", args: [context.addresses.ledger, gross] });
}

/** The typed Settled event of a settle or settleWithPermit transaction. */
export function settledFrom(result: WriteResult): SettledEvent {
  const a = eventArgs(result, settlementLedgerAbi, "Settled");
  return {
    orderRef: a.orderRef,
    agreementId: a.agreementId,
    payer: a.payer,
    version: a.version,
    token: a.token,
    gross: a.gross,
    referrer: a.referrer,
    referralFee: a.referralFee,
    reserve: a.reserve,
    releaseAt: Number(a.releaseAt),
  };
}

/**
 * Settles a payment for an active agreement, in ETH or an ERC-20 token: the referral fee goes to
 * the referrer's balance, the reserve is held for the dispute window, the rest is credited to the
 * parties' pool by their shares ({@link quoteSettlement} previews the exact split).
 *
 * @param context - A context whose account is the payer.
 * @param parameters - {@link SettleParameters}
 * @returns The transaction and its Settled event.
 *
 * @example
 * import { parseEther } from "viem"
 * import { makeOrderRef, randomSalt, settle } from "./src/sdk"
 * const orderRef = makeOrderRef({ orderId: "BKG-1001", salt: randomSalt() }) // keep the salt with the order
 * const { settled } = await settle(context, { agreementId: 1n, gross: parseEther("1.5"), referrer: travelSite, orderRef })
 * // settled.referralFee, settled.reserve, settled.releaseAt
 */
export async function settle(context: ConcordContext, parameters: SettleParameters): Promise<SettleReturnType> {
  if (parameters.gross <= 0n) throw new InvalidInputError(`gross amount is ${parameters.gross}; it must be positive`);
  const token = parameters.token ?? zeroAddress;
  if (token !== zeroAddress) await ensureAllowance(context, token, parameters.gross, parameters.approve ?? false);
  const result = await writeConcord(context, {
    address: context.addresses.ledger,
    abi: settlementLedgerAbi,
    functionName: "settle",
    args: [parameters.agreementId, token, parameters.gross, parameters.referrer ?? zeroAddress, parameters.orderRef],
    value: token === zeroAddress ? parameters.gross : 0n,
  });
  return { ...result, settled: settledFrom(result) };
}
