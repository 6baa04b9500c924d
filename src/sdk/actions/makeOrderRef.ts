import { randomBytes } from "node:crypto";
import { encodeAbiParameters, isHex, keccak256, type Hex } from "viem";
import { InvalidInputError } from "../errors/base";

/** The domain tag of order references: a reference of another scheme can never collide with one of these. */
export const ORDER_REF_DOMAIN = "concord.order-ref.v1";

export type MakeOrderRefParameters = {
  /** The merchant's own order id; never put personal data in it. It stays off chain. */
  orderId: string;
  /** 32 random bytes kept with the order; without it nobody can link the reference to the order id. */
  salt: Hex;
};
export type MakeOrderRefReturnType = Hex;
export type MakeOrderRefErrorType = InvalidInputError;

/** 32 random bytes for {@link makeOrderRef}. */
export function randomSalt(): Hex {
  return `0x${randomBytes(32).toString("hex")}`;
}

/**
 * The order reference of a settlement: keccak256 of a domain-separated encoding of the order id
 * and a salt. Only the hash goes on chain.
 *
 * @param parameters - {@link MakeOrderRefParameters}
 * @returns The 32-byte order reference to pass to {@link settle}.
 *
 * @example
 * import { makeOrderRef, randomSalt } from "./src/sdk"
 * const salt = randomSalt()                       // store it with the order
 * const orderRef = makeOrderRef({ orderId: "BKG-1001", salt })
 */
export function makeOrderRef(parameters: MakeOrderRefParameters): MakeOrderRefReturnType {
  if (parameters.orderId.length === 0) throw new InvalidInputError("order id is empty");
  if (!isHex(parameters.salt) || parameters.salt.length !== 66) {
    throw new InvalidInputError(`salt "${parameters.salt}" is not 32 bytes of hex`);
  }
  return keccak256(
    encodeAbiParameters(
      [{ type: "string" }, { type: "string" }, { type: "bytes32" }],
      [ORDER_REF_DOMAIN, parameters.orderId, parameters.salt],
    ),
  );
}
