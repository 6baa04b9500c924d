import { zeroAddress, type Address } from "viem";
import { agreementRegistryAbi, settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordReadErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import { claimCredit } from "../split";
import { getAgreementsOfParty } from "./getAgreementsOfParty";

export type GetBalanceParameters = {
  account: Address;
  /** ERC-20 token, or omit for ETH. */
  token?: Address;
  /** Also sum what the account can claim from the pools of the versions it is a party of (reads events; default true). */
  includeClaimable?: boolean;
  blockNumber?: bigint;
};
/** What one version's pool owes the account as its party `partyIndex`: what a {@link claim} would credit now. */
export type ClaimableShare = { agreementId: bigint; version: number; partyIndex: number; shareBps: number; amount: bigint };
export type GetBalanceReturnType = {
  account: Address;
  token: Address;
  /** Withdrawable now. */
  balance: bigint;
  /** Owed from pools, withdrawable after a claim or distribute. */
  claimable: bigint;
  shares: ClaimableShare[];
};
export type GetBalanceErrorType = ConcordReadErrorType;

/**
 * Reads an account's withdrawable balance in a token and, by default, what it can claim from the
 * pools of the activated versions it is an account party of: its share of each pool's whole units
 * since it was last paid (the ledger's claim rule, src/sdk/split.ts `claimCredit`). What a nested
 * agreement owes its own members reaches them once the parent's share is paid into the child's
 * pool, and is counted there.
 *
 * @param context - Any context.
 * @param parameters - {@link GetBalanceParameters}
 * @returns The withdrawable balance, the claimable total and each claimable share.
 *
 * @example
 * import { claim, getBalance } from "./src/sdk"
 * const { balance, shares } = await getBalance(context, { account: hotel })
 * for (const s of shares) await claim(context, { agreementId: s.agreementId, version: s.version, partyIndex: s.partyIndex })
 */
export async function getBalance(context: ConcordContext, parameters: GetBalanceParameters): Promise<GetBalanceReturnType> {
  const token = parameters.token ?? zeroAddress;
  const ledger = { address: context.addresses.ledger, abi: settlementLedgerAbi, blockNumber: parameters.blockNumber } as const;
  const registry = { address: context.addresses.registry, abi: agreementRegistryAbi, blockNumber: parameters.blockNumber } as const;
  const balance = await withConcordErrors(() =>
    context.publicClient.readContract({ ...ledger, functionName: "balanceOf", args: [parameters.account, token] }),
  );
  const shares: ClaimableShare[] = [];
  if (parameters.includeClaimable ?? true) {
    const memberships = await getAgreementsOfParty(context, { account: parameters.account, toBlock: parameters.blockNumber });
    await withConcordErrors(async () => {
      for (const m of memberships) {
        const args = [m.agreementId, m.version] as const;
        const payout = await context.publicClient.readContract({ ...registry, functionName: "versionPayout", args });
        if (payout.unit === 0) continue; // never activated: its pool holds nothing
        const [pool, paidUpTo] = await Promise.all([
          context.publicClient.readContract({ ...ledger, functionName: "pool", args: [...args, token] }),
          context.publicClient.readContract({ ...ledger, functionName: "paidUpTo", args: [...args, token, BigInt(m.partyIndex)] }),
        ]);
        const { amount } = claimCredit(pool, BigInt(payout.unit), m.shareBps, paidUpTo);
        if (amount > 0n) shares.push({ agreementId: m.agreementId, version: m.version, partyIndex: m.partyIndex, shareBps: m.shareBps, amount });
      }
    });
  }
  return { account: parameters.account, token, balance, claimable: shares.reduce((s, x) => s + x.amount, 0n), shares };
}
