import { expect } from "chai";
import { createPublicClient, custom, encodeAbiParameters, encodeEventTopics, type Address, type Hex } from "viem";
import { fetchConcordLogs, type RangeEvent } from "../../src/audit/fetch";
import { settlementLedgerAbi } from "../../src/sdk/abi";

const registry: Address = "0x00000000000000000000000000000000000000aa";
const ledger: Address = "0x00000000000000000000000000000000000000bb";
const hex = (n: number | bigint): Hex => `0x${n.toString(16)}`;

type RawLog = { address: string; topics: Hex[]; data: Hex; blockNumber: Hex; blockHash: Hex; transactionHash: Hex; transactionIndex: Hex; logIndex: Hex };

/** A chain of `logsPerBlock(b)` ledger Withdrawn logs in block b, each with its (block, index) in `amount`. */
function syntheticChain(blocks: number, logsPerBlock: (block: number) => number): RawLog[] {
  const logs: RawLog[] = [];
  for (let block = 1; block <= blocks; block += 1) {
    const count = logsPerBlock(block);
    for (let i = 0; i < count; i += 1) {
      const account = `0x${(i + 1).toString(16).padStart(40, "0")}` as Address;
      logs.push({
        address: ledger,
        topics: encodeEventTopics({ abi: settlementLedgerAbi, eventName: "Withdrawn", args: { account, token: ledger, to: account } }) as Hex[],
        data: encodeAbiParameters([{ type: "uint256" }], [BigInt(block) * 1_000_000n + BigInt(i)]),
        blockNumber: hex(block),
        blockHash: `0x${block.toString(16).padStart(64, "0")}`,
        transactionHash: `0x${(block * 1_000 + i).toString(16).padStart(64, "0")}`,
        transactionIndex: hex(i),
        logIndex: hex(i),
      });
    }
  }
  return logs;
}

type Provider = { requests: { from: number; to: number; answered: number }[]; client: ReturnType<typeof createPublicClient> };

/** eth_getLogs over the synthetic chain, answering out of order (random delays) and refusing answers over `limit` logs. */
function provider(
  chain: RawLog[],
  options: { limit?: number; failEvery?: number; shuffle?: boolean; delayMs?: (from: number, to: number) => number } = {},
): Provider {
  const requests: Provider["requests"] = [];
  let calls = 0;
  const failed = new Set<string>();
  const request = async ({ method, params }: { method: string; params?: unknown }) => {
    if (method !== "eth_getLogs") throw new Error(`unexpected ${method}`);
    const [filter] = params as [{ fromBlock: Hex; toBlock: Hex; address: Address[] }];
    const from = Number(filter.fromBlock);
    const to = Number(filter.toBlock);
    calls += 1;
    await new Promise((resolve) => setTimeout(resolve, options.delayMs ? options.delayMs(from, to) : Math.floor(Math.random() * 4)));
    // Every failEvery-th request fails once (a retry of the same range then succeeds).
    if (options.failEvery && calls % options.failEvery === 0 && !failed.has(`${from}-${to}`)) {
      failed.add(`${from}-${to}`);
      throw new Error("upstream request timed out");
    }
    const answer = chain.filter((l) => Number(l.blockNumber) >= from && Number(l.blockNumber) <= to);
    if (options.limit !== undefined && answer.length > options.limit) {
      requests.push({ from, to, answered: -1 });
      throw new Error(`query returned more than ${options.limit} results`);
    }
    requests.push({ from, to, answered: answer.length });
    const copy = answer.map((l) => ({ ...l }));
    return options.shuffle ? copy.reverse() : copy;
  };
  const client = createPublicClient({ transport: custom({ request }, { retryCount: 0 }) });
  return { requests, client };
}

async function readAll(p: Provider, toBlock: number, options: { targetLogs?: number; concurrency?: number; initialRange?: bigint } = {}) {
  const batches: { fromBlock: bigint; toBlock: bigint; amounts: bigint[] }[] = [];
  const events: RangeEvent[] = [];
  for await (const batch of fetchConcordLogs(p.client, {
    addresses: { registry, ledger },
    fromBlock: 1n,
    toBlock: BigInt(toBlock),
    head: BigInt(toBlock),
    retryDelayMs: 1,
    onRange: (e) => events.push(e),
    ...options,
  })) {
    batches.push({ fromBlock: batch.fromBlock, toBlock: batch.toBlock, amounts: batch.logs.map((l) => l.args.amount as bigint) });
  }
  return { batches, events };
}

function expectExactlyOnceInOrder(chain: RawLog[], batches: { fromBlock: bigint; toBlock: bigint; amounts: bigint[] }[], toBlock: number) {
  // Contiguous batches covering every block once, and every log once, in chain order.
  expect(batches[0]!.fromBlock).to.equal(1n);
  for (let i = 1; i < batches.length; i += 1) expect(batches[i]!.fromBlock).to.equal(batches[i - 1]!.toBlock + 1n);
  expect(batches.at(-1)!.toBlock).to.equal(BigInt(toBlock));
  const expected = chain.map((l) => BigInt(l.data));
  expect(batches.flatMap((b) => b.amounts)).to.deep.equal(expected);
}

