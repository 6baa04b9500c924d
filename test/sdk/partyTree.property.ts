import { expect } from "chai";
import fc from "fast-check";
import { getAddress, pad, toHex, zeroAddress, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  ContractRevertError,
  activateAgreement,
  agreementRegistryAbi,
  buildTerms,
  getConsentTypedData,
  packParties,
  partiesListHash,
  partiesRoot,
  partyLeaf,
  partyProof,
  proposeAgreement,
  settlementLedgerAbi,
  toConcordError,
  verifyPartyProof,
  type ConcordContext,
  type Party,
  type PartyInput,
} from "../../src/sdk";
import { accountTerms, concordFixture, proposeAndActivate, type ConcordFixture } from "./fixtures";

const address = (i: number): Address => getAddress(pad(toHex(0xa11ce000 + i), { size: 20 }));

/** Random parties in the contracts' shape: accounts and nested agreements, shares summing to 10,000. */
const partiesArb = fc.integer({ min: 1, max: 48 }).chain((count) =>
  fc
    .tuple(
      fc.uniqueArray(fc.integer({ min: 1, max: 9_999 }), { minLength: count - 1, maxLength: count - 1 }),
      fc.array(fc.oneof(fc.integer({ min: 1, max: 1_000_000 }).map((i) => ({ account: address(i) })), fc.record({ agreementId: fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }), version: fc.integer({ min: 1, max: 2 ** 32 - 1 }) })), { minLength: count, maxLength: count }),
    )
    .map(([cuts, who]) => {
      const points = [0, ...cuts.sort((a, b) => a - b), 10_000];
      return who.map((w, i): Party =>
        "account" in w
          ? { account: w.account, agreementId: 0n, version: 0, shareBps: points[i + 1]! - points[i]! }
          : { account: zeroAddress, agreementId: w.agreementId, version: w.version, shareBps: points[i + 1]! - points[i]! },
      );
    }),
);

