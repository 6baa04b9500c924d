import { Command } from "commander";
import { examples, lazyAction } from "../options";

export function walletCommand(): Command {
  const wallet = new Command("wallet").description("keystores (Web3 Secret Storage v3, as geth and cast write them): make one, import a key, read its address");

  examples(
    wallet
      .command("new")
      .argument("<file>", "the keystore to write (never overwritten)")
      .description("make a new random key and write it encrypted to a keystore file; the password from --password-file, or a prompt asked twice"),
    ["concord wallet new hotel.json", "concord wallet new hotel.json --password-file pw.txt --json"],
  ).action(lazyAction(() => import("../actions/wallet"), "newWallet"));

  examples(
    wallet
      .command("import")
      .argument("<file>", "the keystore to write (never overwritten)")
      .description("encrypt an existing private key into a keystore file: the key from a hidden prompt, or standard input (never the command line)"),
    ["concord wallet import hotel.json", "concord wallet import hotel.json --password-file pw.txt < hotel.key"],
  ).action(lazyAction(() => import("../actions/wallet"), "importWallet"));

  examples(
    wallet.command("address").argument("<file>", "a keystore file").description("the address a keystore holds the key of (read from the file; no password)"),
    ["concord wallet address hotel.json", "concord wallet address hotel.json --json"],
  ).action(lazyAction(() => import("../actions/wallet"), "address"));

  return wallet;
}
