import { createHmac, randomBytes } from "node:crypto";
import { encodeAbiParameters, isHex, keccak256, numberToHex, type Hex } from "viem";
import { InvalidInputError } from "../errors/base";

/** The domain tag of order references: a reference of another scheme can never collide with one of these. */
export const ORDER_REF_DOMAIN = "concord.order-ref.v1";

export type MakeOrderRefParameters =
  | {
      /** The merchant's own order id; never put personal data in it. It stays off chain. */
      orderId: string;
      /** 32 random bytes kept with the order; without it nobody can link the reference to the order id. */
      salt: Hex;
    }
  | {
      orderId: string;
      /**
       * A 32-byte secret key kept by the merchant (or payer): the salt is derived from it and the
       * order id ({@link orderSalt}), so the same order id always gives the same reference, and a
       * retry of a payment is refused by the ledger instead of charging twice.
       */
      key: Hex;
    };
export type MakeOrderRefReturnType = Hex;
export type MakeOrderRefErrorType = InvalidInputError;

/** The domain tag of numbered references ({@link makeOrderRefs}): their words never collide with {@link makeOrderRef}'s hashes by construction. */
export const ORDER_REF_WORD_DOMAIN = "concord.order-ref-word.v1";

/** References per bitmap word of the ledger: all but the lowest byte of a reference name its word. */
export const ORDER_REFS_PER_WORD = 256;

/** The domain tag of keyed salts ({@link orderSalt}). */
export const ORDER_SALT_DOMAIN = "concord.order-salt.v1";

export type OrderSaltParameters = { orderId: string; key: Hex };

/**
 * The salt of an order derived from a secret key: HMAC-SHA256 under the key of the domain tag and
 * the order id. Deterministic (a retry finds the same reference), and without the key nobody can
 * link a reference to an order id.
 *
 * @example
 * import { orderSalt, randomSalt } from "./src/sdk"
 * const key = randomSalt()                       // once, kept secret by the merchant
 * const salt = orderSalt({ orderId: "BKG-1001", key })
 */
export function orderSalt(parameters: OrderSaltParameters): Hex {
  if (parameters.orderId.length === 0) throw new InvalidInputError("order id is empty");
  if (!isHex(parameters.key) || parameters.key.length !== 66) throw new InvalidInputError("order key is not 32 bytes of hex");
  const mac = createHmac("sha256", Buffer.from(parameters.key.slice(2), "hex"));
  mac.update(`${ORDER_SALT_DOMAIN}\0${parameters.orderId}`, "utf8");
  return `0x${mac.digest("hex")}`;
}

/** 32 random bytes for {@link makeOrderRef} and {@link makeOrderRefs}. */
export function randomSalt(): Hex {
  return `0x${randomBytes(32).toString("hex")}`;
}

/**
 * The order reference of a settlement: keccak256 of a domain-separated encoding of the order id
 * and a salt. Only the hash goes on chain. With a `key` instead of a salt, the salt is derived
 * from the key and the order id ({@link orderSalt}): the same order always has the same
 * reference, so a retried payment is refused (an order reference settles once in its scope).
 *
 * @param parameters - {@link MakeOrderRefParameters}
 * @returns The 32-byte order reference to pass to {@link settle}.
 *
 * @example
 * import { makeOrderRef, randomSalt } from "./src/sdk"
 * const salt = randomSalt()                       // store it with the order
 * const orderRef = makeOrderRef({ orderId: "BKG-1001", salt })
 * const key = randomSalt()                        // or: one secret key for every order, kept by the merchant
 * const sameOnRetry = makeOrderRef({ orderId: "BKG-1001", key })
 */
export function makeOrderRef(parameters: MakeOrderRefParameters): MakeOrderRefReturnType {
  if (parameters.orderId.length === 0) throw new InvalidInputError("order id is empty");
  const salt = "key" in parameters ? orderSalt(parameters) : parameters.salt;
  checkSalt(salt);
  return keccak256(
    encodeAbiParameters(
      [{ type: "string" }, { type: "string" }, { type: "bytes32" }],
      [ORDER_REF_DOMAIN, parameters.orderId, salt],
    ),
  );
}

function checkSalt(salt: Hex): void {
  if (!isHex(salt) || salt.length !== 66) throw new InvalidInputError(`salt "${salt}" is not 32 bytes of hex`);
}

export type MakeOrderRefsParameters = {
  /** 32 random bytes kept by the merchant: without it nobody can tell which word a number falls in. */
  salt: Hex;
  /** The first order number (default 0). */
  start?: number;
  /** How many consecutive numbers. */
  count: number;
};
export type MakeOrderRefsReturnType = Hex[];

/**
 * The base of the bitmap word that holds order numbers `word * 256` to `word * 256 + 255`:
 * keccak256 of the domain tag, the salt and the word index, with the lowest byte cleared.
 */
export function orderRefWordBase(salt: Hex, word: bigint): Hex {
  checkSalt(salt);
  if (word < 0n || word >= 2n ** 248n) throw new InvalidInputError(`word index ${word} is out of range`);
  const hash = BigInt(keccak256(encodeAbiParameters([{ type: "string" }, { type: "bytes32" }, { type: "uint256" }], [ORDER_REF_WORD_DOMAIN, salt, word])));
  return numberToHex(hash & ~0xffn, { size: 32 });
}

/**
 * Numbered order references that share the ledger's bitmap words: order number `n` is the base
 * of word `n / 256` ({@link orderRefWordBase}) with `n % 256` in the lowest byte. A merchant that
 * numbers its orders (in one scope) then writes one fresh storage word per 256 settlements
 * instead of one per settlement. The references of one word differ only in their last byte, so
 * they are visibly related on chain; they still reveal no order data, and the word changes every
 * 256 orders.
 *
 * @param parameters - {@link MakeOrderRefsParameters}
 * @returns `count` references for the numbers `start` to `start + count - 1`.
 *
 * @example
 * import { makeOrderRefs, randomSalt } from "./src/sdk"
 * const salt = randomSalt()                                  // keep it with the merchant's order book
 * const refs = makeOrderRefs({ salt, start: 0, count: 100 }) // orders 0..99: one bitmap word
 * const next = makeOrderRefs({ salt, start: 100, count: 1 })[0]
 */
export function makeOrderRefs(parameters: MakeOrderRefsParameters): MakeOrderRefsReturnType {
  checkSalt(parameters.salt);
  const start = parameters.start ?? 0;
  if (!Number.isSafeInteger(start) || start < 0) throw new InvalidInputError(`first order number ${start} is not a whole number from 0`);
  if (!Number.isSafeInteger(parameters.count) || parameters.count <= 0) {
    throw new InvalidInputError(`count ${parameters.count} is not a whole number above 0`);
  }
  const refs: Hex[] = [];
  const bases = new Map<bigint, bigint>();
  for (let n = BigInt(start); n < BigInt(start) + BigInt(parameters.count); n += 1n) {
    const word = n >> 8n;
    let base = bases.get(word);
    if (base === undefined) {
      base = BigInt(orderRefWordBase(parameters.salt, word));
      bases.set(word, base);
    }
    const ref = base | (n & 0xffn);
    // A zero reference is refused by the ledger; a zero base is a 2^-248 event, named if it ever happens.
    if (ref === 0n) throw new InvalidInputError(`order number ${n} maps to the zero reference with this salt: use another salt`);
    refs.push(numberToHex(ref, { size: 32 }));
  }
  return refs;
}
