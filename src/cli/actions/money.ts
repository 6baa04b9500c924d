import type { Command } from "commander";
import { claim, getAgreement, getBalance, getRiskCounters, withdraw } from "../../sdk";
import { estimateAgreementRisk, recommendReserve } from "../../negotiation";
import { contextFor, signerAddress, tokenInfo } from "../context";
import { UsageError } from "../errors";
import { emitWrite } from "../receipt";
import { emit, formatUnits, table } from "../output";
import { parseAddress, parseAmount, parseId, tokenOf } from "../parse";
import { optionsOf } from "../options";

export async function balance(command: Command): Promise<void> {
  const [address] = command.processedArgs as [string | undefined];
  const o = optionsOf<{ token?: string }>(command);
  const context = await contextFor(o, { signer: false });
  const account = address ? parseAddress(address, "address") : context.account ? signerAddress(context) : undefined;
  if (!account) throw new UsageError("give an address, or --account / --keystore / CONCORD_PRIVATE_KEY");
  const token = tokenOf(o.token);
  const { decimals, symbol } = await tokenInfo(context, token);
  const b = await getBalance(context, { account, token });
  emit(o, b, () =>
    [
      `${account}: ${formatUnits(b.balance, decimals)} ${symbol} withdrawable, ${formatUnits(b.claimable, decimals)} ${symbol} to claim`,
      ...(b.shares.length ? [table(b.shares.map((s) => ({ agreement: s.agreementId, version: s.version, party: s.partyIndex, claimable: formatUnits(s.amount, decimals) })))] : []),
    ].join("\n"),
  );
}

export async function withdrawBalance(command: Command): Promise<void> {
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
  // Each share is claimed alone (a flat cost whatever the number of parties), then the balance is pulled.
  const claims = [];
  for (const s of before.shares) claims.push(await claim(context, { agreementId: s.agreementId, version: s.version, token, partyIndex: s.partyIndex }));
  const result = await withdraw(context, { token, to, amount });
  emitWrite(o, { signer: owner, sent: [...claims, result], data: { account: owner, token, to: result.to, amount: result.amount, claimed: before.claimable, unit: { symbol, decimals } }, human: () =>
    `${owner} withdrew ${formatUnits(result.amount, decimals)} ${symbol} to ${result.to}${before.claimable ? ` (claimed ${formatUnits(before.claimable, decimals)} first)` : ""}` });
}

export async function risk(command: Command): Promise<void> {
  const [id] = command.processedArgs as [string];
  const o = optionsOf<{ token?: string; wei?: boolean }>(command);
  const context = await contextFor(o, { signer: false });
  const agreementId = parseId(id, "agreement id");
  const info = await getAgreement(context, { agreementId });
  const token = tokenOf(o.token);
  const { decimals, symbol } = await tokenInfo(context, token);
  const counters = await getRiskCounters(context, { agreementId, token });
  const estimate = estimateAgreementRisk(counters);
  const recommendation = recommendReserve(estimate);
  const f = (amount: bigint) => (o.wei ? `${amount} base units` : `${formatUnits(amount, decimals)} ${symbol}`);
  emit(o, { agreementId, token, unit: { symbol, decimals }, counters, estimate, recommendation, currentReserveBps: info.reserveBps }, () =>
    [
      `agreement ${id}: ${counters.settledCount} settlements (${f(counters.settledVolume)}), ${counters.refundCount} refunds (${f(counters.refundedVolume)})`,
      `estimated refund rate by volume ${(estimate.refundRate * 100).toFixed(2)}% over ${estimate.evidence.toFixed(1)} observations (${estimate.interval.level * 100}% interval ${(estimate.interval.lower * 100).toFixed(2)}%..${(estimate.interval.upper * 100).toFixed(2)}%)`,
      `recommended reserve ${recommendation.reserveBps} bps (${recommendation.basis}); the active terms hold ${info.reserveBps} bps`,
    ].join("\n"),
  );
}