describe("audit fetch: range sizing and concurrency", function () {
  // Quiet for 40 blocks, then 560 blocks of 60 logs each, then quiet with one burst of 400 logs.
  const density = (b: number) => (b <= 40 ? (b % 7 === 0 ? 1 : 0) : b <= 600 ? 60 : b === 900 ? 400 : b % 50 === 0 ? 2 : 0);
  const chain = syntheticChain(2_000, density);

  it("yields every log once, in order, from ranges answered out of order", async function () {
    const p = provider(chain);
    // A first range of the 40 quiet blocks: the next ones (twice as long) run into the busy blocks.
    const { batches } = await readAll(p, 2_000, { targetLogs: 500, concurrency: 4, initialRange: 40n });
    expectExactlyOnceInOrder(chain, batches, 2_000);
    // Large answers go out in batches of about the target, cut between blocks (60 logs a block here).
    expect(Math.max(...p.requests.map((r) => r.answered))).to.be.greaterThan(1_000);
    for (const b of batches) expect(b.amounts.length).to.be.at.most(500 + 60);
    // The requests tile the blocks with no gap and no overlap.
    const ranges = [...p.requests].sort((a, b) => a.from - b.from);
    expect(ranges[0]!.from).to.equal(1);
    for (let i = 1; i < ranges.length; i += 1) expect(ranges[i]!.from).to.equal(ranges[i - 1]!.to + 1);
    expect(ranges.at(-1)!.to).to.equal(2_000);
  });

  it("keeps answers within twice the target once the logs get dense, and grows again when they thin out", async function () {
    const p = provider(chain);
    await readAll(p, 2_000, { targetLogs: 500, concurrency: 1 });
    // A range sized on quiet blocks can run into the dense ones (it is at most twice the quiet
    // range before it): that one answer may be large. From then on the busiest block seen caps
    // every range.
    const straddling = p.requests.findIndex((r) => r.to > 40);
    const length = (r: { from: number; to: number }) => r.to - r.from + 1;
    expect(length(p.requests[0]!)).to.equal(8); // the default first range
    expect(length(p.requests[straddling]!)).to.be.at.most(2 * length(p.requests[straddling - 1]!));
    const later = p.requests.slice(straddling + 1);
    const dense = later.filter((r) => r.to <= 600);
    expect(dense.length).to.be.greaterThan(20);
    for (const r of later) expect(r.answered, `${r.from}..${r.to}`).to.be.at.most(1_000);
    // After the dense stretch, ranges grow back (2x per quiet answer) to hundreds of blocks.
    expect(Math.max(...later.filter((r) => r.from > 950).map((r) => r.to - r.from + 1))).to.be.greaterThan(200);
    expect(p.requests.length).to.be.lessThan(100);
  });

  it("does not grow the ranges again when a quiet range is answered after the busy one behind it", async function () {
    // Blocks up to 40 are quiet and slow to answer; from 41 on, 60 logs a block, answered at once.
    // The three ranges after the first are 9-24, 25-40 and 41-56: the busy one answers first, and
    // the quiet ones, answered later, are older news that must not undo what it taught (they did:
    // the range after them grew to 32 blocks, 1,920 logs).
    const p = provider(chain, { delayMs: (_, to) => (to <= 40 ? 30 : 0) });
    const { batches } = await readAll(p, 2_000, { targetLogs: 500, concurrency: 3 });
    expectExactlyOnceInOrder(chain, batches, 2_000);
    const order = p.requests.map((r) => `${r.from}-${r.to}`);
    expect(order.indexOf("41-56"), order.join(" ")).to.be.lessThan(order.indexOf("25-40"));
    for (const r of p.requests.filter((x) => x.from > 56)) expect(r.answered, `${r.from}..${r.to}`).to.be.at.most(1_000);
  });

  it("puts an answer that comes out of order back in order", async function () {
    const p = provider(chain, { shuffle: true });
    const { batches } = await readAll(p, 2_000, { targetLogs: 500, concurrency: 2 });
    expectExactlyOnceInOrder(chain, batches, 2_000);
  });

  it("halves ranges a provider refuses as too large, retries other errors, and still yields everything in order", async function () {
    const p = provider(chain, { limit: 450, failEvery: 5 });
    const { batches, events } = await readAll(p, 2_000, { targetLogs: 1_000, concurrency: 3, initialRange: 400n });
    expectExactlyOnceInOrder(chain, batches, 2_000);
    expect(events.some((e) => e.kind === "shrink")).to.equal(true);
    expect(events.some((e) => e.kind === "retry")).to.equal(true);
    expect(Math.max(...batches.map((b) => b.amounts.length))).to.be.at.most(450);
  });

  it("fails loudly on a block that alone is too large, never skipping it", async function () {
    const p = provider(chain, { limit: 300 }); // block 900 alone has 400 logs
    let error: unknown;
    try {
      await readAll(p, 2_000, { concurrency: 2 });
    } catch (e) {
      error = e;
    }
    expect((error as Error).name).to.equal("LogFetchError");
    expect((error as Error).message).to.match(/blocks 900\.\.900 failed/);
  });
});
