import { zeroAddress, type Address } from "viem";
import { settlementLedgerAbi } from "../abi";
import { senderOf, type ConcordContext } from "../client";
import { InvalidInputError, type ConcordWriteErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import { eventArgs, planCall, sendPlanned, type PlannedCall, type WriteResult } from "../write";

export type WithdrawParameters = {
  /** ERC-20 token, or omit for ETH. */
  token?: Address;
  /** Recipient (default: the account itself). */
  to?: Address;
  /** Amount (default: the whole withdrawable balance, read first). */
  amount?: bigint;
};
export type WithdrawReturnType = WriteResult & { amount: bigint; to: Address };
export type WithdrawErrorType = ConcordWriteErrorType;

/**
 * Withdraws from the account's balance (pull payment), to itself or to an address it names. Only
 * the balance counts: shares still in agreement pools must be claimed first ({@link claim},
 * {@link distribute}; {@link getBalance} lists them). Asking for more than the balance is refused
 * by the ledger's simulation (LedgerInsufficientBalance, naming balance and amount), before any gas.
 *
 * @param context - A context whose account owns the balance.
 * @param parameters - {@link WithdrawParameters}
 * @returns The transaction, the amount and the recipient.
 *
 * @example
 * import { withdraw } from "./src/sdk"
 * await withdraw(hotelContext)                                           // all ETH to the hotel
 * await withdraw(hotelContext, { token: usdc, to: treasury, amount: 1_000_000n })
 */
export async function withdraw(context: ConcordContext, parameters: WithdrawParameters = {}): Promise<WithdrawReturnType> {
  const result = await sendPlanned(context, await withdrawCall(context, parameters));
  const withdrawn = eventArgs(result, settlementLedgerAbi, "Withdrawn");
  return { ...result, amount: withdrawn.amount, to: withdrawn.to };
}

/** The call {@link withdraw} sends (the whole balance read first when no amount is given); {@link prepareWithdraw} returns it encoded. */
export async function withdrawCall(context: ConcordContext, parameters: WithdrawParameters = {}): Promise<PlannedCall> {
  const account = senderOf(context);
  const token = parameters.token ?? zeroAddress;
  const to = parameters.to ?? account;
  let amount = parameters.amount;
  if (amount === undefined) {
    amount = await withConcordErrors(() =>
      context.publicClient.readContract({
        address: context.addresses.ledger,
        abi: settlementLedgerAbi,
        functionName: "balanceOf",
        args: [account, token],
      }),
    );
    if (amount === 0n) throw new InvalidInputError(`${account} has nothing to withdraw in ${token === zeroAddress ? "ETH" : token}`);
  }
  if (amount <= 0n) throw new InvalidInputError(`withdrawal amount is ${amount}; it must be positive`);
  return planCall(
    { address: context.addresses.ledger, abi: settlementLedgerAbi, functionName: "withdraw", args: [token, to, amount] },
    `withdraw ${amount} ${token === zeroAddress ? "wei of ETH" : `units of token ${token}`} from the ledger balance of ${account} to ${to}`,
  );
}
