'use client'

import { Card, Notice, Stat } from '@konbini/ui'
import { useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { useMemo } from 'react'
import type { Address } from 'viem'
import { createMetaClient } from '../../lib/meta-client.ts'
import { errorSentence } from '../../lib/shown-error.ts'
import { formatKbt } from '../../lib/wallet/rewards.ts'
import { useSessionGrant } from '../../lib/wallet/use-session-grant.ts'
import type { WalletChain } from '../../lib/wallet/wallet-config.ts'
import { AuthorizeButton } from '../wallet/authorize-button.tsx'
import { ConnectWallet } from '../wallet/connect-wallet.tsx'

/** How often the tab's pending rewards are re-read. */
const PENDING_REFRESH_MS = 3000

export interface EarnCardProps {
  metaUrls: string[]
  chain: WalletChain
  /** The chain id of Konbini's signatures (the meta node verifies the grant in this domain). */
  protocolChainId: number
  /** The running donor's peer id; undefined while this tab does not donate. */
  peerId: string | undefined
}

/**
 * "Earn for your wallet": the tab's donor key (its operator address, as the meta node lists it)
 * is authorized once by the connected wallet with an EIP-712 `SessionGrant`, sent to the meta
 * node and remembered per key; then the tab's pending rewards for that wallet, refreshed.
 */
export function EarnCard({ metaUrls, chain, protocolChainId, peerId }: EarnCardProps) {
  // the donor's operator key signs its heartbeats: the meta node lists it beside the peer id
  const metaForNodes = useMemo(() => createMetaClient({ urls: metaUrls, timeoutMs: 5000 }), [metaUrls])
  const operator = useQuery({
    queryKey: ['konbini-donor-operator', metaUrls, peerId],
    enabled: peerId !== undefined,
    queryFn: async () => ((await metaForNodes.nodes()).find((n) => n.peerId === peerId)?.operator as Address | undefined) ?? null,
    refetchInterval: (q) => (q.state.data ? false : 2000),
  })
  const sessionKey = operator.data ?? undefined
  const { wallet, grant, granted, authorize, meta } = useSessionGrant({ metaUrls, sessionKey, protocolChainId })
  const pending = useQuery({
    queryKey: ['konbini-rewards', metaUrls, wallet],
    enabled: granted,
    queryFn: () => meta.rewards(wallet as Address),
    refetchInterval: PENDING_REFRESH_MS,
  })

  return (
    <Card title="Earn for your wallet">
      <div className="flex flex-col gap-4" data-testid="earn-card" data-grant={grant.state} data-session-key={sessionKey ?? ''}>
        <p className="text-sm">
          Served traffic earns KBT once the network settles it on chain. Connect a wallet and authorize this tab once: the wallet signs a grant to this
          tab&apos;s donor key, and what the tab serves then earns for the wallet. See and claim it on the{' '}
          <Link href="/rewards" className="text-sky-700 underline-offset-4 hover:underline dark:text-sky-400">
            Rewards
          </Link>{' '}
          page.
        </p>
        <ConnectWallet devAccount={chain.devAccount} />
        {wallet !== undefined &&
          (peerId === undefined ? (
            <p className="text-sm text-zinc-600 dark:text-zinc-300" data-testid="earn-needs-donor">
              Turn donating on first: the tab&apos;s donor key is made when it starts, and that is the key the wallet authorizes.
            </p>
          ) : sessionKey === undefined ? (
            <p className="text-sm text-zinc-500">Waiting for the meta node to list this tab…</p>
          ) : granted && grant.state === 'granted' ? (
            <div className="flex flex-col gap-3">
              <p className="text-sm" data-testid="earn-granted" data-wallet={wallet}>
                This tab earns for <span className="font-mono text-xs">{wallet}</span> (donor key <span className="font-mono text-xs">{sessionKey}</span>
                ), until {new Date(grant.signed.grant.expiresAt * 1000).toLocaleDateString('en-GB')}.
              </p>
              <dl className="grid gap-3 sm:grid-cols-3">
                <Stat label="Pending rewards" value={pending.data?.pending} data-testid="donate-pending" hint="for this wallet, not settled yet">
                  {pending.data === undefined ? '—' : formatKbt(pending.data.pending)}
                </Stat>
              </dl>
              {pending.error && <p className="text-sm text-red-700 dark:text-red-300">{errorSentence(pending.error)}</p>}
            </div>
          ) : (
            <AuthorizeButton grant={grant} onAuthorize={() => void authorize()} testId="earn-authorize">
              Authorize this tab to earn for {wallet}
            </AuthorizeButton>
          ))}
        {grant.state === 'error' && (
          <Notice tone="error" title="Not authorized">
            <span data-testid="earn-error">{grant.message}</span>
          </Notice>
        )}
      </div>
    </Card>
  )
}
