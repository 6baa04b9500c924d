import { ethers } from "hardhat";
import type { Signer } from "ethers";
import type { AgreementRegistry, MockERC20, SettlementLedger } from "../../typechain-types";
import { DAY, ETH, ReferrerPolicy, makeTerms, signConsents, type TermsInput } from "../helpers/concord";

/** Everything a rich history leaves behind for the auditor tests. */
export type RichHistory = {
  registry: AgreementRegistry;
  ledger: SettlementLedger;
  token: MockERC20;
  addresses: { registry: `0x${string}`; ledger: `0x${string}`; token: `0x${string}` };
  deployBlock: bigint;
  people: Record<"hotel" | "restaurant" | "airline" | "chef" | "guest" | "guest2" | "travelSite" | "refundDesk", string>;
  terms: { a1: TermsInput; a2: TermsInput; b: TermsInput; c: TermsInput };
  ids: { a: bigint; b: bigint; c: bigint };
};

export type ChainControl = {
  /** Moves the chain's clock forward by `seconds` and mines a block. */
  increaseTime: (seconds: number) => Promise<void>;
};

type SettledRecord = { agreementId: bigint; version: bigint; token: string; payer: string; reserve: bigint; releaseAt: bigint };

async function recordOf(ledger: SettlementLedger, orderRef: string): Promise<SettledRecord> {
  const [log] = await ledger.queryFilter(ledger.filters.Settled(orderRef));
  if (!log) throw new Error(`no Settled event for ${orderRef}`);
  const a = log.args;
  return { agreementId: a.agreementId, version: a.version, token: a.token, payer: a.payer, reserve: a.reserve, releaseAt: a.releaseAt };
}

const orderRef = (label: string) => ethers.id(`concord:audit:${label}`);

/**
 * Builds a history with several agreements, an amendment, a nested agreement, referrals (open and
 * allowlisted), refunds (partial and full), releases, distributes, claims and withdrawals, in ETH
 * and a MockERC20. `ledgerName` swaps the ledger for a test double (FaultyLedger).
 */
