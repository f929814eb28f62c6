'use client'

import { Button, Card, Notice, Stat } from '@konbini/ui'
import { type SignedSessionGrant, sessionGrantTypedData } from '@konbini/protocol'
import { useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { useEffect, useMemo, useState } from 'react'
import type { Address, Hex } from 'viem'
import { useConnection, useSignTypedData } from 'wagmi'
import { createMetaClient } from '../../lib/meta-client.ts'
import { errorSentence } from '../../lib/shown-error.ts'
import { GRANT_SECONDS, rememberedGrant, rememberGrant } from '../../lib/wallet/grant-store.ts'
import { formatKbt } from '../../lib/wallet/rewards.ts'
import type { WalletChain } from '../../lib/wallet/wallet-config.ts'
import { walletErrorSentence } from '../../lib/wallet/wallet-error.ts'
import { ConnectWallet } from '../wallet/connect-wallet.tsx'

/** How often the tab's pending rewards are re-read. */
const PENDING_REFRESH_MS = 3000

type GrantStatus =
  | { state: 'none' }
  | { state: 'signing' }
  | { state: 'sending' }
  | { state: 'granted'; signed: SignedSessionGrant }
  | { state: 'error'; message: string }

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
  const connection = useConnection()
  const meta = useMemo(() => createMetaClient({ urls: metaUrls, timeoutMs: 5000 }), [metaUrls])
  const wallet = connection.status === 'connected' ? connection.address : undefined
  // the donor's operator key signs its heartbeats: the meta node lists it beside the peer id
  const operator = useQuery({
    queryKey: ['konbini-donor-operator', metaUrls, peerId],
    enabled: peerId !== undefined,
    queryFn: async () => ((await meta.nodes()).find((n) => n.peerId === peerId)?.operator as Address | undefined) ?? null,
    refetchInterval: (q) => (q.state.data ? false : 2000),
  })
  const sessionKey = operator.data ?? undefined
  const [grant, setGrant] = useState<GrantStatus>({ state: 'none' })
  const sign = useSignTypedData()

  // a grant this key already holds for this wallet: no new signature; sent again in case the meta node lost it
  useEffect(() => {
    if (wallet === undefined || sessionKey === undefined) return setGrant({ state: 'none' })
    const remembered = rememberedGrant(localStorage, sessionKey, wallet, Math.floor(Date.now() / 1000))
    if (remembered === undefined) return setGrant({ state: 'none' })
    setGrant({ state: 'granted', signed: remembered })
    meta.grant(remembered).catch((err: unknown) => {
      // unreachable: kept as it is; refused (a 4xx): asked for again
      const status = (err as { status?: number }).status
      if (status !== undefined && status < 500) setGrant({ state: 'error', message: `The meta node refused this tab's grant: ${errorSentence(err)}` })
    })
  }, [wallet, sessionKey, meta])

  const granted = grant.state === 'granted' && wallet !== undefined
  const pending = useQuery({
    queryKey: ['konbini-rewards', metaUrls, wallet],
    enabled: granted,
    queryFn: () => meta.rewards(wallet as Address),
    refetchInterval: PENDING_REFRESH_MS,
  })

  const authorize = async () => {
    if (wallet === undefined || sessionKey === undefined) return
    const draft = { wallet, sessionKey, expiresAt: Math.floor(Date.now() / 1000) + GRANT_SECONDS }
    try {
      setGrant({ state: 'signing' })
      const signature = await sign.mutateAsync({ ...sessionGrantTypedData(draft, protocolChainId), account: wallet })
      setGrant({ state: 'sending' })
      const signed: SignedSessionGrant = { grant: draft, signature: signature as Hex }
      await meta.grant(signed)
      rememberGrant(localStorage, signed)
      setGrant({ state: 'granted', signed })
    } catch (err) {
      setGrant({ state: 'error', message: walletErrorSentence(err, 'The tab was not authorized.') })
    }
  }

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
          ) : granted ? (
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
            <div className="flex flex-wrap items-center gap-3">
              <Button
                variant="primary"
                data-testid="earn-authorize"
                disabled={grant.state === 'signing' || grant.state === 'sending'}
                onClick={() => void authorize()}
              >
                Authorize this tab to earn for {wallet}
              </Button>
              {grant.state === 'signing' && <span className="text-sm text-zinc-500">Waiting for the wallet to sign…</span>}
              {grant.state === 'sending' && <span className="text-sm text-zinc-500">Sending the grant to the meta node…</span>}
            </div>
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
