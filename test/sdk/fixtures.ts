import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { Address } from "viem";
import {
  activateAgreement,
  buildTerms,
  proposeAgreement,
  signConsent,
  type BuildTermsParameters,
  type ConcordContext,
  type Terms,
} from "../../src/sdk";
import { inProcess, type SdkEnvironment } from "./environments";

/** The in-process chain with Concord deployed through the Ignition module, and a context per account. */
export type ConcordFixture = { env: SdkEnvironment; contexts: ConcordContext[]; addressOf: (c: ConcordContext) => Address };

async function deployedConcord(): Promise<ConcordFixture> {
  const env = await inProcess();
  const contexts = await Promise.all(env.accounts.map((_, i) => env.as(i)));
  return { env, contexts, addressOf: (c) => (c.walletClient!.account as { address: Address }).address };
}

/** A fresh deployment per test (a snapshot restored after the first). */
export const concordFixture = () => loadFixture(deployedConcord);

/**
 * Proposes `terms` as `proposer` and activates them with a consent signature of every context in
 * `consenters` (the accounts of the terms' tree); returns the agreement id.
 */
export async function proposeAndActivate(
  proposer: ConcordContext,
  terms: Terms,
  consenters: readonly ConcordContext[],
): Promise<bigint> {
  const { agreementId } = await proposeAgreement(proposer, { terms });
  const signatures = await Promise.all(consenters.map((c) => signConsent(c, { agreementId, version: 1, terms })));
  await activateAgreement(proposer, { agreementId, terms, signatures });
  return agreementId;
}

/** Terms of the given accounts with equal-ish shares (the first takes the rest) and no fee or reserve. */
export function accountTerms(accounts: readonly Address[], extra: Omit<BuildTermsParameters, "parties"> = {}): Terms {
  const base = Math.floor(10_000 / accounts.length);
  return buildTerms({
    parties: accounts.map((account, i) => ({ account, shareBps: i === 0 ? 10_000 - base * (accounts.length - 1) : base })),
    ...extra,
  });
}
