import { creditAbi, konbiniTokenAbi } from '@konbini/contracts'
import { BaseError } from '@konbini/protocol'
import { formatUnits, parseUnits } from 'viem'
import { openChain } from './chain-context.ts'
import type { GlobalFlags } from './context.ts'
import { print } from './output.ts'

/** The token's decimals (KBT, as ETH: 18). */
const DECIMALS = 18

export class InvalidAmountError extends BaseError {
  override name = 'InvalidAmountError' as const
  constructor({ value }: { value: string }) {
    super(`"${value}" is not an amount of KBT: give a positive number such as 25 or 0.5 (at most 18 decimals).`)
  }
}

export class InsufficientTokensError extends BaseError {
  override name = 'InsufficientTokensError' as const
  constructor({ have, want }: { have: bigint; want: bigint }) {
    super(`You hold ${formatUnits(have, DECIMALS)} KBT, less than the ${formatUnits(want, DECIMALS)} KBT asked.`)
  }
}

/** Parses a positive KBT amount ("25", "0.5") into the token's smallest unit. */
export function parseAmount(value: string): bigint {
  if (!/^\d+(\.\d{1,18})?$/.test(value)) throw new InvalidAmountError({ value })
  const amount = parseUnits(value, DECIMALS)
  if (amount <= 0n) throw new InvalidAmountError({ value })
  return amount
}

/** `konbini prepay <amount>`: deposits KBT as traffic credit (approve, then deposit). */
export async function prepayCommand(flags: GlobalFlags, value: string): Promise<void> {
  const amount = parseAmount(value)
  const c = await openChain(flags)
  const held = await c.pub.readContract({ address: c.contracts.token, abi: konbiniTokenAbi, functionName: 'balanceOf', args: [c.account.address] })
  if (held < amount) throw new InsufficientTokensError({ have: held, want: amount })
  const approve = await c.mined(
    await c.wallet.writeContract({
      address: c.contracts.token,
      abi: konbiniTokenAbi,
      functionName: 'approve',
      args: [c.contracts.credit, amount],
      chain: undefined,
    }),
  )
  const hash = await c.wallet.writeContract({ address: c.contracts.credit, abi: creditAbi, functionName: 'deposit', args: [amount], chain: undefined })
  const deposit = await c.mined(hash)
  print(
    flags.json,
    { account: c.account.address, amount: amount.toString(), txHash: hash, gasUsed: (approve.gasUsed + deposit.gasUsed).toString() },
    () => `Deposited ${formatUnits(amount, DECIMALS)} KBT as traffic credit for ${c.account.address} (tx ${hash}).`,
  )
}

/** `konbini balance`: the caller's tokens and traffic credit (amounts in the token's smallest unit in --json). */
export async function balanceCommand(flags: GlobalFlags): Promise<void> {
  const c = await openChain(flags)
  const credit = { address: c.contracts.credit, abi: creditAbi, args: [c.account.address] } as const
  const [tokens, deposited, withdrawn, spendCap, pending] = await Promise.all([
    c.pub.readContract({ address: c.contracts.token, abi: konbiniTokenAbi, functionName: 'balanceOf', args: [c.account.address] }),
    c.pub.readContract({ ...credit, functionName: 'deposited' }),
    c.pub.readContract({ ...credit, functionName: 'withdrawn' }),
    c.pub.readContract({ ...credit, functionName: 'spendCap' }),
    c.pub.readContract({ ...credit, functionName: 'pendingWithdrawal' }),
  ])
  const [pendingAmount, notBeforeEpoch] = pending
  const kbt = (n: bigint) => `${formatUnits(n, DECIMALS)} KBT`
  print(
    flags.json,
    {
      account: c.account.address,
      tokens: tokens.toString(),
      credit: {
        deposited: deposited.toString(),
        withdrawn: withdrawn.toString(),
        pendingWithdrawal: pendingAmount.toString(),
        withdrawableAfterEpoch: Number(notBeforeEpoch),
        spendCap: spendCap.toString(),
      },
    },
    () =>
      [
        `${c.account.address}`,
        `  tokens:  ${kbt(tokens)}`,
        `  credit:  ${kbt(deposited - withdrawn)} deposited and not withdrawn (what epochs have spent is settled on chain)`,
        ...(pendingAmount > 0n ? [`  pending withdrawal: ${kbt(pendingAmount)} after epoch ${notBeforeEpoch}`] : []),
      ].join('\n'),
  )
}
