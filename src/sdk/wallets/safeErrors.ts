/** The Safe's revert reasons in words: the adapter's and the generic ERC-1271 check's (a Safe named by address only). */

/** The Safe's revert codes (its contracts' `GSxxx` reasons) that a signature or a transaction meets, in words. */
export const SAFE_ERROR_MESSAGES: Record<string, string> = {
  GS001: "the Safe has no threshold set (it is not set up)",
  GS010: "not enough gas for the Safe transaction",
  GS013: "the Safe transaction's inner call failed",
  GS020: "fewer owner signatures than its threshold (the signatures are too short)",
  GS021: "a contract owner's signature points outside the signatures",
  GS022: "a contract owner's signature is out of bounds",
  GS023: "a contract owner's signature is out of bounds",
  GS024: "a contract owner refused its part of the signature",
  GS025: "an owner's approval of the hash is missing",
  GS026: "a signature is not from an owner, or the signatures are not sorted by owner address",
};

/** Words for a Safe revert reason: its code, then what it means. */
export function explainSafeError(reason: string): string {
  const code = /GS\d{3}/.exec(reason)?.[0];
  return code && SAFE_ERROR_MESSAGES[code] ? `${code}: ${SAFE_ERROR_MESSAGES[code]}` : reason;
}
