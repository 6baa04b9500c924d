/**
 * The Merkle tree of a version's parties, the twin of `contracts/libraries/PartyTree.sol`: the
 * registry stores its root at activation (`versionPayout(...).partiesRoot`), and `claim` /
 * `sweepRemainder` check one party against it with a proof. `distribute`, which pays every party,
 * takes the parties packed one word each ({@link packParties}) and checks the whole list against
 * the hash the registry records beside the root (`distribution(...).partiesListHash`).
 *
 * Leaf i = keccak256(abi.encode(uint256 i, address account, uint64 agreementId, uint32 version,
 * uint16 shareBps)); each level hashes pairs (2j, 2j+1) with OpenZeppelin's commutative keccak
 * (the smaller word first) and carries an odd last node up unchanged; one leaf is its own root.
 */
import { concat, encodePacked, encodeAbiParameters, keccak256, type Hex } from "viem";
import { InvalidInputError } from "./errors/base";
import type { Party } from "./terms";

const LEAF_PARAMETERS = [
  { type: "uint256" },
  { type: "address" },
  { type: "uint64" },
  { type: "uint32" },
  { type: "uint16" },
] as const;

/** The leaf of party `index`. */
export function partyLeaf(index: number, party: Party): Hex {
  return keccak256(
    encodeAbiParameters(LEAF_PARAMETERS, [BigInt(index), party.account, party.agreementId, party.version, party.shareBps]),
  );
}

const NESTED = 1n << 255n;

/**
 * A party in one word, as `distribute` takes it (`PartyTree.pack`): the share in bits 160-175
 * above the account, or for a nested party bit 255 set, the share in bits 160-175 and
 * (agreementId << 32 | version) below.
 */
export function packParty(party: Party): bigint {
  const share = BigInt(party.shareBps) << 160n;
  if (party.agreementId === 0n) return share | BigInt(party.account);
  return NESTED | share | (party.agreementId << 32n) | BigInt(party.version);
}

/**
 * The parties of a version packed for `distribute`, in the terms' order.
 *
 * @example
 * // ledger.distribute(agreementId, version, token, packParties(terms.parties))
 */
export function packParties(parties: readonly Party[]): bigint[] {
  return parties.map(packParty);
}

/** keccak256 of the packed parties: what the registry records at activation (`distribution(...).partiesListHash`). */
export function partiesListHash(parties: readonly Party[]): Hex {
  const packed = packParties(parties);
  return keccak256(encodePacked(packed.map(() => "uint256"), packed));
}

/** OpenZeppelin's `Hashes.commutativeKeccak256`: keccak256 of the two words, the smaller first. */
export function commutativeKeccak256(a: Hex, b: Hex): Hex {
  return BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

function nextLevel(level: readonly Hex[]): Hex[] {
  const next: Hex[] = [];
  for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? commutativeKeccak256(level[i]!, level[i + 1]!) : level[i]!);
  return next;
}

function leaves(parties: readonly Party[]): Hex[] {
  if (parties.length === 0) throw new InvalidInputError("a party tree needs at least one party");
  return parties.map((party, i) => partyLeaf(i, party));
}

/**
 * The root of the tree of `parties` (in the terms' order): what the registry stores as
 * `partiesRoot` when the version is activated.
 *
 * @example
 * import { getVersion, partiesRoot } from "./src/sdk"
 * const { terms } = await getVersion(context, { agreementId: 1n, version: 1 })
 * partiesRoot(terms.parties) // === (await registry.read.versionPayout([1n, 1])).partiesRoot
 */
export function partiesRoot(parties: readonly Party[]): Hex {
  let level = leaves(parties);
  while (level.length > 1) level = nextLevel(level);
  return level[0]!;
}

/**
 * The proof that `parties[index]` is party `index` of the tree, bottom level first, as the
 * ledger's `claim` and `sweepRemainder` take it (OpenZeppelin's `MerkleProof`). A level where the
 * node is an odd last one adds nothing: the node is carried up unchanged.
 *
 * @example
 * const proof = partyProof(terms.parties, 2)
 * // ledger.claim(agreementId, version, token, 2, terms.parties[2], proof)
 */
export function partyProof(parties: readonly Party[], index: number): Hex[] {
  if (!Number.isInteger(index) || index < 0 || index >= parties.length) {
    throw new InvalidInputError(`party index ${index} is out of range for ${parties.length} parties`);
  }
  const proof: Hex[] = [];
  let level = leaves(parties);
  let position = index;
  while (level.length > 1) {
    const sibling = position ^ 1;
    if (sibling < level.length) proof.push(level[sibling]!);
    level = nextLevel(level);
    position >>= 1;
  }
  return proof;
}

/** Whether `proof` shows `party` as party `index` of the tree with root `root` (MerkleProof.verify). */
export function verifyPartyProof(root: Hex, index: number, party: Party, proof: readonly Hex[]): boolean {
  let node = partyLeaf(index, party);
  for (const sibling of proof) node = commutativeKeccak256(node, sibling);
  return node.toLowerCase() === root.toLowerCase();
}
