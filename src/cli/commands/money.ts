import { Command } from "commander";
import { zeroAddress, type Address } from "viem";
import {
  distribute,
  getAgreement,
  getBalance,
  getRiskCounters,
  getSettlementRecord,
  makeOrderRef,
  quoteSettlement,
  randomSalt,
  refund,
  releaseReserve,
  settle,
  settleWithPermit,
  withdraw,
} from "../../sdk";
import { estimateAgreementRisk, recommendReserve } from "../../negotiation";
import { contextFor, signerAddress, tokenInfo } from "../context";
import { UsageError } from "../errors";
import { emit, formatUnits, table } from "../output";
import { parseAddress, parseAmount, parseBytes32, parseId } from "../parse";
import { examples, optionsOf } from "./shared";

const tokenOf = (token?: string): Address => (token ? parseAddress(token, "--token") : zeroAddress);

export function moneyCommands(): Command[] {
  const settleCmd = examples(
    new Command("settle")
      .argument("<agreementId>")
      .description("pay for an order once: referral fee, reserve and the parties' shares are split on chain")
      .requiredOption("--amount <amount>", "gross amount in token units (e.g. 1.5)")
      .option("--token <address>", "an ERC-20 token (default: ETH)")
      .option("--referrer <address>", "the channel that brought the customer")
      .requiredOption("--order-id <id>", "your order id (hashed with the salt; never put personal data in it)")
      .option("--salt <bytes32>", "the order's salt (default: random; printed so you can keep it)")
      .option("--permit", "pay an EIP-2612 token with a permit instead of an approval")
      .option("--approve", "approve the ledger for the amount first if the allowance is short"),
    [
      "concord settle 1 --account 4 --amount 1.5 --referrer 0xTravelSite --order-id BKG-1001",
      "concord settle 1 --account 5 --amount 250 --token 0xUSD --permit --order-id BKG-1002",
    ],
  ).action(async (id: string, _o, command: Command) => {
    const o = optionsOf<{ amount: string; token?: string; referrer?: string; orderId: string; salt?: string; permit?: boolean; approve?: boolean }>(command);
    const agreementId = parseId(id, "agreement id");
    const token = tokenOf(o.token);
    const referrer = o.referrer ? parseAddress(o.referrer, "--referrer") : undefined;
    const salt = o.salt ? parseBytes32(o.salt, "--salt") : randomSalt();
    const orderRef = makeOrderRef({ orderId: o.orderId, salt });
    const context = await contextFor(o, { signer: true });
    const { decimals, symbol } = await tokenInfo(context, token);
    const gross = parseAmount(o.amount, decimals, "--amount");
    const payer = signerAddress(context);
    if (token === zeroAddress) {
      const funds = await context.publicClient.getBalance({ address: payer });
      if (funds < gross) throw new UsageError(`${payer} has ${formatUnits(funds, 18)} ETH; the settlement needs ${o.amount} ETH plus gas`);
    }
    // Fails here, without a transaction, when the agreement is not active or the referrer not allowed.
    await quoteSettlement(context, { agreementId, gross, referrer, payer });
    const result = o.permit
      ? await settleWithPermit(context, { agreementId, token, gross, referrer, orderRef })
      : await settle(context, { agreementId, token, gross, referrer, orderRef, approve: o.approve });
    const s = result.settled;
    emit(o, { ...s, salt, transactionHash: result.hash }, () =>
      [
        `settled ${formatUnits(s.gross, decimals)} ${symbol} for agreement ${id} (version ${s.version}), order reference ${s.orderRef}`,
        `keep the salt with the order: ${salt}`,
        `referral fee ${formatUnits(s.referralFee, decimals)} ${symbol}${s.referralFee ? ` to ${s.referrer}` : ""}; reserve ${formatUnits(s.reserve, decimals)} ${symbol}${s.reserve ? ` until ${new Date(s.releaseAt * 1000).toISOString()}` : ""}`,
        `tx ${result.hash}`,
      ].join("\n"),
    );
  });

  const quoteCmd = examples(
    new Command("quote")
      .argument("<agreementId>")
      .description("preview the exact split of a payment (no transaction)")
      .requiredOption("--amount <amount>", "gross amount in token units")
      .option("--token <address>", "an ERC-20 token (default: ETH)")
      .option("--referrer <address>", "the referrer, if any"),
    ["concord quote 1 --amount 1.5 --referrer 0xTravelSite"],
  ).action(async (id: string, _o, command: Command) => {
    const o = optionsOf<{ amount: string; token?: string; referrer?: string }>(command);
    const context = await contextFor(o, { signer: false });
    const token = tokenOf(o.token);
    const { decimals, symbol } = await tokenInfo(context, token);
    const quote = await quoteSettlement(context, {
      agreementId: parseId(id, "agreement id"),
      gross: parseAmount(o.amount, decimals, "--amount"),
      referrer: o.referrer ? parseAddress(o.referrer, "--referrer") : undefined,
    });
    const f = (x: bigint) => `${formatUnits(x, decimals)} ${symbol}`;
    emit(o, quote, () =>
      [
        table([
          ...(quote.referralFee ? [{ to: `referrer ${quote.referrer}`, amount: f(quote.referralFee) }] : []),
          { to: "reserve (held)", amount: f(quote.reserve) },
          ...quote.parties.map((p) => ({ to: p.agreementId ? `agreement ${p.agreementId}` : p.account, amount: f(p.credit) })),
        ]),
        `total ${f(quote.gross)}`,
      ].join("\n"),
    );
  });

  const balanceCmd = examples(
    new Command("balance")
      .argument("[address]", "the account (default: yours)")
      .description("withdrawable balance and what is still to claim from agreement pools")
      .option("--token <address>", "an ERC-20 token (default: ETH)"),
    ["concord balance 0xHotel", "concord balance --account 1 --token 0xUSD --json"],
  ).action(async (address: string | undefined, _o, command: Command) => {
    const o = optionsOf<{ token?: string }>(command);
    const context = await contextFor(o, { signer: false });
    const account = address ? parseAddress(address, "address") : context.account ? signerAddress(context) : undefined;
    if (!account) throw new UsageError("give an address, or --account / --keystore / CONCORD_PRIVATE_KEY");
    const token = tokenOf(o.token);
    const { decimals, symbol } = await tokenInfo(context, token);
    const b = await getBalance(context, { account, token });
    emit(o, { account: b.account, token: b.token, balance: b.balance, claimable: b.claimable, shares: b.shares.map(({ terms: _t, ...s }) => s) }, () =>
      [
        `${account}: ${formatUnits(b.balance, decimals)} ${symbol} withdrawable, ${formatUnits(b.claimable, decimals)} ${symbol} to claim`,
        ...(b.shares.length ? [table(b.shares.map((s) => ({ agreement: s.agreementId, version: s.version, party: s.partyIndex, claimable: formatUnits(s.amount, decimals) })))] : []),
      ].join("\n"),
    );
  });

  const withdrawCmd = examples(
    new Command("withdraw")
      .description("claim your shares from agreement pools, then withdraw your balance (pull payment)")
      .option("--token <address>", "an ERC-20 token (default: ETH)")
      .option("--to <address>", "send to this address instead of your own")
      .option("--amount <amount>", "amount in token units (default: everything)"),
    ["concord withdraw --account 1", "concord withdraw --keystore hotel.json --password-file pw --to 0xTreasury --amount 0.5"],
  ).action(async (_o, command: Command) => {
    const o = optionsOf<{ token?: string; to?: string; amount?: string }>(command);
    const context = await contextFor(o, { signer: true });
    const token = tokenOf(o.token);
    const { decimals, symbol } = await tokenInfo(context, token);
    const to = o.to ? parseAddress(o.to, "--to") : undefined;
    const amount = o.amount ? parseAmount(o.amount, decimals, "--amount") : undefined;
    const owner = signerAddress(context);
    const before = await getBalance(context, { account: owner, token });
    const available = before.balance + before.claimable;
    if (available === 0n) throw new UsageError(`${owner} has nothing to withdraw in ${symbol}`);
    if (amount !== undefined && amount > available) {
      throw new UsageError(`${owner} has ${formatUnits(available, decimals)} ${symbol} (withdrawable and to claim); cannot withdraw ${o.amount}`);
    }
    for (const s of before.shares) {
      await distribute(context, { agreementId: s.agreementId, version: s.version, token, terms: s.terms, partyIndex: s.partyIndex });
    }
    const result = await withdraw(context, { token, to, amount });
    emit(o, { account: owner, token, to: result.to, amount: result.amount, claimed: before.claimable, transactionHash: result.hash }, () =>
      `${owner} withdrew ${formatUnits(result.amount, decimals)} ${symbol} to ${result.to}${before.claimable ? ` (claimed ${formatUnits(before.claimable, decimals)} first)` : ""}`,
    );
  });

  const reserve = new Command("reserve").description("reserves held against refunds");
  examples(
    reserve.command("release").argument("<orderRef>").description("release a reserve after its dispute window (anyone may)"),
    ["concord reserve release 0x5b1c… --account 0"],
  ).action(async (ref: string, _o, command: Command) => {
    const o = optionsOf(command);
    const orderRef = parseBytes32(ref, "order reference");
    const context = await contextFor(o, { signer: true });
    const result = await releaseReserve(context, { orderRef });
    emit(o, { orderRef, amount: result.amount, transactionHash: result.hash }, () => `released the reserve of ${orderRef} (${result.amount} base units) to the parties`);
  });
  examples(
    reserve.command("show").argument("<orderRef>").description("a settlement's reserve record and whether it is still held"),
    ["concord reserve show 0x5b1c…"],
  ).action(async (ref: string, _o, command: Command) => {
    const o = optionsOf(command);
    const context = await contextFor(o, { signer: false });
    const found = await getSettlementRecord(context, { orderRef: parseBytes32(ref, "order reference") });
    emit(o, found, () =>
      `${ref}: ${found.state}; reserve ${found.record.reserve} base units of ${found.record.token === zeroAddress ? "ETH" : found.record.token}, releasable from ${new Date(found.record.releaseAt * 1000).toISOString()}`,
    );
  });

  const refundCmd = examples(
    new Command("refund")
      .argument("<orderRef>")
      .description("refund the payer from a settlement's reserve, inside the dispute window (refund authority only)")
      .requiredOption("--amount <amount>", "amount in token units"),
    ["concord refund 0x5b1c… --account 1 --amount 0.05"],
  ).action(async (ref: string, _o, command: Command) => {
    const o = optionsOf<{ amount: string }>(command);
    const orderRef = parseBytes32(ref, "order reference");
    const context = await contextFor(o, { signer: true });
    const found = await getSettlementRecord(context, { orderRef });
    if (found.state !== "held") throw new UsageError(`order reference ${orderRef} holds no reserve (released, refunded or none)`);
    const { decimals, symbol } = await tokenInfo(context, found.record.token);
    const amount = parseAmount(o.amount, decimals, "--amount");
    const result = await refund(context, { orderRef, amount, record: found.record });
    emit(o, { orderRef, amount, remainingReserve: result.remainingReserve, payer: found.record.payer, transactionHash: result.hash }, () =>
      `refunded ${o.amount} ${symbol} to ${found.record.payer}'s balance; ${formatUnits(result.remainingReserve, decimals)} ${symbol} still held`,
    );
  });

  const riskCmd = examples(
    new Command("risk")
      .argument("<agreementId>")
      .description("an agreement's settlement and refund history, its estimated refund rate and the reserve it suggests")
      .option("--token <address>", "an ERC-20 token (default: ETH)"),
    ["concord risk 1", "concord risk 1 --json"],
  ).action(async (id: string, _o, command: Command) => {
    const o = optionsOf<{ token?: string }>(command);
    const context = await contextFor(o, { signer: false });
    const agreementId = parseId(id, "agreement id");
    const info = await getAgreement(context, { agreementId });
    const counters = await getRiskCounters(context, { agreementId, token: tokenOf(o.token) });
    const estimate = estimateAgreementRisk(counters);
    const recommendation = recommendReserve(estimate);
    emit(o, { agreementId, counters, estimate, recommendation, currentReserveBps: info.reserveBps }, () =>
      [
        `agreement ${id}: ${counters.settledCount} settlements (${counters.settledVolume} base units), ${counters.refundCount} refunds (${counters.refundedVolume})`,
        `estimated refund rate ${(estimate.refundRate * 100).toFixed(2)}% (${estimate.interval.level * 100}% interval ${(estimate.interval.lower * 100).toFixed(2)}%..${(estimate.interval.upper * 100).toFixed(2)}%)`,
        `recommended reserve ${recommendation.reserveBps} bps (${recommendation.basis}); the active terms hold ${info.reserveBps} bps`,
      ].join("\n"),
    );
  });

  return [settleCmd, quoteCmd, balanceCmd, withdrawCmd, reserve, refundCmd, riskCmd];
}
