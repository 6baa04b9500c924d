import { zeroAddress, type Address } from "viem";
import { settlementLedgerAbi } from "../abi";
import { accountAddress, signerOf, type ConcordContext } from "../client";
import { InvalidInputError } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import { simulateAndWrite, type WriteResult } from "../write";

export type WithdrawParameters = {
  /** ERC-20 token, or omit for ETH. */
  token?: Address;
  /** Recipient (default: the account itself). */
  to?: Address;
  /** Amount (default: the whole balance). */
  amount?: bigint;
};
export type WithdrawReturnType = WriteResult & { amount: bigint; to: Address };

/**
 * Withdraws the account's balance (pull payment), to itself or to an address it names.
 *
 * @example
 * await withdraw(hotelContext, {})                       // all ETH to the hotel
 * await withdraw(hotelContext, { token: usdc, to: treasury, amount: 1_000_000n })
 */
export async function withdraw(context: ConcordContext, parameters: WithdrawParameters = {}): Promise<WithdrawReturnType> {
  const account = accountAddress(signerOf(context));
  const token = parameters.token ?? zeroAddress;
  const to = parameters.to ?? account;
  const balance = await withConcordErrors(() =>
    context.publicClient.readContract({
      address: context.addresses.ledger,
      abi: settlementLedgerAbi,
      functionName: "balanceOf",
      args: [account, token],
    }),
  );
  const amount = parameters.amount ?? balance;
  if (amount <= 0n) throw new InvalidInputError(`${account} has nothing to withdraw in ${token === zeroAddress ? "ETH" : token}`);
  if (amount > balance) throw new InvalidInputError(`${account} has ${balance} withdrawable; cannot withdraw ${amount}`);
  const result = await simulateAndWrite(context, {
    address: context.addresses.ledger,
    abi: settlementLedgerAbi,
    functionName: "withdraw",
    args: [token, to, amount],
  });
  return { ...result, amount, to };
}