export async function buildRichHistory(
  signers: Signer[],
  chain: ChainControl,
  options: { ledgerName?: string } = {},
): Promise<RichHistory> {
  const [deployer, hotel, restaurant, airline, chef, guest, guest2, travelSite, refundDesk] = signers as [
    Signer, Signer, Signer, Signer, Signer, Signer, Signer, Signer, Signer,
  ];
  const at = async (s: Signer) => s.getAddress();
  const registry = (await (await ethers.getContractFactory("AgreementRegistry", deployer)).deploy()) as unknown as AgreementRegistry;
  await registry.waitForDeployment();
  const deployBlock = BigInt((await registry.deploymentTransaction()!.wait())!.blockNumber);
  const ledgerFactory = await ethers.getContractFactory(options.ledgerName ?? "SettlementLedger", deployer);
  const ledger = (await ledgerFactory.deploy(await registry.getAddress())) as unknown as SettlementLedger;
  await ledger.waitForDeployment();
  const token = (await (await ethers.getContractFactory("MockERC20", deployer)).deploy("Euro Coin", "EURC", 6)) as unknown as MockERC20;
  await token.waitForDeployment();
  const ledgerAddress = await ledger.getAddress();

  const send = async (p: Promise<{ wait: () => Promise<unknown> }>) => (await p).wait();
  for (const payer of [guest, guest2]) {
    await send(token.mint(await at(payer), 10_000_000_000n));
    await send(token.connect(payer).approve(ledgerAddress, ethers.MaxUint256));
  }

  // A: hotel / restaurant / airline, open referral 5%, 10% reserve for 7 days, refund desk.
  const a1 = makeTerms([[await at(hotel), 5_000], [await at(restaurant), 3_000], [await at(airline), 2_000]], {
    refundAuthority: await at(refundDesk),
  });
  const idA = (await registry.agreementCount()) + 1n;
  await send(registry.propose(a1));
  await send(registry.activate(idA, 1, a1, await signConsents(registry, [hotel, restaurant, airline], idA, 1n, a1)));

  // B: restaurant 60% / chef 40%, no referral, no reserve (unit 5: dust appears).
  const b = makeTerms([[await at(restaurant), 6_000], [await at(chef), 4_000]], {
    referralFeeBps: 0,
    referrerPolicy: ReferrerPolicy.None,
    reserveBps: 0,
    disputeWindow: 0,
  });
  const idB = (await registry.agreementCount()) + 1n;
  await send(registry.propose(b));
  await send(registry.activate(idB, 1, b, await signConsents(registry, [restaurant, chef], idB, 1n, b)));

  // C: hotel 70% and agreement B 30% (nested), allowlisted referrer, 5% reserve for 1 day, dust to B.
  const c = makeTerms([[await at(hotel), 7_000], [idB, 3_000]], {
    referralFeeBps: 300,
    referrerPolicy: ReferrerPolicy.Allowlist,
    referrers: [await at(travelSite)],
    reserveBps: 500,
    disputeWindow: DAY,
    dustPartyIndex: 1,
  });
  const idC = (await registry.agreementCount()) + 1n;
  await send(registry.propose(c));
  await send(registry.activate(idC, 1, c, await signConsents(registry, [hotel], idC, 1n, c)));

  const ts = await at(travelSite);
  // Settlements under A v1 (ETH and token, with and without referrer; odd amounts leave dust).
  await send(ledger.connect(guest).settle(idA, ETH, 1_000_000_007n, ts, orderRef("a1-eth-1"), { value: 1_000_000_007n }));
  await send(ledger.connect(guest2).settle(idA, ETH, 333_333_333n, ethers.ZeroAddress, orderRef("a1-eth-2"), { value: 333_333_333n }));
  await send(ledger.connect(guest).settle(idA, await token.getAddress(), 2_500_001n, ts, orderRef("a1-tok-1")));
  await send(ledger.connect(guest2).settle(idA, await token.getAddress(), 999_999n, await at(guest), orderRef("a1-tok-2")));
  // Settlements under C (nested B), ETH and token.
  await send(ledger.connect(guest).settle(idC, ETH, 777_777_777n, ts, orderRef("c-eth-1"), { value: 777_777_777n }));
  await send(ledger.connect(guest2).settle(idC, await token.getAddress(), 5_000_003n, ethers.ZeroAddress, orderRef("c-tok-1")));
  // Direct settlement on B (no reserve).
  await send(ledger.connect(guest).settle(idB, ETH, 123_456_789n, ethers.ZeroAddress, orderRef("b-eth-1"), { value: 123_456_789n }));

  // Refunds within the window: partial then full.
  const desk = ledger.connect(refundDesk);
  await send(desk.refund(orderRef("a1-eth-2"), await recordOf(ledger, orderRef("a1-eth-2")), 10_000_000n));
  const eth2 = await recordOf(ledger, orderRef("a1-eth-2"));
  await send(desk.refund(orderRef("a1-eth-2"), { ...eth2, reserve: eth2.reserve - 10_000_000n }, eth2.reserve - 10_000_000n));
  await send(desk.refund(orderRef("a1-tok-2"), await recordOf(ledger, orderRef("a1-tok-2")), 1n));

  // Amendment of A: new shares and a 20% reserve, consented by every party.
  const a2 = makeTerms([[await at(hotel), 4_000], [await at(restaurant), 4_000], [await at(airline), 2_000]], {
    reserveBps: 2_000,
    refundAuthority: await at(refundDesk),
    dustPartyIndex: 2,
    documentHash: ethers.id("concord:audit:amendment"),
  });
  await send(registry.proposeAmendment(idA, a2));
  await send(registry.activateAmendment(idA, 2, a2, a1, await signConsents(registry, [hotel, restaurant, airline], idA, 2n, a2)));
  await send(ledger.connect(guest).settle(idA, ETH, 50_000_001n, ts, orderRef("a2-eth-1"), { value: 50_000_001n }));
  await send(ledger.connect(guest2).settle(idA, await token.getAddress(), 7_654_321n, ts, orderRef("a2-tok-1")));

  // Past every dispute window: release what remains (A v1 by its own version, A v2, C).
  await chain.increaseTime(8 * DAY);
  for (const label of ["a1-eth-1", "a1-tok-1", "a1-tok-2", "c-eth-1", "c-tok-1", "a2-eth-1", "a2-tok-1"]) {
    const record = await recordOf(ledger, orderRef(label));
    if (label === "a1-tok-2") record.reserve -= 1n; // partially refunded above
    await send(ledger.releaseReserve(orderRef(label), record));
  }

  // Payouts: distribute A v1 (both tokens), claim one party of A v2, distribute C (feeds B), then B.
  await send(ledger.distribute(idA, 1, ETH, a1));
  await send(ledger.distribute(idA, 1, await token.getAddress(), a1));
  await send(ledger.claim(idA, 2, ETH, a2, 0));
  await send(ledger.distribute(idC, 1, ETH, c));
  await send(ledger.distribute(idC, 1, await token.getAddress(), c));
  await send(ledger.distribute(idB, 1, ETH, b));
  // A later settlement on C after a distribute: the pool grows again, claim the nested party only.
  await send(ledger.connect(guest).settle(idC, ETH, 10_001n, ethers.ZeroAddress, orderRef("c-eth-2"), { value: 10_001n }));
  await send(ledger.claim(idC, 1, ETH, c, 1));

  // Withdrawals: partial and full, ETH and token, to another address.
  const hotelEth = await ledger.balanceOf(await at(hotel), ETH);
  await send(ledger.connect(hotel).withdraw(ETH, await at(hotel), hotelEth / 3n));
  const tsTok = await ledger.balanceOf(ts, await token.getAddress());
  await send(ledger.connect(travelSite).withdraw(await token.getAddress(), await at(chef), tsTok));
  const guest2Eth = await ledger.balanceOf(await at(guest2), ETH);
  await send(ledger.connect(guest2).withdraw(ETH, await at(guest2), guest2Eth));

  return {
    registry,
    ledger,
    token,
    addresses: {
      registry: (await registry.getAddress()) as `0x${string}`,
      ledger: ledgerAddress as `0x${string}`,
      token: (await token.getAddress()) as `0x${string}`,
    },
    deployBlock,
    people: {
      hotel: await at(hotel),
      restaurant: await at(restaurant),
      airline: await at(airline),
      chef: await at(chef),
      guest: await at(guest),
      guest2: await at(guest2),
      travelSite: ts,
      refundDesk: await at(refundDesk),
    },
    terms: { a1, a2, b, c },
    ids: { a: idA, b: idB, c: idC },
  };
}
