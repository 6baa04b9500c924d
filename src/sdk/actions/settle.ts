import { erc20Abi, zeroAddress, type Address, type Hex } from "viem";
import { settlementLedgerAbi } from "../abi";
import { accountAddress, signerOf, type ConcordContext } from "../client";
import { InvalidInputError } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import { simulateAndWrite, type WriteResult } from "../write";

export type SettleParameters = {
  agreementId: bigint;
  /** An ERC-20 token, or omit / zero address for ETH. */
  token?: Address;
  gross: bigint;
  referrer?: Address;
  orderRef: Hex;
  /** For ERC-20: approve the ledger for `gross` first when the allowance is short (default false: fail instead). */
  approve?: boolean;
};
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

/** Checks an ERC-20 allowance and approves `gross` when asked to. */
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
  await simulateAndWrite(context, { address: token, abi: erc20Abi, functionName: "approve", args: [context.addresses.ledger, gross] });
}

export function settledFrom(result: WriteResult): SettledEvent {
  const event = result.events.find((e) => e.eventName === "Settled");
  if (!event) throw new InvalidInputError(`transaction ${result.hash} emitted no Settled event`);
  const a = event.args;
  return {
    orderRef: a.orderRef as Hex,
    agreementId: a.agreementId as bigint,
    payer: a.payer as Address,
    version: Number(a.version),
    token: a.token as Address,
    gross: a.gross as bigint,
    referrer: a.referrer as Address,
    referralFee: a.referralFee as bigint,
    reserve: a.reserve as bigint,
    releaseAt: Number(a.releaseAt),
  };
}

/**
 * Settles a payment for an active agreement, in ETH or an ERC-20 token.
 *
 * @example
 * const orderRef = makeOrderRef({ orderId: "BKG-1001", salt })
 * const { settled } = await settle(context, { agreementId: 1n, gross: parseEther("1.5"), referrer: travelSite, orderRef })
 */
export async function settle(context: ConcordContext, parameters: SettleParameters): Promise<SettleReturnType> {
  if (parameters.gross <= 0n) throw new InvalidInputError(`gross amount is ${parameters.gross}; it must be positive`);
  const token = parameters.token ?? zeroAddress;
  if (token !== zeroAddress) await ensureAllowance(context, token, parameters.gross, parameters.approve ?? false);
  const result = await simulateAndWrite(context, {
    address: context.addresses.ledger,
    abi: settlementLedgerAbi,
    functionName: "settle",
    args: [parameters.agreementId, token, parameters.gross, parameters.referrer ?? zeroAddress, parameters.orderRef],
    value: token === zeroAddress ? parameters.gross : 0n,
  });
  return { ...result, settled: settledFrom(result) };
}
