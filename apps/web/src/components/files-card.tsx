import type { FileRecord, NodeInfo } from '@konbini/protocol'
import { Card, type Column, formatBytes, Notice, Table } from '@konbini/ui'
import { plainFileUrl } from '../lib/file-url.ts'
import type { Section } from '../lib/overview.ts'
import { CopyButton } from './copy-button.tsx'
import { SectionStatus } from './section-status.tsx'

const columns = (nodes: readonly NodeInfo[]): Column<FileRecord>[] => [
  { header: 'Name', cell: (f) => <span className="break-all font-medium">{f.name}</span> },
  { header: 'Size', align: 'right', cell: (f) => <span className="whitespace-nowrap">{formatBytes(f.size)}</span> },
  {
    header: 'Root CID',
    cell: (f) => (
      <span className="flex items-center gap-2">
        <code className="select-all break-all font-mono text-xs">{f.root}</code>
        <CopyButton text={f.root} />
      </span>
    ),
  },
  { header: 'Holders', align: 'right', cell: (f) => f.holders.length },
  {
    header: 'Open',
    cell: (f) => {
      // gateways serve public files only: a private one is read with a ticket, through the app
      if (!f.public) return <span className="text-xs text-zinc-500">private</span>
      const url = plainFileUrl(f, nodes)
      if (!url) return <span className="text-xs text-zinc-500">no live holder</span>
      return (
        <a href={url} target="_blank" rel="noreferrer" className="whitespace-nowrap text-sky-700 underline hover:text-sky-900 dark:text-sky-400">
          plain URL ↗
        </a>
      )
    },
  },
]

/** The dev user's files, newest first, each with a link to its first live holder. */
export function FilesCard({ files, nodes, owner }: { files: Section<FileRecord[]>; nodes: readonly NodeInfo[]; owner: string | undefined }) {
  const rows = files.state === 'ok' ? [...files.data].sort((a, b) => b.createdAt - a.createdAt) : []
  return (
    <Card
      title="Your files"
      meta={
        owner && (
          <span className="font-mono text-xs" title="Dev user address">
            {owner}
          </span>
        )
      }
    >
      <SectionStatus section={files} what="files" />
      {files.state === 'ok' && (
        <Table
          caption="Files owned by the dev user"
          columns={columns(nodes)}
          rows={rows}
          rowKey={(f) => f.root}
          empty={
            <Notice title="No files yet">
              Run <code className="font-mono">npx konbini put &lt;file&gt;</code> to upload one.
            </Notice>
          }
        />
      )}
    </Card>
  )
}
