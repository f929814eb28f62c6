/**
 * Proof of Traffic's prices and reward formula (docs/PROTOCOL.md, "Proof of Traffic and who
 * pays"): pure integer math in wei, shared by the meta node that builds an epoch's report and
 * every co-signer that recomputes it.
 */

/** Bytes in a GiB: prices are per GiB. */
export const GIB = 2n ** 30n
/** What a GiB of counted traffic costs its payer (devnet value: 1 KBT, 18 decimals). */
export const PRICE_PER_GIB = 10n ** 18n
/** Share of the fee the serving account earns, in percent (the rest stays in the vault). */
export const PROVIDER_FEE_PERCENT = 80n
/** Emission an account earns is at most this percent of the fee its bytes paid: buying traffic from yourself never pays. */
export const EMISSION_CAP_PERCENT = 10n

/** What `bytes` of counted traffic cost their payer. */
export function spendFor(bytes: bigint, price = PRICE_PER_GIB): bigint {
  return (bytes * price) / GIB
}

/** Most bytes `credit` pays for. */
export function bytesFor(credit: bigint, price = PRICE_PER_GIB): bigint {
  return credit <= 0n ? 0n : (credit * GIB) / price
}

/**
 * What an account that served `served` of the epoch's `total` counted bytes earns: its fee share
 * plus its share of the epoch's `emission`, the emission capped at `EMISSION_CAP_PERCENT` of the fee.
 */
export function rewardFor(served: bigint, total: bigint, emission: bigint, price = PRICE_PER_GIB): bigint {
  if (served <= 0n || total <= 0n) return 0n
  const fee = (served * price * PROVIDER_FEE_PERCENT) / (100n * GIB)
  const share = (emission * served) / total
  const cap = (served * price * EMISSION_CAP_PERCENT) / (100n * GIB)
  return fee + (share < cap ? share : cap)
}
