import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { RpcRequestError, createPublicClient, http, type Hex } from "viem";
import { engineBatchOf, engineResponseTextOf, findHardhatEngine, hardhatTransport } from "../../src/sdk/transports";

type RequestArguments = { method: string; params?: readonly unknown[] | object };
type Requester = { request: (args: RequestArguments) => Promise<unknown> };

/** Runs `body` while counting, by method, the requests that reach Hardhat's own in-process provider (the engine's holder). */
async function countingHolderRequests(body: () => Promise<void>): Promise<Map<string, number>> {
  const holder = findHardhatEngine(hre.network.provider) as unknown as Requester | undefined;
  if (!holder) throw new Error("no in-process engine behind hre.network.provider");
  const counts = new Map<string, number>();
  const original = holder.request;
  holder.request = (args) => {
    counts.set(args.method, (counts.get(args.method) ?? 0) + 1);
    return original.call(holder, args);
  };
  try {
    await body();
  } finally {
    delete (holder as { request?: unknown }).request; // the prototype's method again
  }
  return counts;
}

const hex = (n: number) => `0x${n.toString(16)}`;
const word = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

describe("hardhatTransport", function () {
  async function transfersFixture() {
    const [deployer, alice, bob] = await ethers.getSigners();
    const token = await (await ethers.getContractFactory("MockERC20", deployer)).deploy("Euro Coin", "EURC", 6);
    await token.waitForDeployment();
    const fromBlock = await ethers.provider.getBlockNumber();
    for (let i = 1n; i <= 5n; i += 1n) {
      await (await token.mint(await alice!.getAddress(), i * 1_000n)).wait();
      await (await token.connect(alice!).transfer(await bob!.getAddress(), i)).wait();
    }
    return { token: (await token.getAddress()) as Hex, fromBlock, head: await ethers.provider.getBlockNumber() };
  }

  it("answers eth_getLogs from the in-process engine, exactly as Hardhat's provider does", async function () {
    const { token, fromBlock, head } = await loadFixture(transfersFixture);
    const client = createPublicClient({ transport: hardhatTransport(hre.network.provider) });
    const filters = [
      { address: token, fromBlock: hex(fromBlock), toBlock: hex(head) },
      { address: [token], fromBlock: hex(head - 3), toBlock: "latest" },
      { fromBlock: hex(fromBlock), toBlock: "latest", topics: [ethers.id("Transfer(address,address,uint256)")] }, // any address
      { address: token, fromBlock: hex(head + 1), toBlock: hex(head + 5) }, // beyond the head: none
    ];
    const answers: unknown[] = [];
    const counts = await countingHolderRequests(async () => {
      for (const filter of filters) answers.push(await client.request({ method: "eth_getLogs", params: [filter] } as never));
      await client.getBlockNumber({ cacheTime: 0 }); // any other method: through the provider
    });
    expect(Object.fromEntries(counts)).to.deep.equal({ eth_blockNumber: 1 });
    for (let i = 0; i < filters.length; i += 1) {
      expect(answers[i]).to.deep.equal(await hre.network.provider.request({ method: "eth_getLogs", params: [filters[i]] }), `filter ${i}`);
    }
    expect(answers.map((a) => (a as unknown[]).length)).to.deep.equal([10, 4, 10, 0]); // 5 mints and 5 transfers, each one Transfer
  });

  it("leaves an eth_getLogs the engine refuses to Hardhat's provider, whose error the caller gets", async function () {
    await loadFixture(transfersFixture);
    const client = createPublicClient({ transport: hardhatTransport(hre.network.provider) });
    const unknownBlock = { blockHash: `0x${"11".repeat(32)}` };
    let reference: unknown;
    await hre.network.provider.request({ method: "eth_getLogs", params: [unknownBlock] }).catch((error: unknown) => (reference = error));
    expect((reference as Error).message).to.equal("blockHash cannot be found");
    let error: unknown;
    const counts = await countingHolderRequests(async () => {
      error = await client.request({ method: "eth_getLogs", params: [unknownBlock] } as never).catch((e: unknown) => e);
    });
    expect((error as { details?: string }).details).to.equal("blockHash cannot be found");
    expect(Object.fromEntries(counts)).to.deep.equal({ eth_getLogs: 1 }); // asked once more, of the provider
  });

  it("sends everything through any other provider, and gives a revert without a code the standard shape", async function () {
    const seen: string[] = [];
    const revertData = "0x1234abcd";
    const provider: Requester = {
      request: async (args) => {
        seen.push(args.method);
        if (args.method === "eth_call") throw Object.assign(new Error("reverted with custom error"), { data: revertData });
        return args.method === "eth_getLogs" ? [] : "0x7";
      },
    };
    expect(findHardhatEngine(provider)).to.equal(undefined);
    const client = createPublicClient({ transport: hardhatTransport(provider) });
    expect(await client.request({ method: "eth_getLogs", params: [{ fromBlock: "0x0" }] } as never)).to.deep.equal([]);
    expect(await client.getBlockNumber({ cacheTime: 0 })).to.equal(7n);
    const error = await client.request({ method: "eth_call", params: [{ to: `0x${"22".repeat(20)}`, data: "0x" }, "latest"] } as never).catch((e: unknown) => e);
    // As viem's HTTP transport reports a node's revert (and so not retried as a transient failure).
    expect(error).to.be.instanceOf(RpcRequestError);
    const { code, data, details } = error as RpcRequestError & { data?: unknown };
    expect([code, data, details]).to.deep.equal([3, revertData, "execution reverted: reverted with custom error"]);
    expect(seen).to.deep.equal(["eth_getLogs", "eth_blockNumber", "eth_call"]);
    // No engine, no batches and no response text: the caller is told so, and nothing is sent.
    expect(engineBatchOf(client)!([{ method: "eth_chainId", params: [] }])).to.equal(undefined);
    expect(engineResponseTextOf(client)!({ method: "eth_chainId", params: [] })).to.equal(undefined);
    expect(seen).to.have.length(3);
  });

  describe("engineResponseText", function () {
    it("gives the engine's response text, whose result is the provider's answer; undefined for an error; read-only methods only", async function () {
      const { token, fromBlock, head } = await loadFixture(transfersFixture);
      const client = createPublicClient({ transport: hardhatTransport(hre.network.provider) });
      const responseText = engineResponseTextOf(client)!;
      expect(engineResponseTextOf(createPublicClient({ transport: http("http://127.0.0.1:1") }))).to.equal(undefined);
      const filter = { address: token, fromBlock: hex(fromBlock), toBlock: hex(head) };
      let text: string | undefined;
      const counts = await countingHolderRequests(async () => {
        text = await responseText({ method: "eth_getLogs", params: [filter] });
      });
      expect(counts.size, "nothing through Hardhat's provider").to.equal(0);
      expect(text).to.be.a("string");
      const reference = await hre.network.provider.request({ method: "eth_getLogs", params: [filter] });
      expect((JSON.parse(text!) as { result: unknown }).result).to.deep.equal(reference);
      expect((reference as unknown[]).length).to.equal(10);
      expect(await responseText({ method: "eth_getLogs", params: [{ blockHash: `0x${"11".repeat(32)}` }] })).to.equal(undefined);
      expect(() => responseText({ method: "eth_sendRawTransaction", params: ["0x00"] })).to.throw(TypeError, /read-only methods only .* not eth_sendRawTransaction/);
    });
  });

  describe("engineBatch", function () {
    it("answers read-only requests (calls with a state override included) in one batch, in order, exactly as the provider answers each", async function () {
      const { token, head } = await loadFixture(transfersFixture);
      const client = createPublicClient({ transport: hardhatTransport(hre.network.provider) });
      const batch = engineBatchOf(client);
      expect(batch).to.be.a("function");
      expect(engineBatchOf(createPublicClient({ transport: http("http://127.0.0.1:1") }))).to.equal(undefined);
      const [, alice] = await ethers.getSigners();
      const requests = [
        ...[0, 1, 2, 3].map((slot) => ({ method: "eth_getStorageAt", params: [token, hex(slot), hex(head)] })),
        { method: "eth_getStorageAt", params: [token, hex(2), hex(head - 4)] }, // an earlier block: the supply then
        { method: "eth_getBalance", params: [await alice!.getAddress(), "latest"] },
        { method: "eth_getCode", params: [token, hex(head)] },
        { method: "eth_call", params: [{ to: token, data: `0x70a08231${(await alice!.getAddress()).slice(2).padStart(64, "0")}` }, hex(head)] }, // balanceOf(alice)
        { method: "eth_call", params: [{ to: token, data: "0x18160ddd" }, hex(head), { [token]: { stateDiff: { [word(2)]: word(42) } } }] }, // totalSupply(), slot 2 overridden
        { method: "eth_getLogs", params: [{ address: token, fromBlock: hex(head - 1), toBlock: hex(head) }] },
        { method: "eth_blockNumber", params: [] },
        { method: "eth_chainId", params: [] },
      ];
      let answers: unknown[] = [];
      const counts = await countingHolderRequests(async () => {
        answers = (await batch!(requests))!;
      });
      expect(counts.size, "nothing through Hardhat's provider").to.equal(0);
      const reference = [];
      for (const r of requests) reference.push(await hre.network.provider.request(r));
      expect(answers).to.deep.equal(reference);
      expect(new Set(answers.slice(0, 5)).size, "distinct words were read").to.be.greaterThan(2);
      expect(answers[8], "the state override applied").to.equal(word(42));
      expect(await batch!([])).to.deep.equal([]);
    });

    it("rejects the whole batch with the engine's error when one request is bad or one call reverts, and refuses methods that are not read-only", async function () {
      const { token, head } = await loadFixture(transfersFixture);
      const batch = engineBatchOf(createPublicClient({ transport: hardhatTransport(hre.network.provider) }))!;
      const good = { method: "eth_getStorageAt", params: [token, "0x0", hex(head)] };
      const error = await batch([good, { method: "eth_getStorageAt", params: [token, "0x0", hex(head + 1000)] }])!.catch((e: unknown) => e);
      expect(error).to.be.instanceOf(RpcRequestError);
      expect((error as RpcRequestError).details).to.match(new RegExp(`a batch of 2 requests: .*${head + 1000}`));
      const blockBefore = await ethers.provider.getBlockNumber();
      const reverting = await batch([good, { method: "eth_call", params: [{ to: token, data: "0xdeadbeef" }, hex(head)] }])!.catch((e: unknown) => e); // no such function
      expect(reverting).to.be.instanceOf(RpcRequestError);
      expect((reverting as RpcRequestError).details).to.match(/a batch of 2 requests: .*revert/i);
      for (const method of ["eth_sendTransaction", "evm_mine", "hardhat_setStorageAt", "eth_sendRawTransaction"]) {
        expect(() => batch([good, { method, params: [] }]), method).to.throw(TypeError, new RegExp(`read-only methods only .* not ${method}`));
      }
      expect(await ethers.provider.getBlockNumber()).to.equal(blockBefore); // nothing was sent
    });
  });
});
