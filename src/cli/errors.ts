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
  /** Stopped by Ctrl-C (SIGINT), at a prompt or in `negotiate agent`: 128 + 2, as shells report it. */
  Interrupted: 130,
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

/** What a write would send (`--dry-run`), found where the transaction would be signed. */
export type WouldSend = { from: string; to: string; functionName: string; args: readonly unknown[]; value: bigint; gas?: bigint; data: string; chainId: number };

/**
 * Stops a command under --dry-run or --prepare at its first transaction: main() prints it (or
 * writes it to `prepareFile`) and exits 0.
 */
export class DryRunStop extends Error {
  override name = "DryRunStop";
  constructor(
    readonly call: WouldSend,
    readonly prepareFile?: string,
  ) {
    super(`dry run: would send ${call.functionName} to ${call.to} from ${call.from}`);
  }
}

/** The {@link DryRunStop} of an error or of any error in its cause chain. */
export function dryRunOf(error: unknown): DryRunStop | undefined {
  for (let e = error; e; e = (e as { cause?: unknown }).cause) if (e instanceof DryRunStop) return e;
  return undefined;
}

/** Secrets shorter than this are not redacted: they would match ordinary words of every message. */
export const MIN_SECRET_LENGTH = 8;

/** Registered secrets: matched exactly (passwords), or hex matched in any letter case. */
const exact = new Set<string>();
const hex = new Set<string>();

/** Lower-cases A-F only, so that positions in the text do not move (toLowerCase can change lengths). */
const lowerHexLetters = (text: string) => text.replace(/[A-F]/g, (c) => c.toLowerCase());

/**
 * Registers a secret (a private key, a password, an RPC URL's credentials) so that
 * {@link redactSecrets} hides it from every message: the text exactly as given, and a hex text
 * with or without 0x in any letter case. Secrets under {@link MIN_SECRET_LENGTH} characters are ignored.
 */
export function registerSecret(secret: string): void {
  if (secret.length >= MIN_SECRET_LENGTH) exact.add(secret);
  const bare = secret.trim().replace(/^0x/i, "");
  if (bare.length >= MIN_SECRET_LENGTH && /^[0-9a-fA-F]+$/.test(bare)) hex.add(bare.toLowerCase());
}

/**
 * Replaces every registered secret in `message` by "<redacted>", by plain string search (no
 * regular expression is ever built from a secret): longest secrets first, hex in any case.
 */
export function redactSecrets(message: string): string {
  let out = message;
  for (const secret of [...exact].sort((a, b) => b.length - a.length)) out = out.split(secret).join("<redacted>");
  for (const secret of [...hex].sort((a, b) => b.length - a.length)) {
    const folded = lowerHexLetters(out);
    let result = "";
    let from = 0;
    for (let at = folded.indexOf(secret); at !== -1; at = folded.indexOf(secret, from)) {
      const start = at - 2 >= from && /^0[xX]$/.test(folded.slice(at - 2, at)) ? at - 2 : at;
      result += out.slice(from, start) + "<redacted>";
      from = at + secret.length;
    }
    out = result + out.slice(from);
  }
  return out;
}
