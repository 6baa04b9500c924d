import { expect } from "chai";
import hre from "hardhat";
import { LEDGER_STORAGE } from "../../src/audit/reads";

type Member = { label: string; slot: string; offset: number; type: string };
type Layout = { storage: Member[]; types: Record<string, { label: string; members?: Member[]; numberOfBytes: string }> };

/** The storage layout solc gives the compiled SettlementLedger (the build's own input, storageLayout selected). */
async function ledgerLayout(): Promise<Layout> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc") as { compile: (input: string) => string };
  const file = "contracts/SettlementLedger.sol";
  const buildInfo = (await hre.artifacts.getBuildInfo(`${file}:SettlementLedger`))!;
  const input = { ...buildInfo.input, settings: { ...buildInfo.input.settings, outputSelection: { [file]: { SettlementLedger: ["storageLayout"] } } } };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as { contracts: Record<string, Record<string, { storageLayout: Layout }>> };
  return output.contracts[file]!.SettlementLedger!.storageLayout;
}

describe("audit storage layout", function () {
  this.timeout(300_000);
  let layout: Layout;
  before(async function () {
    layout = await ledgerLayout();
  });

  it("reads each of the ledger's mappings at the slot the compiler gives it", function () {
    const slots = Object.fromEntries(layout.storage.map((m) => [m.label, BigInt(m.slot)]));
    expect({
      balances: slots._balances,
      pools: slots._pools,
      paidUpTo: slots._paidUpTo,
      claimedSince: slots._claimedSince,
      orderBitmaps: slots._orderBitmaps,
      lots: slots._lots,
      risk: slots._risk,
    }).to.deep.equal(LEDGER_STORAGE);
    const types = Object.fromEntries(layout.storage.map((m) => [m.label, m.type]));
    expect(types._balances).to.equal("t_mapping(t_address,t_mapping(t_address,t_uint256))");
    expect(types._paidUpTo).to.equal("t_mapping(t_bytes32,t_uint256)");
    expect(types._orderBitmaps).to.equal("t_mapping(t_address,t_mapping(t_uint256,t_uint256))");
    expect(types._lots).to.equal("t_mapping(t_uint256,t_bytes32)");
    expect(types._pools).to.match(/^t_mapping\(t_uint64,t_mapping\(t_uint32,t_mapping\(t_address,t_struct\(Pool\)\d+_storage\)\)\)$/);
    expect(types._risk).to.match(/^t_mapping\(t_uint64,t_mapping\(t_address,t_struct\(RiskCounters\)\d+_storage\)\)$/);
  });

  it("splits the pool and risk words where the compiler packs their fields", function () {
    const struct = (name: string) => Object.values(layout.types).find((t) => t.label === `struct ${name}`)!.members!.map((m) => [m.label, Number(m.slot), m.offset]);
    // reconcile/plan.ts: pool word 0 = total | held << 128, word 1 = distributed.
    expect(struct("Pool")).to.deep.equal([["total", 0, 0], ["held", 0, 16], ["distributed", 1, 0]]);
    // Risk word 0 = settledVolume | settledCount << 128 | refundCount << 192, word 1 = refundedVolume.
    expect(struct("RiskCounters")).to.deep.equal([["settledVolume", 0, 0], ["settledCount", 0, 16], ["refundCount", 0, 24], ["refundedVolume", 1, 0]]);
  });
});