describe("party tree (partyTree.ts, the twin of PartyTree.sol)", function () {
  describe("in TypeScript", function () {
    it("gives every party a proof of its own index, and no proof passes for another index or another share", function () {
      fc.assert(
        fc.property(partiesArb, fc.nat(), (parties, seed) => {
          const root = partiesRoot(parties);
          parties.forEach((party, i) => expect(verifyPartyProof(root, i, party, partyProof(parties, i)), `party ${i}`).to.equal(true));
          const i = seed % parties.length;
          const proof = partyProof(parties, i);
          if (parties.length > 1) expect(verifyPartyProof(root, (i + 1) % parties.length, parties[i]!, proof)).to.equal(false);
          const inflated = { ...parties[i]!, shareBps: parties[i]!.shareBps + 1 };
          expect(verifyPartyProof(root, i, inflated, proof)).to.equal(false);
        }),
        { numRuns: 60 },
      );
    });

    it("makes one leaf its own root, and a proof's length the levels where the node has a sibling", function () {
      const one: Party[] = [{ account: address(1), agreementId: 0n, version: 0, shareBps: 10_000 }];
      expect(partiesRoot(one)).to.equal(partyLeaf(0, one[0]!));
      expect(partyProof(one, 0)).to.deep.equal([]);
      const three: Party[] = [1, 2, 3].map((i) => ({ account: address(i), agreementId: 0n, version: 0, shareBps: i === 1 ? 3_334 : 3_333 }));
      // Level sizes 3 -> 2 -> 1: the last leaf has no sibling at the bottom and is carried up.
      expect(partyProof(three, 2)).to.have.length(1);
      expect(partyProof(three, 0)).to.have.length(2);
      expect(() => partyProof(three, 3)).to.throw("party index 3 is out of range for 3 parties");
    });
  });

  describe("against the chain", function () {
    let f: ConcordFixture;
    let keeper: ConcordContext;
    before(async function () {
      f = await concordFixture();
      keeper = f.contexts[0]!;
    });

    it("has the root and the packed list hash the registry commits at activation: every proof passes claim, the packed list passes distribute, reordered or moved shares do not", async function () {
      this.timeout(300_000);
      const [, memberA, memberB] = f.contexts as [ConcordContext, ConcordContext, ConcordContext];
      const childId = await proposeAndActivate(memberA, accountTerms([f.addressOf(memberA), f.addressOf(memberB)]), [memberA, memberB]);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.boolean(), fc.nat(), async (accountCount, nested, seed) => {
          const keys = Array.from({ length: accountCount }, () => generatePrivateKey());
          const signers = keys.map((k) => privateKeyToAccount(k));
          const count = accountCount + (nested ? 1 : 0);
          const base = Math.floor(10_000 / count);
          const inputs: PartyInput[] = signers.map((s, i) => ({ account: s.address, shareBps: i === 0 ? 10_000 - base * (count - 1) : base }));
          if (nested) inputs.push({ agreementId: childId, version: 1, shareBps: base });
          const terms = buildTerms({ parties: inputs, dustParty: signers[seed % accountCount]!.address });
          const { agreementId } = await proposeAgreement(keeper, { terms });
          const deadline = (await f.env.publicClient.getBlock()).timestamp + 3_600n;
          const common = { chainId: f.env.chainId, registry: f.env.addresses.registry, agreementId, version: 1, terms, nonce: 1n, deadline };
          const signatures = await Promise.all(
            signers.map(async (s) => ({ signer: s.address, nonce: 1n, deadline, signature: await s.signTypedData(getConsentTypedData({ ...common, signer: s.address })) as Hex })),
          );
          if (nested) {
            for (const member of [memberA, memberB]) {
              const signer = f.addressOf(member);
              // Members sign in every run: a fresh nonce each time (nonces are single-use per signer).
              const nonce = agreementId;
              const signature = await member.walletClient!.signTypedData({ account: member.walletClient!.account!, ...getConsentTypedData({ ...common, signer, nonce }) });
              signatures.push({ signer, nonce, deadline, signature });
            }
          }
          await activateAgreement(keeper, { agreementId, terms, signatures });
          const payout = await f.env.publicClient.readContract({ address: f.env.addresses.registry, abi: agreementRegistryAbi, functionName: "versionPayout", args: [agreementId, 1] });
          expect(payout.partiesRoot).to.equal(partiesRoot(terms.parties));
          const [listHash, unit] = await f.env.publicClient.readContract({ address: f.env.addresses.registry, abi: agreementRegistryAbi, functionName: "distribution", args: [agreementId, 1] });
          expect([listHash, unit]).to.deep.equal([partiesListHash(terms.parties), payout.unit]);
          const distribute = (packed: bigint[]) =>
            f.env.publicClient
              .simulateContract({ address: f.env.addresses.ledger, abi: settlementLedgerAbi, functionName: "distribute", args: [agreementId, 1, zeroAddress, packed], account: f.addressOf(keeper) })
              .then(() => "accepted", (error: unknown) => (toConcordError(error) as ContractRevertError).errorName);
          expect(await distribute(packParties(terms.parties))).to.equal("accepted");
          if (terms.parties.length > 1) {
            // Reordered, or one basis point moved between two parties (the sum unchanged): refused.
            const packed = packParties(terms.parties);
            expect(await distribute([packed[1]!, packed[0]!, ...packed.slice(2)])).to.equal("LedgerPartiesMismatch");
            expect(await distribute([packed[0]! + (1n << 160n), packed[1]! - (1n << 160n), ...packed.slice(2)])).to.equal("LedgerPartiesMismatch");
          }
          const claim = (index: number, party: Party, proof: Hex[]) =>
            f.env.publicClient.simulateContract({
              address: f.env.addresses.ledger,
              abi: settlementLedgerAbi,
              functionName: "claim",
              args: [agreementId, 1, zeroAddress, BigInt(index), party, proof],
              account: f.addressOf(keeper),
            });
          for (let i = 0; i < terms.parties.length; i += 1) await claim(i, terms.parties[i]!, partyProof(terms.parties, i));
          if (terms.parties.length > 1) {
            const i = seed % terms.parties.length;
            const wrong = await claim((i + 1) % terms.parties.length, terms.parties[i]!, partyProof(terms.parties, i)).then(
              () => undefined,
              (error: unknown) => toConcordError(error),
            );
            expect(wrong).to.be.instanceOf(ContractRevertError);
            expect((wrong as ContractRevertError).errorName).to.equal("LedgerPartiesMismatch");
          }
        }),
        { numRuns: 12 },
      );
    });
  });
});
