import { zeroAddress, type Address } from "viem";
import { settlementLedgerAbi } from "../abi";
import type { ConcordContext } from "../client";
import type { ConcordReadErrorType } from "../errors/base";
import { withConcordErrors } from "../errors/decode";
import type { Terms } from "../terms";
import { getAgreementsOfParty } from "./getAgreementsOfParty";
import { getVersion } from "./getVersion";

export type GetBalanceParameters = {
  account: Address;
  /** ERC-20 token, or omit for ETH. */
  token?: Address;
  /** Also sum what the account can claim from agreement pools (reads events; default true). */
  includeClaimable?: boolean;
  blockNumber?: bigint;
};
export type ClaimableShare = { agreementId: bigint; version: number; partyIndex: number; amount: bigint; terms: Terms };
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
 * pools of the agreements it belongs to.
 *
 * Pools are lazy: a settlement credits the version's pool, and a party's share reaches its
 * balance only through {@link claim} or {@link distribute}. `shares` lists what to claim.
 *
 * @param context - Any context.
 * @param parameters - {@link GetBalanceParameters}
 * @returns The withdrawable balance, the claimable total and each claimable share.
 *
 * @example
 * import { getBalance } from "./src/sdk"
 * const { balance, claimable, shares } = await getBalance(context, { account: hotel })
 */
export async function getBalance(context: ConcordContext, parameters: GetBalanceParameters): Promise<GetBalanceReturnType> {
  const token = parameters.token ?? zeroAddress;
  return withConcordErrors(async () => {
    const read = { address: context.addresses.ledger, abi: settlementLedgerAbi, blockNumber: parameters.blockNumber } as const;
    const balance = await context.publicClient.readContract({ ...read, functionName: "balanceOf", args: [parameters.account, token] });
    const shares: ClaimableShare[] = [];
    if (parameters.includeClaimable ?? true) {
      const memberships = await getAgreementsOfParty(context, { account: parameters.account });
      for (const m of memberships) {
        const version = await getVersion(context, { agreementId: m.agreementId, version: m.version });
        if (!version.activated) continue;
        const amount = await context.publicClient.readContract({
          ...read,
          functionName: "claimable",
          args: [m.agreementId, m.version, token, version.terms, BigInt(m.partyIndex)],
        });
        if (amount > 0n) shares.push({ agreementId: m.agreementId, version: m.version, partyIndex: m.partyIndex, amount, terms: version.terms });
      }
    }
    return { account: parameters.account, token, balance, claimable: shares.reduce((s, x) => s + x.amount, 0n), shares };
  });
}
