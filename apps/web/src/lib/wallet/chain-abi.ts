import type { konbiniTokenAbi, settlementAbi } from '@konbini/contracts'

/**
 * The parts of the contracts' ABIs the portal's pages call: `Settlement.claim`, `claimed` and
 * `emissionPerEpoch` with the settlement's errors (a revert is decoded to its name), and the
 * token's `balanceOf`. The server picks them from `@konbini/contracts` and hands them to the page
 * as props: the package also holds bytecode and Node-only code that a page must not load.
 */
export type SettlementCallsAbi = readonly Extract<(typeof settlementAbi)[number], { name: 'claim' | 'claimed' | 'emissionPerEpoch' } | { type: 'error' }>[]
export type TokenBalanceAbi = readonly Extract<(typeof konbiniTokenAbi)[number], { name: 'balanceOf' | 'decimals' | 'symbol' }>[]

export interface ChainAbis {
  settlement: SettlementCallsAbi
  token: TokenBalanceAbi
}
