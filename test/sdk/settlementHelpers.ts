/** Helpers of the SDK settlement suites: failures of a given class, a minted test token, the ledger's reads. */
import { expect } from "chai";
import { parseAbi, zeroAddress, type Address, type Hex } from "viem";
import { ContractRevertError, settlementLedgerAbi, type ConcordContext } from "../../src/sdk";
import type { ConcordFixture } from "./fixtures";

/** Runs `action` and returns the error it must throw, checked to be an instance of `kind`. */
export async function failure<E extends Error>(action: () => Promise<unknown>, kind: abstract new (...args: never[]) => E): Promise<E> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught, "the action must fail").to.be.instanceOf(kind);
  return caught as E;
}

/** Runs `action` and checks it reverts with the ledger's `errorName` and exactly `args`. */
export async function expectRevert(action: () => Promise<unknown>, errorName: string, args?: readonly unknown[]): Promise<void> {
  const error = await failure(action, ContractRevertError);
  expect(error.errorName).to.equal(errorName);
  if (args) expect(error.args).to.deep.equal(args);
}

const mockTokenAbi = parseAbi(["function mint(address to, uint256 amount)"]);

/** Deploys the MockERC20 test token (6 decimals, EIP-2612) and mints `amount` to each of `holders`. */
export async function mockToken(f: ConcordFixture, holders: readonly Address[], amount: bigint): Promise<Address> {
  const token = await f.env.deploy("MockERC20", ["Stable USD", "sUSD", 6]);
  const minter = f.contexts[0]!.walletClient!;
  for (const holder of holders) {
    const hash = await minter.writeContract({ address: token, abi: mockTokenAbi, functionName: "mint", args: [holder, amount], account: minter.account!, chain: minter.chain });
    await f.env.publicClient.waitForTransactionReceipt({ hash });
  }
  return token;
}

/** Reads of the ledger a suite checks laws against. */
export function ledgerReads(f: ConcordFixture) {
  const read = { address: f.env.addresses.ledger, abi: settlementLedgerAbi } as const;
  const client = f.env.publicClient;
  return {
    pool: (agreementId: bigint, version: number, token: Address = zeroAddress) =>
      client.readContract({ ...read, functionName: "pool", args: [agreementId, version, token] }),
    balanceOf: (account: Address, token: Address = zeroAddress) => client.readContract({ ...read, functionName: "balanceOf", args: [account, token] }),
    isOrderSettled: (scope: Address, orderRef: Hex) => client.readContract({ ...read, functionName: "isOrderSettled", args: [scope, orderRef] }),
    lotHash: (lotId: bigint) => client.readContract({ ...read, functionName: "lotHash", args: [lotId] }),
    /** ETH the ledger holds. */
    holdings: () => client.getBalance({ address: f.env.addresses.ledger }),
  };
}

/** The address a context signs as. */
export const addressOf = (context: ConcordContext): Address => (context.walletClient!.account as { address: Address }).address;
