import { expect } from "chai";
import fc from "fast-check";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import {
  createPublicClient,
  createWalletClient,
  encodeAbiParameters,
  getAddress,
  http,
  keccak256,
  pad,
  toHex,
  zeroAddress,
  zeroHash,
  type AbiParameter,
  type Address,
  type PublicClient,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import {
  ContractRevertError,
  DeploymentNotFoundError,
  ERROR_MESSAGES,
  IGNITION_KEYS,
  InvalidInputError,
  LIMITS,
  ORDER_REF_DOMAIN,
  AgreementStatus,
  TermsValidationError,
  partyKey,
  proposeAgreement,
  RpcError,
  agreementRegistryAbi,
  buildTerms,
  createConcordClient,
  createConcordContext,
  getAgreement,
  hardhatTransport,
  loadDeployment,
  makeOrderRef,
  negotiationHubAbi,
  orderSalt,
  ORDER_SALT_DOMAIN,
  randomSalt,
  settlementLedgerAbi,
  toConcordError,
  validateTerms,
  type ConcordContext,
  type Terms,
} from "../../src/sdk";
import { freePort } from "../helpers/processes";
import { hmac } from "@noble/hashes/hmac";
import { sha256 } from "@noble/hashes/sha256";
import { anvil, type SdkEnvironment } from "./environments";

const address = (i: number): Address => getAddress(pad(toHex(0xc0de0000 + i), { size: 20 }));

describe("SDK units", function () {
  describe("error messages", function () {
    const errors = [...agreementRegistryAbi, ...settlementLedgerAbi, ...negotiationHubAbi].filter((x) => x.type === "error");

    it("exist for every custom error of every Concord ABI (interfaces and the OpenZeppelin ones the contracts can throw)", function () {
      const missing = [...new Set(errors.map((e) => e.name))].filter((name) => !ERROR_MESSAGES[name]);
      expect(missing).to.deep.equal([]);
    });

    it("name every offending value of the error", function () {
      const STATUS: Record<string, readonly string[]> = {
        "enum AgreementStatus": ["none", "proposed", "active", "terminated"],
        "enum NegotiationStatus": ["none", "open", "agreed", "broken", "expired"],
      };
      for (const error of errors) {
        const inputs = error.inputs as readonly (AbiParameter & { internalType?: string })[];
        const args = inputs.map((input, i) => {
          if (input.type === "address") return address(i + 1);
          if (input.type === "bytes32") return keccak256(toHex(`${error.name}:${i}`));
          if (input.type === "string") return `value-${i}`;
          if (input.internalType?.startsWith("enum ")) return 2;
          return 9_900n + BigInt(i) * 1_111n;
        });
        const message = ERROR_MESSAGES[error.name]!(...args);
        expect(message, error.name).to.be.a("string").and.not.equal("");
        inputs.forEach((input, i) => {
          const value = args[i]!;
          const expected = input.internalType?.startsWith("enum ")
            ? STATUS[input.internalType]?.[Number(value)] ?? String(value)
            : typeof value === "bigint"
              ? value.toLocaleString("en-US")
              : String(value);
          expect(message, `${error.name} should name ${input.name} (${expected})`).to.include(expected);
        });
      }
    });

    it("read as the example in the issue for RegistrySharesSumInvalid", function () {
      expect(ERROR_MESSAGES.RegistrySharesSumInvalid!(9_900n)).to.equal("shares sum to 9,900 basis points; they must sum to 10,000");
    });
  });

  describe("buildTerms", function () {
    const partyArb = fc
      .uniqueArray(
        fc.oneof(
          fc.integer({ min: 1, max: 5_000 }).map((i) => ({ account: address(i) })),
          fc.record({ agreementId: fc.integer({ min: 1, max: 50 }).map(BigInt), version: fc.integer({ min: 1, max: 9 }) }),
        ),
        { minLength: 1, maxLength: 12, selector: (p) => ("account" in p ? p.account : `#${p.agreementId}`) },
      )
      .chain((parties) =>
        fc
          .array(fc.integer({ min: 1, max: 100 }), { minLength: parties.length, maxLength: parties.length })
          .map((weights) => {
            // Whole shares summing to exactly 10,000, none zero.
            const total = weights.reduce((a, b) => a + b, 0);
            const shares = weights.map((w) => Math.max(1, Math.floor((w * (10_000 - parties.length)) / total)));
            shares[0]! += 10_000 - shares.reduce((a, b) => a + b, 0);
            return parties.map((p, i) => ({ ...p, shareBps: shares[i]! }));
          })
          .filter((ps) => ps.every((p) => p.shareBps > 0)),
      );

    it("sorts parties by the contract's key (accounts by address, then nested agreements by id) and referrers ascending, whatever the input order", function () {
      fc.assert(
        fc.property(
          partyArb.chain((ps) => fc.tuple(fc.constant(ps), fc.shuffledSubarray(ps, { minLength: ps.length, maxLength: ps.length }))),
          fc.uniqueArray(fc.integer({ min: 1, max: 9_999 }), { minLength: 1, maxLength: 5 }),
          ([parties, shuffled], refs) => {
            const referrers = refs.map((i) => address(10_000 + i));
            const a = buildTerms({ parties, referralFeeBps: 300, referrers });
            const b = buildTerms({ parties: shuffled, referralFeeBps: 300, referrers: [...referrers].reverse() });
            expect(b).to.deep.equal(a);
            a.parties.forEach((p, i) => i > 0 && expect(partyKey(p) > partyKey(a.parties[i - 1]!)).to.equal(true));
            // Accounts carry version 0; a nested party keeps the version it was pinned to.
            const pinOf = (p: Terms["parties"][number]) => parties.find((q) => "agreementId" in q && BigInt(q.agreementId) === p.agreementId);
            a.parties.forEach((p) => expect(p.version).to.equal(p.agreementId === 0n ? 0 : (pinOf(p) as { version: number }).version));
            a.referrers.forEach((r, i) => i > 0 && expect(BigInt(r) > BigInt(a.referrers[i - 1]!)).to.equal(true));
          },
        ),
        { numRuns: 200 },
      );
    });

    it("names the offending value and the registry rule it breaks", function () {
      const hotel = address(1);
      const one = [{ account: hotel, shareBps: 10_000 }];
      const cases: Array<[() => unknown, string, string]> = [
        [() => buildTerms({ parties: [{ account: hotel, shareBps: 9_900 }] }), "RegistrySharesSumInvalid", "shares sum to 9,900 basis points; they must sum to 10,000"],
        [() => buildTerms({ parties: one, referralFeeBps: 2_001, orderSigner: hotel }), "RegistryReferralFeeTooHigh", "referral fee is 2,001 basis points; the cap is 2,000"],
        [() => buildTerms({ parties: one, reserveBps: 5_001, disputeWindow: 3_600 }), "RegistryReserveTooHigh", "reserve is 5,001 basis points; the cap is 5,000"],
        [() => buildTerms({ parties: one, reserveBps: 100, disputeWindow: 3_599 }), "RegistryDisputeWindowOutOfRange", "dispute window is 3,599 s"],
        [() => buildTerms({ parties: [{ account: hotel, shareBps: 5_000 }, { account: hotel, shareBps: 5_000 }] }), "RegistryDuplicateParty", `party 1 (${hotel}) appears twice`],
        [() => buildTerms({ parties: [{ agreementId: 3n, version: 0, shareBps: 10_000 }] }), "RegistryNestedAgreementInvalid", "pinned to version 0"],
        [() => buildTerms({ parties: one, referralFeeBps: 100 }), "RegistryReferralTermsInvalid", "a referral fee of 100 basis points needs an order signer or at least one listed referrer"],
        [() => buildTerms({ parties: one, referrers: [address(9)] }), "RegistryReferralTermsInvalid", "terms list 1 referrers but charge no referral fee"],
        [() => buildTerms({ parties: one, referralFeeBps: 100, orderSigner: hotel, referrers: [address(9)] }), "RegistryReferralTermsInvalid", `order signer ${hotel} list 1 referrers`],
        [() => buildTerms({ parties: one, referralFeeBps: 100, referrers: [address(9), address(9)] }), "RegistryReferrerListInvalid", `referrer 1 (${address(9)}) is zero, repeated or out of order`],
      ];
      for (const [build, rule, message] of cases) {
        expect(build, message).to.throw(TermsValidationError, message);
        try {
          build();
        } catch (error) {
          expect((error as TermsValidationError).rule, message).to.equal(rule);
        }
      }
      expect(() => buildTerms({ parties: [{ account: "0x1234", shareBps: 10_000 }] })).to.throw(InvalidInputError, 'party 0 account "0x1234" is not an address');
      expect(() => buildTerms({ parties: one, dustParty: address(2) })).to.throw(InvalidInputError, `dust party ${address(2)} is not a party`);
      expect(() => buildTerms({ parties: [{ account: hotel, shareBps: 70_000 }] })).to.throw(InvalidInputError, "share of party 0 is 70000");
    });

    describe("against the registry", function () {
      // On anvil: Hardhat spends about a second building a stack trace for every revert, and
      // this property makes hundreds of them.
      let node: SdkEnvironment;
      before(async function () {
        this.timeout(120_000);
        node = await anvil();
      });
      after(async function () {
        await node?.stop();
      });

      it("refuses exactly the terms the registry refuses, naming the same rule (validateTerms vs propose, on random near-limit terms)", async function () {
        const { publicClient } = node;
        const registry = node.addresses.registry;
        const pool = [1, 2, 3, 4].map(address);
        // Valid terms near the limits, then at most one mutation that may or may not break a rule.
        const validArb = fc
          .record({
            members: fc.subarray(pool, { minLength: 1, maxLength: 4 }),
            cut: fc.array(fc.integer({ min: 1, max: 9_999 }), { minLength: 3, maxLength: 3 }),
            fee: fc.constantFrom(0, 1, 2_000),
            withSigner: fc.boolean(),
            referrers: fc.subarray([address(7), address(8)], { minLength: 1 }),
            reserve: fc.constantFrom(0, 1, 5_000),
            window: fc.constantFrom(3_600, LIMITS.maxDisputeWindow),
            dust: fc.nat(),
          })
          .map(({ members, cut, fee, withSigner, referrers, reserve, window, dust }): Terms => {
            const points = [...new Set(cut.slice(0, members.length - 1))].sort((a, b) => a - b);
            const bounds = [0, ...points, 10_000];
            const parties = members.map((account, i) => ({ account, agreementId: 0n, version: 0, shareBps: (bounds[i + 1] ?? 10_000) - (bounds[i] ?? 0) }));
            parties[parties.length - 1]!.shareBps += 10_000 - parties.reduce((a, p) => a + p.shareBps, 0);
            const kept = parties.filter((p) => p.shareBps > 0);
            return {
              parties: kept,
              referralFeeBps: fee,
              referrers: fee !== 0 && !withSigner ? referrers : [],
              reserveBps: reserve,
              disputeWindow: reserve === 0 ? 0 : window,
              refundAuthority: zeroAddress,
              orderSigner: withSigner ? address(9) : zeroAddress,
              dustPartyIndex: dust % Math.max(1, kept.length),
              documentHash: zeroHash,
            };
          });
        const mutations: Array<(t: Terms) => Terms> = [
          (t) => t,
          (t) => ({ ...t, parties: t.parties.map((p, i) => (i === 0 ? { ...p, shareBps: p.shareBps - 1 } : p)) }),
          (t) => ({ ...t, parties: t.parties.map((p, i) => (i === 0 ? { ...p, shareBps: 0 } : p)) }),
          (t) => ({ ...t, parties: [...t.parties].reverse() }),
          (t) => ({ ...t, parties: [...t.parties, t.parties[t.parties.length - 1]!] }),
          (t) => ({ ...t, parties: t.parties.map((p, i) => (i === 0 ? { ...p, account: zeroAddress } : p)) }),
          (t) => ({ ...t, parties: t.parties.map((p, i) => (i === 0 ? { ...p, version: 1 } : p)) }),
          (t) => ({ ...t, parties: t.parties.map((p, i) => (i === 0 ? { ...p, agreementId: 5n } : p)) }),
          (t) => ({ ...t, parties: t.parties.map((p, i) => (i === 0 ? { ...p, account: zeroAddress, agreementId: 5n } : p)) }),
          (t) => ({ ...t, parties: [] }),
          (t) => ({ ...t, referralFeeBps: t.referralFeeBps === 0 ? 1 : 2_001 }),
          (t) => ({ ...t, referralFeeBps: 0 }),
          (t) => ({ ...t, orderSigner: BigInt(t.orderSigner) === 0n ? address(9) : zeroAddress }),
          (t) => ({ ...t, referrers: [...t.referrers].reverse() }),
          (t) => ({ ...t, referrers: [zeroAddress, ...t.referrers] }),
          (t) => ({ ...t, referrers: [...t.referrers, ...t.referrers] }),
          (t) => ({ ...t, reserveBps: 5_001, disputeWindow: 3_600 }),
          (t) => ({ ...t, disputeWindow: t.reserveBps === 0 ? 3_600 : 3_599 }),
          (t) => ({ ...t, disputeWindow: LIMITS.maxDisputeWindow + 1 }),
          (t) => ({ ...t, reserveBps: 0 }),
          (t) => ({ ...t, dustPartyIndex: t.parties.length }),
        ];
        const termsArb = fc.tuple(validArb, fc.nat({ max: mutations.length - 1 })).map(([t, m]) => mutations[m]!(t));
        let accepted = 0;
        await fc.assert(
          fc.asyncProperty(termsArb, async (terms) => {
            let sdkRule: string | undefined;
            try {
              validateTerms(terms);
            } catch (error) {
              expect(error).to.be.instanceOf(TermsValidationError);
              sdkRule = (error as TermsValidationError).rule;
            }
            let chainRule: string | undefined;
            try {
              await publicClient.simulateContract({ address: registry, abi: agreementRegistryAbi, functionName: "propose", args: [terms], account: address(1) });
            } catch (error) {
              const reverted = toConcordError(error);
              expect(reverted).to.be.instanceOf(ContractRevertError);
              chainRule = (reverted as ContractRevertError).errorName;
            }
            if (chainRule === undefined) accepted += 1;
            // A nested party the SDK cannot check without the chain (agreement 5 does not exist).
            if (sdkRule === undefined && chainRule === "RegistryNestedAgreementInvalid") return;
            expect(sdkRule, JSON.stringify(terms, (_, v) => (typeof v === "bigint" ? v.toString() : v))).to.equal(chainRule);
          }),
          { numRuns: 300 },
        );
        expect(accepted, "some generated terms should be valid").to.be.greaterThan(25);
        expect(accepted, "some generated terms should be invalid").to.be.lessThan(250);
      });
    });
  });

  describe("makeOrderRef", function () {
    it("is keccak256 of the domain-tagged encoding of order id and salt, and changes with either", function () {
      fc.assert(
        fc.property(fc.string({ minLength: 1 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (orderId, bytes) => {
          const salt = toHex(bytes);
          const ref = makeOrderRef({ orderId, salt });
          expect(ref).to.equal(
            keccak256(encodeAbiParameters([{ type: "string" }, { type: "string" }, { type: "bytes32" }], [ORDER_REF_DOMAIN, orderId, salt])),
          );
          // Domain separation: not the bare hash of (orderId, salt).
          expect(ref).to.not.equal(keccak256(encodeAbiParameters([{ type: "string" }, { type: "bytes32" }], [orderId, salt])));
          expect(makeOrderRef({ orderId: `${orderId}.`, salt })).to.not.equal(ref);
        }),
      );
      const salt = randomSalt();
      expect(makeOrderRef({ orderId: "BKG-1", salt })).to.not.equal(makeOrderRef({ orderId: "BKG-1", salt: randomSalt() }));
      expect(() => makeOrderRef({ orderId: "BKG-1", salt: "0x1234" })).to.throw(InvalidInputError, 'salt "0x1234" is not 32 bytes of hex');
      expect(() => makeOrderRef({ orderId: "", salt })).to.throw(InvalidInputError, "order id is empty");
    });

    it("with a key, derives the salt by HMAC-SHA256 of the domain tag and the order id: the same order always has the same reference", function () {
      fc.assert(
        fc.property(fc.string({ minLength: 1 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (orderId, keyBytes) => {
          const key = toHex(keyBytes);
          // The oracle: noble's HMAC, not the SDK's node:crypto one.
          const salt = toHex(hmac(sha256, keyBytes, new TextEncoder().encode(`${ORDER_SALT_DOMAIN}\0${orderId}`)));
          expect(orderSalt({ orderId, key })).to.equal(salt);
          expect(makeOrderRef({ orderId, key })).to.equal(makeOrderRef({ orderId, salt }));
          expect(makeOrderRef({ orderId, key })).to.equal(makeOrderRef({ orderId, key }));
          expect(makeOrderRef({ orderId: `${orderId}.`, key })).to.not.equal(makeOrderRef({ orderId, key }));
        }),
      );
      expect(makeOrderRef({ orderId: "BKG-1", key: randomSalt() })).to.not.equal(makeOrderRef({ orderId: "BKG-1", key: randomSalt() }));
      expect(() => makeOrderRef({ orderId: "BKG-1", key: "0x12" })).to.throw(InvalidInputError, "order key is not 32 bytes of hex");
    });
  });

  describe("deployment addresses", function () {
    let root: string;
    before(function () {
      root = fs.mkdtempSync(path.join(os.tmpdir(), "concord-sdk-"));
      const dir = path.join(root, "deploy", "deployments", "chain-4242");
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(
        path.join(dir, "deployed_addresses.json"),
        JSON.stringify({ [IGNITION_KEYS.registry]: address(100).toLowerCase(), [IGNITION_KEYS.ledger]: address(101).toLowerCase() }),
      );
    });
    after(function () {
      fs.rmSync(root, { recursive: true, force: true });
    });

    it("are read from deploy/deployments/chain-<id>/deployed_addresses.json (checksummed) or refused by name", async function () {
      expect(loadDeployment({ chainId: 4242, root })).to.deep.equal({ registry: address(100), ledger: address(101) });
      expect(() => loadDeployment({ chainId: 4243, root })).to.throw(DeploymentNotFoundError, "no Concord deployment recorded for chain 4243");
      const publicClient = createPublicClient({ transport: hardhatTransport(hre.network.provider) }) as PublicClient;
      const client = await createConcordClient({ publicClient, chainId: 4242, deploymentsRoot: root });
      expect(client.context.addresses).to.deep.equal({ registry: address(100), ledger: address(101) });
      const explicit = await createConcordClient({ publicClient, addresses: { registry: address(5), ledger: address(6) } });
      expect(explicit.context).to.include({ chainId: 31337 });
      expect(explicit.context.addresses).to.deep.equal({ registry: address(5), ledger: address(6) });
    });
  });

  describe("RPC failures", function () {
    it("are RpcErrors, never ContractRevertErrors, for reads, writes and client creation", async function () {
      const port = await freePort(); // closed again: nothing listens there
      const transport = http(`http://127.0.0.1:${port}`, { retryCount: 0 });
      const publicClient = createPublicClient({ transport }) as PublicClient;
      const account = mnemonicToAccount("test test test test test test test test test test test junk");
      const context: ConcordContext = {
        publicClient,
        walletClient: createWalletClient({ account, transport }),
        addresses: { registry: address(1), ledger: address(2) },
        chainId: 31337,
      };
      const attempts: Array<[string, () => Promise<unknown>]> = [
        ["getAgreement", () => getAgreement(context, { agreementId: 1n })],
        ["proposeAgreement", () => proposeAgreement(context, { terms: buildTerms({ parties: [{ account: address(3), shareBps: 10_000 }] }) })],
        ["createConcordContext", () => createConcordContext({ publicClient })],
      ];
      for (const [name, attempt] of attempts) {
        try {
          await attempt();
          expect.fail(`${name} should fail`);
        } catch (error) {
          expect(error, name).to.be.instanceOf(RpcError);
          expect(error, name).to.not.be.instanceOf(ContractRevertError);
          expect((error as RpcError).shortMessage, name).to.match(/RPC request failed/);
        }
      }
    });
  });

  it("keeps AgreementStatus equal to the contract enum", function () {
    expect(AgreementStatus).to.deep.equal({ None: 0, Proposed: 1, Active: 2, Terminated: 3 });
  });
});
