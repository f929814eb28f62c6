'use client'

import { Badge, Button, Notice, shortId } from '@konbini/ui'
import { useEffect, useState } from 'react'
import { type Connector, useChains, useConnect, useConnection, useConnectors, useDisconnect, useSwitchChain } from 'wagmi'
import { walletErrorSentence } from '../../lib/wallet/wallet-error.ts'
import { useHydrated } from './use-hydrated.ts'

/** Whether the page has a legacy injected wallet (`window.ethereum`) besides EIP-6963 announcements. */
function useLegacyInjected(): boolean {
  const [present, setPresent] = useState(false)
  useEffect(() => setPresent((globalThis as { ethereum?: unknown }).ethereum !== undefined), [])
  return present
}

/**
 * Connects a wallet: lists the wallets that announced themselves (EIP-6963), the legacy injected
 * one when there is no announcement, and on a devnet anvil's dev account. Once connected, shows
 * the account and offers Disconnect (and a chain switch when the wallet is on another chain).
 */
export function ConnectWallet({ devAccount }: { devAccount?: string }) {
  const hydrated = useHydrated()
  const connection = useConnection()
  const connectors = useConnectors()
  const [chain] = useChains()
  const connect = useConnect()
  const disconnect = useDisconnect()
  const switchChain = useSwitchChain()
  const legacy = useLegacyInjected()

  if (!hydrated) return <p className="text-sm text-zinc-500">Looking for wallets…</p>

  if (connection.status === 'connected') {
    const wrongChain = chain !== undefined && connection.chainId !== chain.id
    return (
      <div className="flex flex-col gap-3" data-testid="wallet" data-status="connected">
        <p className="flex flex-wrap items-center gap-2 text-sm">
          <Badge tone="green">connected</Badge>
          <span className="font-mono text-xs" title={connection.address} data-testid="wallet-address" data-value={connection.address}>
            {connection.address}
          </span>
          <span className="text-zinc-500">through {connection.connector.type === 'mock' ? "the devnet's dev account" : connection.connector.name}</span>
          <Button size="sm" data-testid="wallet-disconnect" onClick={() => disconnect.mutate({ connector: connection.connector })}>
            Disconnect
          </Button>
        </p>
        {wrongChain && (
          <Notice tone="error" title="Wrong chain">
            <span className="flex flex-wrap items-center gap-2">
              The wallet is on chain {connection.chainId}, not the network&apos;s chain {chain.id}.
              <Button size="sm" data-testid="wallet-switch-chain" onClick={() => switchChain.mutate({ chainId: chain.id })}>
                Switch to chain {chain.id}
              </Button>
            </span>
          </Notice>
        )}
      </div>
    )
  }

  const announced = connectors.filter((c) => c.type === 'injected' && c.id !== 'injected')
  const injected = announced.length === 0 && legacy ? connectors.filter((c) => c.id === 'injected') : []
  const wallets = [...announced, ...injected]
  const dev = devAccount ? connectors.find((c) => c.type === 'mock') : undefined
  const pending = connection.status === 'connecting' || connection.status === 'reconnecting' || connect.isPending
  const start = (connector: Connector) => connect.mutate({ connector, chainId: chain?.id })
  return (
    <div className="flex flex-col gap-3" data-testid="wallet" data-status={connection.status}>
      {wallets.length > 0 ? (
        <div className="flex flex-wrap items-center gap-2" data-testid="wallet-list">
          {wallets.map((c) => (
            <Button key={c.uid} variant="primary" disabled={pending} data-testid="wallet-connector" data-name={c.name} onClick={() => start(c)}>
              {c.icon ? (
                // biome-ignore lint/performance/noImgElement: a wallet's EIP-6963 icon is a data URI it announced, nothing for next/image to optimize
                <img src={c.icon} alt="" className="h-4 w-4" />
              ) : null}
              Connect {c.name}
            </Button>
          ))}
        </div>
      ) : (
        <p className="text-sm text-zinc-600 dark:text-zinc-300" data-testid="wallet-none">
          No browser wallet announced itself in this tab (EIP-6963). Install or unlock one, then reload.
        </p>
      )}
      {dev && (
        <div className="flex flex-wrap items-center gap-2 text-sm">
          <Button disabled={pending} data-testid="wallet-dev-account" onClick={() => start(dev)}>
            Use the devnet&apos;s dev account
          </Button>
          <span className="text-xs text-zinc-500">
            Devnet only: anvil&apos;s unlocked account{devAccount ? <span className="font-mono"> {shortId(devAccount, 6, 4)}</span> : null} signs through the
            chain&apos;s RPC, so anyone who reaches this devnet can use it.
          </span>
        </div>
      )}
      {pending && <p className="text-sm text-zinc-500">Waiting for the wallet…</p>}
      {connect.error && (
        <Notice tone="error" title="The wallet did not connect">
          <span data-testid="wallet-error">{walletErrorSentence(connect.error)}</span>
        </Notice>
      )}
    </div>
  )
}
