'use client'

import type { FileRecord } from '@konbini/protocol'
import { Badge, Button, type Column, formatBytes, Notice, Table } from '@konbini/ui'
import { CopyButton } from '../copy-button.tsx'
import { type SaveState, saveStatusText } from './save-status.ts'

export interface FileActions {
  onSave: (root: string, name: string) => void
  onPreview: (target: { root: string; name: string; size: number }) => void
  onRemove: (root: string) => void
  saving: Record<string, SaveState>
  removing: Record<string, boolean>
}

const columns = (a: FileActions): Column<FileRecord>[] => [
  { header: 'Name', cell: (f) => <span className="break-all font-medium">{f.name}</span> },
  { header: 'Size', align: 'right', cell: (f) => <span className="whitespace-nowrap">{formatBytes(f.size)}</span> },
  {
    header: 'Root CID',
    cell: (f) => (
      <span className="flex items-center gap-2">
        <code className="break-all font-mono text-xs" title={f.root}>
          {f.root}
        </code>
        <CopyButton text={f.root} />
      </span>
    ),
  },
  { header: 'Holders', align: 'right', cell: (f) => <span data-testid="file-holders">{f.holders.length}</span> },
  { header: 'Public', cell: (f) => (f.public ? <Badge tone="green">public</Badge> : <Badge>private</Badge>) },
  {
    header: 'Actions',
    cell: (f) => {
      const save = a.saving[f.root]
      return (
        <span className="flex flex-wrap items-center gap-1.5">
          <Button size="sm" data-testid="save-button" disabled={save?.state === 'saving'} onClick={() => a.onSave(f.root, f.name)}>
            Save
          </Button>
          <Button size="sm" data-testid="preview-button" onClick={() => a.onPreview({ root: f.root, name: f.name, size: f.size })}>
            Preview
          </Button>
          <Button size="sm" variant="danger" data-testid="remove-button" disabled={a.removing[f.root]} onClick={() => a.onRemove(f.root)}>
            {a.removing[f.root] ? 'Removing…' : 'Remove'}
          </Button>
          {save && (
            <span
              data-testid="save-status"
              data-state={save.state}
              data-peer-share={'peerShare' in save ? save.peerShare : undefined}
              className={`text-xs ${save.state === 'error' ? 'text-red-700 dark:text-red-300' : 'text-zinc-500'}`}
            >
              {saveStatusText(save)}
            </span>
          )}
        </span>
      )
    },
  },
]

/** The owner's files (from `ls`), newest first, each with Save, Preview and Remove. */
export function FileTable({ files, actions }: { files: FileRecord[]; actions: FileActions }) {
  const rows = [...files].sort((x, y) => y.createdAt - x.createdAt)
  return (
    <Table
      caption="Your files"
      columns={columns(actions)}
      rows={rows}
      rowKey={(f) => f.root}
      rowAttributes={(f) => ({ 'data-testid': 'file-row', 'data-root': f.root, 'data-name': f.name })}
      empty={<Notice title="No files yet">Drop a file or a folder above to upload it.</Notice>}
    />
  )
}
