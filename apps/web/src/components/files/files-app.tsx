'use client'

import type { FileRecord } from '@konbini/protocol'
import { Card, Notice } from '@konbini/ui'
import { useCallback, useEffect, useMemo, useState } from 'react'
import type { BrowserKonbini, BrowserKonbiniInit } from '../../lib/browser-konbini.ts'
import { createDownloadCache } from '../../lib/download-cache.ts'
import { mimeFromName } from '../../lib/mime.ts'
import { errorSentence } from '../../lib/shown-error.ts'
import { ensureServiceWorker, installRangeBridge, saveThroughWorker } from '../../lib/sw-bridge.ts'
import type { WalletConfig } from '../../lib/wallet/wallet-config.ts'
import { BrowserKeyNotice } from '../browser-key-notice.tsx'
import { WalletProvider } from '../wallet/wallet-provider.tsx'
import { PayCard } from './pay-card.tsx'
import { useBrowserKonbini } from '../use-browser-konbini.ts'
import { type FileActions, FileTable } from './file-table.tsx'
import { PreviewPanel, type PreviewTarget } from './preview-panel.tsx'
import type { SaveState } from './save-status.ts'
import { UploadPanel } from './upload-panel.tsx'

type Listing = { state: 'loading' } | { state: 'ok'; files: FileRecord[] } | { state: 'error'; message: string }

function FilesWorkspace({ konbini, wallet, protocolChainId }: { konbini: BrowserKonbini; wallet: WalletConfig; protocolChainId: number | undefined }) {
  const cache = useMemo(() => createDownloadCache(konbini), [konbini])
  const [listing, setListing] = useState<Listing>({ state: 'loading' })
  const [worker, setWorker] = useState<{ state: 'starting' } | { state: 'ready' } | { state: 'error'; message: string }>({ state: 'starting' })
  const [target, setTarget] = useState<PreviewTarget>()
  const [saving, setSaving] = useState<Record<string, SaveState>>({})
  const [removing, setRemoving] = useState<Record<string, boolean>>({})

  const refresh = useCallback(() => {
    konbini.ls().then(
      (files) => setListing({ state: 'ok', files }),
      (err) => setListing({ state: 'error', message: errorSentence(err, 'Could not list your files.') }),
    )
  }, [konbini])

  useEffect(refresh, [refresh])
  // the download node and its relay connections start now, not on the first Save
  useEffect(() => konbini.warm(), [konbini])
  useEffect(() => {
    const uninstall = installRangeBridge(cache)
    ensureServiceWorker().then(
      () => setWorker({ state: 'ready' }),
      (err) => setWorker({ state: 'error', message: errorSentence(err) }),
    )
    return () => {
      uninstall()
      cache.clear()
    }
  }, [cache])

  const actions: FileActions = {
    saving,
    removing,
    onPreview: setTarget,
    onSave: (root, name) => {
      const set = (s: SaveState) => setSaving((all) => ({ ...all, [root]: s }))
      set({ state: 'saving', sent: 0, size: 0, peerShare: 0 })
      let peerShare = 0
      const onProgress = (sent: number, size: number, share: number) => {
        peerShare = share
        set({ state: 'saving', sent, size, peerShare })
      }
      saveThroughWorker({ cache, root, name, mime: mimeFromName(name), onProgress }).then(
        (outcome) => set(outcome === 'end' ? { state: 'saved', peerShare } : { state: 'cancelled' }),
        (err) => set({ state: 'error', message: errorSentence(err, 'The download failed.') }),
      )
    },
    onRemove: (root) => {
      setRemoving((r) => ({ ...r, [root]: true }))
      const owner = listing.state === 'ok' ? listing.files.find((f) => f.root === root)?.owner : undefined
      konbini
        .rm(root, owner)
        .then(
          () => {
            setTarget((t) => (t?.root === root ? undefined : t))
            refresh()
          },
          (err) => setListing({ state: 'error', message: errorSentence(err, 'Could not remove the file.') }),
        )
        .finally(() => setRemoving((r) => ({ ...r, [root]: false })))
    },
  }

  return (
    <>
      <span data-testid="streaming-state" data-state={worker.state} hidden />
      {wallet.state === 'ok' && (
        <WalletProvider chain={wallet.chain}>
          <PayCard
            metaUrls={wallet.metaUrls}
            chain={wallet.chain}
            protocolChainId={protocolChainId ?? wallet.chain.chainId}
            sessionKey={konbini.address}
            onGranted={refresh}
          />
        </WalletProvider>
      )}
      <UploadPanel konbini={konbini} onUploaded={refresh} />
      {worker.state === 'error' && (
        <Notice tone="error" title="Save and preview cannot stream in this tab">
          <span data-testid="streaming-error">{worker.message}</span>
        </Notice>
      )}
      {target && (
        <PreviewPanel
          key={target.root}
          target={target}
          cache={cache}
          streaming={worker.state === 'ready' ? undefined : worker.state === 'error' ? worker.message : 'The streaming Service Worker is starting…'}
          onSave={actions.onSave}
          onPreview={setTarget}
          onClose={() => setTarget(undefined)}
        />
      )}
      <Card title="Your files" meta={<span className="font-mono text-xs">{konbini.address}</span>}>
        {listing.state === 'loading' && <p className="text-sm text-zinc-500">Loading…</p>}
        {listing.state === 'error' && (
          <Notice tone="error" title="Could not load your files">
            <span data-testid="files-error">{listing.message}</span>
          </Notice>
        )}
        {listing.state === 'ok' && <FileTable files={listing.files} actions={actions} />}
      </Card>
    </>
  )
}

/** The files page in the tab: starts the browser client after first paint, then upload, list, save, preview. */
export function FilesApp({ init, wallet }: { init: BrowserKonbiniInit; wallet: WalletConfig }) {
  const client = useBrowserKonbini(init)
  return (
    <div className="flex flex-col gap-6" data-testid="files-app" data-state={client.state}>
      <BrowserKeyNotice konbini={client.state === 'ready' ? client.konbini : undefined} />
      {client.state === 'loading' && <p className="text-sm text-zinc-500">Starting the Konbini client in this tab…</p>}
      {client.state === 'error' && (
        <Notice tone="error" title="The Konbini client could not start">
          <span data-testid="client-error">{client.message}</span>
        </Notice>
      )}
      {client.state === 'ready' && <FilesWorkspace konbini={client.konbini} wallet={wallet} protocolChainId={init.chainId} />}
    </div>
  )
}
