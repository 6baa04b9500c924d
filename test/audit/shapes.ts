import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { createPublicClient } from "viem";
import { verify } from "../../src/audit";
import { ChainReader, SettlementPrefetch } from "../../src/audit/reads";
import { ReplayState } from "../../src/audit/replay";
import { keepShape, keptShapes, setShapeKeeping, shapesGeneration } from "../../src/audit/shapes";
import { hardhatTransport } from "../../src/sdk";
import { buildRichHistory } from "./history";

describe("audit shapes kept between runs", function () {
  // Every test starts and ends with keeping on and nothing kept, whatever ran before.
  const keepNothingYet = () => {
    setShapeKeeping(false);
    setShapeKeeping(true);
  };
  beforeEach(keepNothingYet);
  after(keepNothingYet);

  describe("keepShape", function () {
    it("keeps the first exemplar of a name and never makes another", function () {
      let made = 0;
      const first = { a: 1 };
      keepShape("test: object", () => ((made += 1), first));
      keepShape("test: object", () => ((made += 1), { a: 2 }));
      expect(made).to.equal(1);
      expect(keptShapes().get("test: object")).to.equal(first);
    });

    it("lets a constructor keep an instance of its own class, made once", function () {
      let constructed = 0;
      class Recursive {
        constructor() {
          constructed += 1;
          keepShape("test: recursive", () => new Recursive());
        }
      }
      const outer = new Recursive();
      new Recursive();
      expect(constructed).to.equal(3); // outer, its exemplar, and the second instance
      const kept = keptShapes().get("test: recursive");
      expect(kept).to.be.instanceOf(Recursive);
      expect(kept).to.not.equal(outer);
    });

    it("never fails the caller, and does not retry an exemplar that threw", function () {
      let tries = 0;
      const failing = () => {
        tries += 1;
        throw new Error("no exemplar");
      };
      expect(() => keepShape("test: failing", failing)).to.not.throw();
      keepShape("test: failing", failing);
      expect(tries).to.equal(1);
      expect(keptShapes().has("test: failing")).to.equal(false);
    });

    it("keeps nothing while switched off, forgets when switched off, and keeps again when switched on", function () {
      keepShape("test: before", () => ({}));
      const before = shapesGeneration();
      setShapeKeeping(false);
      expect(shapesGeneration()).to.not.equal(before);
      expect(keptShapes().size).to.equal(0);
      keepShape("test: while off", () => ({}));
      expect(keptShapes().size).to.equal(0);
      const off = shapesGeneration();
      setShapeKeeping(true);
      expect(shapesGeneration()).to.not.equal(off);
      keepShape("test: before", () => ({ again: true }));
      expect(keptShapes().get("test: before")).to.deep.equal({ again: true });
    });
  });

  describe("the auditor's hot shapes", function () {
    async function richHistoryFixture() {
      const history = await buildRichHistory(await ethers.getSigners(), { increaseTime: async (s) => void (await time.increase(s)) });
      return { history, client: createPublicClient({ transport: hardhatTransport(hre.network.provider) }) };
    }

    it("are kept by a verify, as small exemplars that hold nothing of the run", async function () {
      const { history, client } = await loadFixture(richHistoryFixture);
      const result = await verify({ client, ledger: history.addresses.ledger, fromBlock: history.deployBlock, dataDir: null });
      expect(result.ok).to.equal(true);
      const kept = keptShapes();
      for (const name of ["ReplayState", "ConcordLogDecoder", "ChainReader", "SettlementPrefetch", "raw log", "terms", "prepared split"]) {
        expect(kept.has(name), name).to.equal(true);
      }
      // The decoded arguments of each static event that was met (their shape is built field by field).
      const argumentShapes = [...kept.keys()].filter((name) => name.startsWith("arguments of "));
      for (const event of ["Settled", "ReserveReleased", "PartyCredited", "Withdrawn", "VersionActivated"]) {
        expect(argumentShapes.some((name) => name.startsWith(`arguments of ${event}(`)), event).to.equal(true);
      }
      // Exemplars of the classes are empty instances: the replayed state and the client stay the run's.
      const state = kept.get("ReplayState") as ReplayState;
      expect(state).to.not.equal(result.sync.state);
      expect([state.settlements.size, state.eventsApplied]).to.deep.equal([0, 0]);
      const reader = kept.get("ChainReader") as ChainReader;
      expect(reader.requests).to.equal(0);
      const refused = await reader.send("eth_blockNumber", []).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      expect(refused?.message).to.match(/sends nothing/);
      const prefetch = kept.get("SettlementPrefetch") as SettlementPrefetch;
      expect(await prefetch.drain()).to.deep.equal(new Map());
      // A second run keeps the same exemplars and gives the same result.
      const again = await verify({ client, ledger: history.addresses.ledger, fromBlock: history.deployBlock, dataDir: null });
      expect([again.ok, again.reconcile.checked]).to.deep.equal([true, result.reconcile.checked]);
      for (const [name, exemplar] of kept) expect(keptShapes().get(name), name).to.equal(exemplar);
    });

    it("change nothing a replay finds when none are kept", async function () {
      const { history, client } = await loadFixture(richHistoryFixture);
      const kept = await verify({ client, ledger: history.addresses.ledger, fromBlock: history.deployBlock, dataDir: null });
      setShapeKeeping(false);
      const none = await verify({ client, ledger: history.addresses.ledger, fromBlock: history.deployBlock, dataDir: null });
      expect(keptShapes().size).to.equal(0);
      expect(none.ok).to.equal(true);
      expect(none.reconcile.checked).to.deep.equal(kept.reconcile.checked);
      expect(none.sync.state.eventsApplied).to.equal(kept.sync.state.eventsApplied);
      expect([...none.sync.state.balances.values()].map((b) => b.amount)).to.deep.equal([...kept.sync.state.balances.values()].map((b) => b.amount));
    });
  });
});
