import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Hex } from "viem";
import { UsageError, registerSecret } from "./errors";

/** The user's local Concord folder: $CONCORD_HOME, else ~/.concord. */
export function concordHome(): string {
  return process.env.CONCORD_HOME || path.join(os.homedir(), ".concord");
}

/**
 * The secret key from which order references are derived (`settle --order-id`, `intent sign
 * --order-id`): 32 random bytes made on first use in <home>/order-key (readable by the user only).
 * The same order id then always gives the same reference, so a retried settle is refused instead
 * of charging twice. Copy the file to every machine that settles the same orders.
 */
export function orderKey(): Hex {
  const home = concordHome();
  const file = path.join(home, "order-key");
  try {
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, `0x${randomBytes(32).toString("hex")}\n`, { flag: "wx", mode: 0o600 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EEXIST") throw new UsageError(`cannot create the order key ${file} (${code ?? "error"}): set CONCORD_HOME to a folder you can write, or give --salt`);
  }
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8").trim();
  } catch (error) {
    throw new UsageError(`cannot read the order key ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(text)) throw new UsageError(`the order key ${file} is not 32 bytes of hex: restore it from your backup, or give --salt`);
  registerSecret(text);
  return text as Hex;
}
