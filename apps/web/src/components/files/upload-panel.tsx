'use client'

import { Button, Card, Notice } from '@konbini/ui'
import { type DragEvent, useRef, useState } from 'react'
import type { BrowserKonbini, UploadProgress } from '../../lib/browser-konbini.ts'
import { filesFromDrop, filesFromInput, type PickedFile, uploadPlan } from '../../lib/pick-files.ts'
import { errorSentence } from '../../lib/shown-error.ts'
import { CopyButton } from '../copy-button.tsx'
import { UploadProgressBar } from './upload-progress.tsx'

type Upload =
  | { state: 'idle' }
  | { state: 'running'; name: string; progress: UploadProgress; abort: AbortController }
  | { state: 'done'; name: string; progress: UploadProgress; root: string; holders: number }
  | { state: 'error'; name: string; message: string }

// React passes unknown lowercase attributes through; TypeScript's DOM types do not list this one.
const folderAttributes = { webkitdirectory: '', directory: '' } as Record<string, string>

/** Drop zone and pickers; uploads what the user picks at once, with the "public" choice shown beside it. */
export function UploadPanel({ konbini, onUploaded }: { konbini: BrowserKonbini; onUploaded: () => void }) {
  const [isPublic, setPublic] = useState(false)
  const [upload, setUpload] = useState<Upload>({ state: 'idle' })
  const [dragging, setDragging] = useState(false)
  const [count, setCount] = useState(0)
  const fileInput = useRef<HTMLInputElement>(null)
  const folderInput = useRef<HTMLInputElement>(null)
  const busy = upload.state === 'running'

  const start = async (picked: PickedFile[]) => {
    const plan = uploadPlan(picked)
    if (plan.files.length === 0) {
      setUpload({ state: 'error', name: 'nothing', message: 'Nothing to upload: the selection holds no files.' })
      return
    }
    const totalBytes = plan.files.reduce((sum, f) => sum + f.file.size, 0)
    const abort = new AbortController()
    let last: UploadProgress = { phase: 'importing', sentBytes: 0, totalBytes, holders: 0, replicas: 0 }
    setUpload({ state: 'running', name: plan.name, progress: last, abort })
    setCount((n) => n + 1)
    try {
      const result = await konbini.putFiles(plan.files, {
        name: plan.name,
        public: isPublic,
        signal: abort.signal,
        onProgress: (p) => {
          last = p
          setUpload((u) => (u.state === 'running' && u.abort === abort ? { ...u, progress: p } : u))
        },
      })
      const done: UploadProgress = { ...last, phase: 'done', sentBytes: last.totalBytes || totalBytes, holders: result.holders.length }
      setUpload({ state: 'done', name: plan.name, progress: done, root: result.root, holders: result.holders.length })
      onUploaded()
    } catch (err) {
      setUpload({ state: 'error', name: plan.name, message: errorSentence(err, 'The upload failed.') })
    }
  }

  const onDrop = (event: DragEvent<HTMLElement>) => {
    event.preventDefault()
    setDragging(false)
    if (busy) return
    filesFromDrop(event.dataTransfer).then(start, (err) =>
      setUpload({ state: 'error', name: 'drop', message: errorSentence(err, 'Could not read the dropped files.') }),
    )
  }

  return (
    <Card title="Upload">
      <div className="flex flex-col gap-4" data-testid="upload-panel" data-state={upload.state} data-count={count}>
        <section
          aria-label="Drop files or a folder to upload"
          data-testid="drop-zone"
          onDragOver={(e) => {
            e.preventDefault()
            setDragging(true)
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
          className={`flex flex-col items-center gap-3 rounded-lg border-2 border-dashed px-4 py-8 text-center ${dragging ? 'border-sky-500 bg-sky-50 dark:bg-sky-950/30' : 'border-zinc-300 dark:border-zinc-700'}`}
        >
          <p className="text-sm">Drop files or a folder here, or</p>
          <div className="flex gap-2">
            <Button variant="primary" disabled={busy} onClick={() => fileInput.current?.click()}>
              Choose files
            </Button>
            <Button disabled={busy} onClick={() => folderInput.current?.click()}>
              Choose a folder
            </Button>
          </div>
          <input
            ref={fileInput}
            data-testid="upload-input"
            type="file"
            multiple
            className="sr-only"
            tabIndex={-1}
            onChange={(e) => {
              const picked = filesFromInput(e.currentTarget.files)
              e.currentTarget.value = ''
              void start(picked)
            }}
          />
          <input
            ref={folderInput}
            data-testid="upload-folder-input"
            type="file"
            className="sr-only"
            tabIndex={-1}
            {...folderAttributes}
            onChange={(e) => {
              const picked = filesFromInput(e.currentTarget.files)
              e.currentTarget.value = ''
              void start(picked)
            }}
          />
        </section>
        <label className="flex items-center gap-2 text-sm">
          <input data-testid="upload-public" type="checkbox" checked={isPublic} disabled={busy} onChange={(e) => setPublic(e.currentTarget.checked)} />
          Public (peers may cache it)
        </label>
        {(upload.state === 'running' || upload.state === 'done') && <UploadProgressBar progress={upload.progress} name={upload.name} />}
        {upload.state === 'running' && (
          <div>
            <Button variant="danger" size="sm" onClick={() => upload.abort.abort()}>
              Cancel upload
            </Button>
          </div>
        )}
        {upload.state === 'done' && (
          <p data-testid="upload-result" className="flex flex-wrap items-center gap-2 text-sm">
            Stored as
            <code data-testid="upload-root" className="break-all font-mono text-xs">
              {upload.root}
            </code>
            <CopyButton text={upload.root} />
            on{' '}
            <span data-testid="upload-holders" data-value={upload.holders}>
              {upload.holders}
            </span>{' '}
            {upload.holders === 1 ? 'node' : 'nodes'}.
          </p>
        )}
        {upload.state === 'error' && (
          <Notice tone="error" title={`Could not upload ${upload.name}`}>
            <span data-testid="upload-error">{upload.message}</span>
          </Notice>
        )}
      </div>
    </Card>
  )
}
