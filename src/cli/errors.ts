/** Exit codes of the `concord` CLI (documented in `concord --help` and the README). */
export const ExitCode = {
  /** Success. */
  Ok: 0,
  /** An error on the chain side: the RPC endpoint is down, a transaction reverted after it was sent. */
  Failure: 1,
  /** Bad usage or bad input: nothing was sent on chain. */
  Usage: 2,
  /** `negotiate agent`: the negotiation ended without agreement (broken or expired). */
  NoAgreement: 3,
  /** `audit verify` found a difference between the replayed history and the chain. */
  Mismatch: 4,
  /** `negotiate agent`: stopped by --max-wait while the negotiation is still open. */
  Stopped: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Bad usage or input, found before anything is sent: exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
  readonly exitCode: ExitCode = ExitCode.Usage;
}

/** A failure on the chain side: exit code 1. */
export class ChainError extends Error {
  override name = "ChainError";
  readonly exitCode: ExitCode = ExitCode.Failure;
}

const secrets = new Set<string>();

/** Registers a secret (a private key, a password) so that {redactSecrets} hides it from every message. */
export function registerSecret(secret: string): void {
  const bare = secret.replace(/^0x/i, "");
  if (bare.length >= 8) secrets.add(bare.toLowerCase());
}

/** Replaces every registered secret in `message` (with or without 0x, any case) by "<redacted>". */
export function redactSecrets(message: string): string {
  let out = message;
  for (const secret of secrets) {
    out = out.replace(new RegExp(`(0x)?${secret}`, "gi"), "<redacted>");
  }
  return out;
}
