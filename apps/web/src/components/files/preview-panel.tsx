'use client'

import { Button, Card, formatBytes, Notice } from '@konbini/ui'
import { type ReactNode, useEffect, useState } from 'react'
import type { BrowserDownload } from '../../lib/browser-konbini.ts'
import { type DownloadCache, reportMeasured } from '../../lib/download-cache.ts'
import { mimeFromName, previewKind } from '../../lib/mime.ts'
import { errorSentence } from '../../lib/shown-error.ts'
import { fileStreamUrl } from '../../lib/sw-messages.ts'

/** What to preview: a root (a file or a folder) and its name. */
export interface PreviewTarget {
  root: string
  name: string
  size: number
}

const TEXT_PREVIEW_BYTES = 256 * 1024

type Opened = { state: 'opening' } | { state: 'error'; message: string } | { state: 'ok'; download: BrowserDownload; text?: string }

async function readText(download: BrowserDownload, signal: AbortSignal): Promise<string> {
  const decoder = new TextDecoder()
  let text = ''
  for await (const chunk of download.read({ offset: 0, length: Math.min(download.size, TEXT_PREVIEW_BYTES) }, signal)) {
    text += decoder.decode(chunk, { stream: true })
  }
  // the whole file was read: a finished download, as a save is
  if (download.size <= TEXT_PREVIEW_BYTES) reportMeasured(download)
  return text + decoder.decode()
}

/**
 * Shows one file in the page — image, video (seekable: the worker answers Range), audio or the head
 * of a text file — or a folder's entries, each with Save and Preview.
 */
export function PreviewPanel({
  target,
  cache,
  streaming,
  onSave,
  onPreview,
  onClose,
}: {
  target: PreviewTarget
  cache: DownloadCache
  /** `undefined` when the Service Worker is ready, else why it is not. */
  streaming: string | undefined
  onSave: (root: string, name: string) => void
  onPreview: (t: PreviewTarget) => void
  onClose: () => void
}) {
  const [opened, setOpened] = useState<Opened>({ state: 'opening' })
  const mime = mimeFromName(target.name)
  const kind = previewKind(mime)

  useEffect(() => {
    const abort = new AbortController()
    let release: (() => void) | undefined
    setOpened({ state: 'opening' })
    cache
      .acquire(target.root)
      .then(async (held) => {
        release = held.release
        const { download } = held
        const text = download.type === 'file' && kind === 'text' ? await readText(download, abort.signal) : undefined
        if (!abort.signal.aborted) setOpened({ state: 'ok', download, ...(text !== undefined && { text }) })
      })
      .catch((err) => {
        if (!abort.signal.aborted) setOpened({ state: 'error', message: errorSentence(err, 'Could not open this file.') })
      })
    return () => {
      abort.abort()
      release?.()
    }
  }, [cache, target.root, kind])

  let body: ReactNode
  if (opened.state === 'opening') body = <p className="text-sm text-zinc-500">Opening…</p>
  else if (opened.state === 'error')
    body = (
      <Notice tone="error" title={`Could not preview ${target.name}`}>
        <span data-testid="preview-error">{opened.message}</span>
      </Notice>
    )
  else if (opened.download.type === 'directory') {
    const entries = opened.download.entries ?? []
    body =
      entries.length === 0 ? (
        <Notice title="This folder is empty" />
      ) : (
        <ul className="divide-y divide-zinc-100 text-sm dark:divide-zinc-800" data-testid="preview-entries">
          {entries.map((e) => (
            <li key={`${e.name}-${e.cid}`} data-testid="preview-entry" data-name={e.name} className="flex items-center justify-between gap-2 py-1.5">
              <span className="break-all">{e.name}</span>
              <span className="flex items-center gap-2">
                <span className="text-xs text-zinc-500">{formatBytes(e.size)}</span>
                <Button size="sm" onClick={() => onSave(e.cid, e.name)}>
                  Save
                </Button>
                <Button size="sm" onClick={() => onPreview({ root: e.cid, name: e.name, size: e.size })}>
                  Open
                </Button>
              </span>
            </li>
          ))}
        </ul>
      )
  } else if (kind === 'text') {
    const cut = opened.download.size > TEXT_PREVIEW_BYTES
    body = (
      <>
        <pre
          data-testid="preview-text"
          className="max-h-[60vh] overflow-auto whitespace-pre-wrap break-all rounded bg-zinc-100 p-3 font-mono text-xs dark:bg-zinc-950"
        >
          {opened.text}
        </pre>
        {cut && <p className="text-xs text-zinc-500">Showing the first {formatBytes(TEXT_PREVIEW_BYTES)}; use Save for the whole file.</p>}
      </>
    )
  } else if (!kind) body = <Notice title="No preview for this kind of file">Use Save to download it.</Notice>
  else if (streaming)
    body = (
      <Notice tone="error" title="Preview needs the streaming Service Worker">
        {streaming}
      </Notice>
    )
  else {
    const src = fileStreamUrl(target.root, target.name, opened.download.size, mime)
    // biome-ignore lint/performance/noImgElement: the Service Worker streams it; next/image cannot optimize it
    if (kind === 'image') body = <img data-testid="preview-image" src={src} alt={target.name} className="max-h-[60vh] max-w-full" />
    else if (kind === 'video')
      // biome-ignore lint/a11y/useMediaCaption: user content has no captions to offer
      body = <video data-testid="preview-video" src={src} controls preload="metadata" className="max-h-[60vh] max-w-full" />
    // biome-ignore lint/a11y/useMediaCaption: user content has no captions to offer
    else body = <audio data-testid="preview-audio" src={src} controls preload="metadata" className="w-full" />
  }

  return (
    <Card
      title={
        <span data-testid="preview-title" className="break-all">
          Preview: {target.name}
        </span>
      }
      meta={
        <Button size="sm" data-testid="preview-close" onClick={onClose}>
          Close
        </Button>
      }
    >
      <div data-testid="preview" data-root={target.root}>
        {body}
      </div>
    </Card>
  )
}
