import { CreditExhaustedError, NO_PAYER, spendFor } from '@konbini/protocol'
import type { MetaContext } from './context.ts'
import type { StoredReport } from './epochs.ts'

/** Who pays a download, and in which epoch its receipts count. */
export interface Payment {
  payer: string
  epoch: number
}

/**
 * Picks who pays a download (docs/PROTOCOL.md, "Who pays"): nobody without a chain, for the
 * meta nodes' own archives, and for a donor's cache fill; else the downloader while it has
 * credit left, else the wallet that granted the downloader's key, else the file's owner while it has credit and a spend cap for others' downloads.
 * With neither: `CreditExhaustedError` (only the public gateway path remains).
 */
export async function choosePayment(ctx: MetaContext, { consumer, owner }: { consumer: string; owner: string }): Promise<Payment> {
  if (ctx.epochs === undefined) return { payer: NO_PAYER, epoch: 0 }
  if (owner.toLowerCase() === ctx.issuer.address.toLowerCase()) return { payer: NO_PAYER, epoch: 0 }
  // independent reads (the database, the chain): at once, not one after another; a light
  // operator's cache fill does not wait for (or fail with) the chain
  const ownCredit = usableCredit(ctx, consumer)
  ownCredit.catch(() => {})
  const [lightOperator, current] = await Promise.all([ctx.store.isLightOperator(consumer), ctx.epochs.current()])
  if (lightOperator) return { payer: NO_PAYER, epoch: 0 }
  if ((await ownCredit) > 0n) return { payer: consumer.toLowerCase(), epoch: current.epoch }
  // a session key a wallet granted spends the wallet's credit
  const [granted] = await ctx.pot.grantsOf([consumer], current.endsAt)
  if (granted !== undefined && (await usableCredit(ctx, granted.grant.wallet)) > 0n) return { payer: granted.grant.wallet.toLowerCase(), epoch: current.epoch }
  if (owner.toLowerCase() !== consumer.toLowerCase() && (await usableCredit(ctx, owner)) > 0n && (await ctx.epochs.spendCap(owner)) > 0n)
    return { payer: owner.toLowerCase(), epoch: current.epoch }
  throw new CreditExhaustedError({ account: consumer })
}

/** Credit `account` can still spend: deposited less withdrawn, requested, settled and pending spends. */
export async function usableCredit(ctx: MetaContext, account: string): Promise<bigint> {
  if (ctx.epochs === undefined) return 0n
  const { epochs, pot } = ctx
  // the chain's figures and the meta node's own (the last report, then what is pending since): at once
  const [c, { last, pendingBytes }] = await Promise.all([
    epochs.credit(account),
    pot.lastReported().then(async (last) => ({ last, pendingBytes: await pot.pendingBytesOf(account, (last?.epoch ?? 0) + 1) })),
  ])
  const report: StoredReport | undefined = last?.report ? JSON.parse(last.report) : undefined
  const settled = BigInt(report?.spends.find(([a]) => a === account.toLowerCase())?.[1] ?? '0')
  const pending = spendFor(BigInt(pendingBytes))
  const left = c.deposited - c.withdrawn - c.pending - settled - pending
  return left > 0n ? left : 0n
}

/**
 * Who pays an upload (every replica's received bytes): nobody without a chain or for the meta
 * node's own archives; else the owner while it has credit, else the wallet that granted the
 * owner's key. With neither: `CreditExhaustedError`.
 */
export async function chooseUploadPayment(ctx: MetaContext, owner: string): Promise<Payment> {
  if (ctx.epochs === undefined || owner.toLowerCase() === ctx.issuer.address.toLowerCase()) return { payer: NO_PAYER, epoch: 0 }
  const current = await ctx.epochs.current()
  if ((await usableCredit(ctx, owner)) > 0n) return { payer: owner.toLowerCase(), epoch: current.epoch }
  const [granted] = await ctx.pot.grantsOf([owner], current.endsAt)
  if (granted !== undefined && (await usableCredit(ctx, granted.grant.wallet)) > 0n) return { payer: granted.grant.wallet.toLowerCase(), epoch: current.epoch }
  throw new CreditExhaustedError({ account: owner })
}
