'use client'

import { Badge, type BadgeTone, Card, type Column, Notice, Stat, Table } from '@konbini/ui'
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { useMemo } from 'react'
import type { Address } from 'viem'
import { useReadContract } from 'wagmi'
import { createMetaClient } from '../../lib/meta-client.ts'
import { errorSentence } from '../../lib/shown-error.ts'
import { claimableOf, type EpochRow, type EpochStatus, epochRows, formatKbt } from '../../lib/wallet/rewards.ts'
import type { WalletChain } from '../../lib/wallet/wallet-config.ts'
import { ClaimPanel } from './claim-panel.tsx'

/** How often the page re-reads the meta node and the chain. */
const REFRESH_MS = 3000

const statusTone: Record<EpochStatus, BadgeTone> = { claimed: 'gray', claimable: 'green', pending: 'amber' }

const columns: readonly Column<EpochRow>[] = [
  { header: 'Epoch', cell: (r) => (r.epoch === undefined ? 'not settled yet' : r.epoch) },
  { header: 'Earned', align: 'right', cell: (r) => formatKbt(r.earned) },
  { header: 'Status', cell: (r) => <Badge tone={statusTone[r.status]}>{r.status}</Badge> },
]

/**
 * A connected account's rewards: pending (not settled), claimable (settled on chain, not claimed),
 * claimed, and per epoch; the meta node gives the amounts and proof, the chain what is claimed.
 */
export function RewardsView({ account, metaUrls, chain }: { account: Address; metaUrls: string[]; chain: WalletChain }) {
  const meta = useMemo(() => createMetaClient({ urls: metaUrls, timeoutMs: 5000 }), [metaUrls])
  const queryClient = useQueryClient()
  const rewards = useQuery({ queryKey: ['konbini-rewards', metaUrls, account], queryFn: () => meta.rewards(account), refetchInterval: REFRESH_MS })
  const claimed = useReadContract({
    address: chain.contracts.settlement,
    abi: chain.abi.settlement,
    functionName: 'claimed',
    args: [account],
    chainId: chain.chainId,
    query: { refetchInterval: REFRESH_MS },
  })
  const balance = useReadContract({
    address: chain.contracts.token,
    abi: chain.abi.token,
    functionName: 'balanceOf',
    args: [account],
    chainId: chain.chainId,
    query: { refetchInterval: REFRESH_MS },
  })

  if (rewards.error) {
    return (
      <Notice tone="error" title="The meta node did not give the rewards">
        <span data-testid="rewards-error">{errorSentence(rewards.error)}</span>
      </Notice>
    )
  }
  if (claimed.error) {
    return (
      <Notice tone="error" title="The chain did not answer">
        <span data-testid="rewards-error">{errorSentence(claimed.error, 'The settlement contract could not be read.')}</span>
      </Notice>
    )
  }
  if (rewards.data === undefined || claimed.data === undefined) return <p className="text-sm text-zinc-500">Reading the rewards…</p>

  const cumulative = BigInt(rewards.data.cumulative)
  const claimable = claimableOf(cumulative, claimed.data)
  const rows = epochRows(rewards.data, claimed.data)
  const refresh = () => {
    void queryClient.invalidateQueries()
  }
  return (
    <>
      <Card title="Earnings" meta={rewards.data.epoch > 0 ? `settled through epoch ${rewards.data.epoch}` : 'no epoch settled yet'}>
        <div className="flex flex-col gap-4" data-testid="rewards-view" data-account={account}>
          <dl className="grid gap-3 sm:grid-cols-4">
            <Stat label="Pending" value={rewards.data.pending} data-testid="rewards-pending" hint="served, not settled on chain yet">
              {formatKbt(rewards.data.pending)}
            </Stat>
            <Stat label="Claimable" value={String(claimable)} data-testid="rewards-claimable" hint="settled, not claimed">
              {formatKbt(claimable)}
            </Stat>
            <Stat label="Claimed" value={String(claimed.data)} data-testid="rewards-claimed" hint="paid to this wallet">
              {formatKbt(claimed.data)}
            </Stat>
            <Stat label="Wallet balance" value={balance.data === undefined ? undefined : String(balance.data)} data-testid="rewards-balance">
              {balance.data === undefined ? '—' : formatKbt(balance.data)}
            </Stat>
          </dl>
          <Table
            caption="Earnings per epoch"
            columns={columns}
            rows={rows}
            rowKey={(r) => String(r.epoch ?? 'pending')}
            rowAttributes={(r) => ({
              'data-testid': 'rewards-epoch-row',
              'data-epoch': String(r.epoch ?? ''),
              'data-status': r.status,
              'data-earned': String(r.earned),
            })}
            empty={<p className="text-sm text-zinc-500">Nothing earned yet: rewards come from traffic this wallet&apos;s nodes or donor tabs served.</p>}
          />
        </div>
      </Card>
      <Card title="Claim">
        <ClaimPanel account={account} chain={chain} rewards={rewards.data} claimable={claimable} onDone={refresh} />
      </Card>
    </>
  )
}
