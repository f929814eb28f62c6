'use client'

import { type SignedSessionGrant, sessionGrantTypedData } from '@konbini/protocol'
import { useEffect, useMemo, useState } from 'react'
import type { Hex } from 'viem'
import { useConnection, useSignTypedData } from 'wagmi'
import { createMetaClient } from '../meta-client.ts'
import { errorSentence } from '../shown-error.ts'
import { GRANT_SECONDS, rememberedGrant, rememberGrant } from './grant-store.ts'
import { walletErrorSentence } from './wallet-error.ts'

export type GrantStatus =
  | { state: 'none' }
  | { state: 'signing' }
  | { state: 'sending' }
  | { state: 'granted'; signed: SignedSessionGrant }
  | { state: 'error'; message: string }

/**
 * The connected wallet's grant to this tab's key (`sessionKey`): one remembered for this key is
 * sent again (the meta node may have lost it); `authorize()` asks the wallet for a new one
 * (EIP-712 `SessionGrant`), sends it to the meta node and remembers it.
 */
export function useSessionGrant({ metaUrls, sessionKey, protocolChainId }: { metaUrls: string[]; sessionKey: string | undefined; protocolChainId: number }) {
  const connection = useConnection()
  const meta = useMemo(() => createMetaClient({ urls: metaUrls, timeoutMs: 5000 }), [metaUrls])
  const wallet = connection.status === 'connected' ? connection.address : undefined
  const [grant, setGrant] = useState<GrantStatus>({ state: 'none' })
  const sign = useSignTypedData()

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

  const authorize = async (): Promise<void> => {
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

  return { wallet, grant, granted: grant.state === 'granted' && wallet !== undefined, authorize, meta }
}
