import type { Command } from "commander";
import type { Address } from "viem";
import { keystoreAddress, readPassword, readPrivateKey, refuseExistingFile, writeKeystore } from "../keys";
import { emit } from "../output";
import { optionsOf } from "../options";

const written = (o: { json?: boolean }, file: string, address: Address, what: string) =>
  emit(o, { address, keystore: file }, () =>
    `${what} ${address} to ${file} (Web3 Secret Storage v3, scrypt): back up the file and its password, nothing else opens it`,
  );

export async function newWallet(command: Command): Promise<void> {
  const [file] = command.processedArgs as [string];
  const o = optionsOf(command);
  refuseExistingFile(file);
  const password = await readPassword(o.passwordFile, file, { confirm: true });
  written(o, file, await writeKeystore(file, password), "wrote a new key for");
}

export async function importWallet(command: Command): Promise<void> {
  const [file] = command.processedArgs as [string];
  const o = optionsOf(command);
  refuseExistingFile(file);
  const privateKey = await readPrivateKey();
  const password = await readPassword(o.passwordFile, file, { confirm: true });
  written(o, file, await writeKeystore(file, password, privateKey), "wrote the key of");
}

export async function address(command: Command): Promise<void> {
  const [file] = command.processedArgs as [string];
  const o = optionsOf(command);
  const address = keystoreAddress(file);
  emit(o, { address, keystore: file }, () => address);
}
