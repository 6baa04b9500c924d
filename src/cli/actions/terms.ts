import fs from "node:fs";
import { keccak256, toHex, type Hex } from "viem";
import { buildTerms, getAgreement, type ConcordContext, type Terms } from "../../sdk";
import { UsageError } from "../errors";
import { table } from "../output";
import { parseAddress, parseBytes32, parseDuration, parseId, parseInteger, parseShares } from "../parse";

export type TermsOptions = {
  shares: string;
  referralFee?: string;
  referrers?: string;
  orderSigner?: string;
  reserve?: string;
  disputeWindow?: string;
  refundAuthority?: string;
  dustParty?: string;
  document?: string;
  documentHash?: string;
};


/**
 * Terms from command-line options; the SDK checks every rule and names the bad value. A nested
 * party given without its version (#N) is pinned to agreement N's active version, read from the chain.
 */
export async function termsFromOptions(o: TermsOptions, context: ConcordContext): Promise<Terms> {
  const parties = await Promise.all(
    parseShares(o.shares).map(async (p) => {
      if (p.account) return { account: p.account, shareBps: p.shareBps };
      const agreementId = p.agreementId!;
      if (p.version !== undefined) return { agreementId, version: p.version, shareBps: p.shareBps };
      const child = await getAgreement(context, { agreementId });
      if (child.status !== "active") {
        throw new UsageError(`nested agreement #${agreementId} is ${child.status}; a nested party must be active (pin a version with #${agreementId}@V)`);
      }
      return { agreementId, version: child.activeVersion, shareBps: p.shareBps };
    }),
  );
  let documentHash: Hex | undefined;
  if (o.document) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(o.document);
    } catch {
      throw new UsageError(`--document ${o.document} cannot be read`);
    }
    documentHash = keccak256(toHex(bytes));
  } else if (o.documentHash) {
    documentHash = parseBytes32(o.documentHash, "--document-hash");
  }
  const reserveBps = parseInteger(o.reserve ?? "0", "--reserve", 0, 10_000);
  return buildTerms({
    parties,
    referralFeeBps: parseInteger(o.referralFee ?? "0", "--referral-fee", 0, 10_000),
    orderSigner: o.orderSigner ? parseAddress(o.orderSigner, "--order-signer") : undefined,
    referrers: o.referrers ? o.referrers.split(",").map((r) => parseAddress(r.trim(), "--referrers")) : [],
    reserveBps,
    disputeWindow: o.disputeWindow ? parseDuration(o.disputeWindow, "--dispute-window") : 0,
    refundAuthority: o.refundAuthority ? parseAddress(o.refundAuthority, "--refund-authority") : undefined,
    dustParty: o.dustParty
      ? o.dustParty.startsWith("#")
        ? parseId(o.dustParty.slice(1), "--dust-party")
        : parseAddress(o.dustParty, "--dust-party")
      : undefined,
    documentHash,
  });
}

export function describeTerms(terms: Terms): string {
  const parties = table(
    terms.parties.map((p, i) => ({
      "#": i,
      party: p.agreementId !== 0n ? `agreement #${p.agreementId} version ${p.version}` : p.account,
      share: `${(p.shareBps / 100).toFixed(2)}%`,
      dust: i === terms.dustPartyIndex ? "yes" : "",
    })),
  );
  const signer = BigInt(terms.orderSigner) === 0n ? undefined : terms.orderSigner;
  const referral = signer
    ? `the referrer each intent of the order signer names`
    : terms.referrers.length
      ? `only ${terms.referrers.join(", ")}`
      : "nobody";
  return [
    parties,
    `referral fee   ${terms.referralFeeBps} bps (${referral})`,
    `order signer   ${signer ?? "none: direct payments, each scoped to its payer"}`,
    `reserve        ${terms.reserveBps} bps, dispute window ${terms.disputeWindow} s`,
    `refund by      ${terms.refundAuthority}`,
    `document hash  ${terms.documentHash}`,
  ].join("\n");
}
