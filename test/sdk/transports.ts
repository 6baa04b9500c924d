import { expect } from "chai";
import hre from "hardhat";
import {
  ContractFunctionRevertedError,
  RpcRequestError,
  createPublicClient,
  createWalletClient,
  getAddress,
  type Address,
  type BaseError,
  type Hex,
} from "viem";
import { hardhat } from "viem/chains";
import { agreementRegistryAbi } from "../../src/sdk/abi";
import { hardhatTransport } from "../../src/sdk/transports";

type RequestArguments = { method: string; params?: readonly unknown[] | object };

describe("hardhatTransport", function () {
  it("sends every request through the provider's request, unchanged, and gives a revert without a code the standard shape", async function () {
    const seen: RequestArguments[] = [];
    const revertData = "0x1234abcd";
    const provider = {
      request: async (args: RequestArguments) => {
        seen.push(args);
        if (args.method === "eth_call") throw Object.assign(new Error("reverted with custom error"), { data: revertData });
        if (args.method === "eth_getBalance") throw Object.assign(new Error("node refused"), { code: -32000, data: "0xdead" });
        return args.method === "eth_getLogs" ? [] : "0x7";
      },
    };
    const client = createPublicClient({ transport: hardhatTransport(provider) });
    expect(await client.request({ method: "eth_getLogs", params: [{ fromBlock: "0x0" }] } as never)).to.deep.equal([]);
    expect(await client.getBlockNumber({ cacheTime: 0 })).to.equal(7n);
    const error = await client.request({ method: "eth_call", params: [{ to: `0x${"22".repeat(20)}`, data: "0x" }, "latest"] } as never).catch((e: unknown) => e);
    // As viem's HTTP transport reports a node's revert (and so not retried as a transient failure).
    expect(error).to.be.instanceOf(RpcRequestError);
    const { code, data, details } = error as RpcRequestError & { data?: unknown };
    expect([code, data, details]).to.deep.equal([3, revertData, "execution reverted: reverted with custom error"]);
    // An error that has a code is the node's own: it passes unchanged (viem may retry it as it would over HTTP).
    const refused = await client.request({ method: "eth_getBalance", params: [`0x${"22".repeat(20)}`, "latest"] } as never).catch((e: unknown) => e);
    expect((refused as { details?: string }).details).to.equal("node refused");
    expect(seen.slice(0, 3).map((a) => a.method)).to.deep.equal(["eth_getLogs", "eth_blockNumber", "eth_call"]);
    expect(seen[0]!.params).to.deep.equal([{ fromBlock: "0x0" }]);
  });

  it("lets viem decode a contract's custom error from Hardhat's in-process network, asking once", async function () {
    let calls = 0;
    const counting = {
      request: (args: RequestArguments) => {
        if (args.method === "eth_estimateGas" || args.method === "eth_call") calls += 1;
        return hre.network.provider.request(args as { method: string; params?: unknown[] });
      },
    };
    const transport = hardhatTransport(counting);
    const publicClient = createPublicClient({ transport });
    const [account] = (await hre.network.provider.request({ method: "eth_accounts" })) as Address[];
    const wallet = createWalletClient({ account: account!, transport, chain: hardhat });
    const artifact = await hre.artifacts.readArtifact("AgreementRegistry");
    const deployed = await publicClient.waitForTransactionReceipt({ hash: await wallet.deployContract({ abi: agreementRegistryAbi, bytecode: artifact.bytecode as Hex }) });
    const registry = deployed.contractAddress!;
    await publicClient.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: registry, abi: agreementRegistryAbi, functionName: "cancelNonce", args: [5n] }) });
    calls = 0;
    const error = await publicClient
      .simulateContract({ address: registry, abi: agreementRegistryAbi, functionName: "cancelNonce", args: [5n], account: account! })
      .catch((e: unknown) => e as BaseError);
    const reverted = (error as BaseError).walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError;
    expect([reverted.data?.errorName, ...(reverted.data?.args ?? [])]).to.deep.equal(["RegistryNonceUsed", getAddress(account!), 5n]);
    expect(calls, "a revert is not retried").to.equal(1);
  });
});
