import { getAddress, type Address } from "viem";
import type { ConcordContext } from "../client";
import { InvalidInputError, type ConcordReadErrorType } from "../errors/base";
import { LIMITS, type NestedTerms, type Terms } from "../terms";
import { readProposedTerms } from "./getVersion";

export type GetNestedTermsParameters = {
  /** The terms whose tree is walked (one version, or several: an amendment and the version in force). */
  terms: Terms | readonly Terms[];
  /** Where to start looking for VersionProposed events (default 0). */
  fromBlock?: bigint;
};
export type GetNestedTermsReturnType = NestedTerms[];
export type GetNestedTermsErrorType = ConcordReadErrorType;

const childKey = (c: Pick<NestedTerms, "agreementId" | "version">) => (c.agreementId << 32n) | BigInt(c.version);

/** Sorts nested terms strictly by (agreementId, version), as the registry takes them, dropping repeats. */
export function sortNestedTerms(children: readonly NestedTerms[]): NestedTerms[] {
  const byKey = new Map<bigint, NestedTerms>();
  for (const child of children) byKey.set(childKey(child), child);
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, child]) => child);
}

/**
 * The terms of every (agreement, pinned version) reachable from `terms` through nested parties,
 * sorted by (agreementId, version): the `children` that activation, amendment, termination and the
 * negotiation hub take. Each child's terms come from its VersionProposed event, checked against
 * the stored hash; the walk goes as deep as the nesting limit.
 *
 * @param context - Any context.
 * @param parameters - {@link GetNestedTermsParameters}
 * @returns The children, empty for terms of accounts only.
 *
 * @example
 * import { getNestedTerms } from "./src/sdk"
 * const children = await getNestedTerms(context, { terms: [amendment, currentTerms] })
 */
export async function getNestedTerms(
  context: ConcordContext,
  parameters: GetNestedTermsParameters,
): Promise<GetNestedTermsReturnType> {
  const roots: readonly Terms[] = Array.isArray(parameters.terms) ? parameters.terms : [parameters.terms as Terms];
  const found = new Map<bigint, NestedTerms>();
  let frontier: readonly Terms[] = roots;
  for (let depth = 0; frontier.length > 0; depth += 1) {
    const pins = new Map<bigint, { agreementId: bigint; version: number }>();
    for (const terms of frontier) {
      for (const p of terms.parties) {
        if (p.agreementId === 0n) continue;
        const key = childKey(p);
        if (!found.has(key)) pins.set(key, { agreementId: p.agreementId, version: p.version });
      }
    }
    if (pins.size === 0) break;
    if (depth >= LIMITS.maxNestingDepth) {
      throw new InvalidInputError(`the terms nest deeper than ${LIMITS.maxNestingDepth} levels (agreement ${[...pins.values()][0]!.agreementId})`);
    }
    const read = await Promise.all(
      [...pins.values()].map(async (pin) => ({
        ...pin,
        terms: (await readProposedTerms(context, { ...pin, fromBlock: parameters.fromBlock })).terms,
      })),
    );
    for (const child of read) found.set(childKey(child), child);
    frontier = read.map((child) => child.terms);
  }
  return sortNestedTerms([...found.values()]);
}

/**
 * Every account whose consent `terms` need, sorted ascending without repeats: the account
 * parties, and the consenters of each nested party's pinned version (from `children`). The local
 * twin of the registry's `consenters(terms, children)` view.
 */
export function consentersOf(terms: Terms, children: readonly NestedTerms[], depth = 0): Address[] {
  const byKey = new Map<bigint, Terms>(children.map((c) => [childKey(c), c.terms]));
  const accounts = new Set<bigint>();
  const walk = (t: Terms, level: number) => {
    for (const p of t.parties) {
      if (p.agreementId === 0n) {
        accounts.add(BigInt(p.account));
        continue;
      }
      const child = byKey.get(childKey(p));
      if (!child) throw new InvalidInputError(`no nested terms given for agreement ${p.agreementId} version ${p.version}`);
      if (level + 1 > LIMITS.maxNestingDepth) throw new InvalidInputError(`the terms nest deeper than ${LIMITS.maxNestingDepth} levels`);
      walk(child, level + 1);
    }
  };
  walk(terms, depth);
  return [...accounts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((a) => getAddress(`0x${a.toString(16).padStart(40, "0")}`));
}
