'use client'

import { Notice } from '@konbini/ui'
import Link from 'next/link'
import { useEffect, useState } from 'react'
import type { BrowserKonbini } from '../lib/browser-konbini.ts'

/**
 * Who this tab signs as: its own key (made in this browser, kept in IndexedDB), and the wallet
 * that authorized it, if any — that wallet pays for its transfers and its files are listed here.
 */
export function BrowserKeyNotice({ konbini }: { konbini: BrowserKonbini | undefined }) {
  const [wallet, setWallet] = useState<{ state: 'loading' } | { state: 'ok'; wallet: string | undefined } | { state: 'error' }>({ state: 'loading' })
  useEffect(() => {
    if (konbini === undefined) return
    let live = true
    konbini.wallet().then(
      (w) => live && setWallet({ state: 'ok', wallet: w }),
      () => live && setWallet({ state: 'error' }),
    )
    return () => {
      live = false
    }
  }, [konbini])
  const walletAddress = wallet.state === 'ok' ? wallet.wallet : undefined
  return (
    <Notice title="This browser signs with its own key">
      <span data-testid="browser-key" data-address={konbini?.address ?? ''} data-wallet={walletAddress ?? ''}>
        Made in this browser and kept in it
        {konbini ? (
          <>
            {' '}
            (<span className="font-mono text-xs">{konbini.address}</span>)
          </>
        ) : null}
        ; no key is sent to the page.{' '}
        {walletAddress !== undefined ? (
          <>
            It acts for the wallet <span className="font-mono text-xs">{walletAddress}</span>: that wallet pays for its transfers, and its files are listed here
            too.
          </>
        ) : (
          <>
            No wallet had authorized it when this page opened: on a network with a chain, uploads and paid downloads need a wallet&apos;s credit. Authorize it
            once with &quot;Pay with your wallet&quot; below, or &quot;Earn for your wallet&quot; on the{' '}
            <Link href="/donate" className="text-sky-700 underline-offset-4 hover:underline dark:text-sky-400">
              Donate
            </Link>{' '}
            page (the same key).
          </>
        )}
      </span>
    </Notice>
  )
}
