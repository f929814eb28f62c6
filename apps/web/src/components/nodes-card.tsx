import type { NodeInfo } from '@konbini/protocol'
import { Badge, Card, type Column, formatAge, formatBytes, formatMBps, formatPercent, Notice, shortId, Table } from '@konbini/ui'
import type { Section } from '../lib/overview.ts'
import { SectionStatus } from './section-status.tsx'

const columns = (now: number): Column<NodeInfo>[] => [
  {
    header: 'Peer',
    cell: (n) => (
      <span className="font-mono" title={n.peerId}>
        {shortId(n.peerId, 8, 6)}
      </span>
    ),
  },
  { header: 'Kind', cell: (n) => <Badge tone={n.kind === 'full' ? 'blue' : 'gray'}>{n.kind}</Badge> },
  { header: 'Region', cell: (n) => n.region },
  { header: 'HTTP', cell: (n) => <span className="font-mono text-xs">{n.httpUrl}</span> },
  {
    header: 'Used / capacity',
    align: 'right',
    cell: (n) => `${formatBytes(n.usedBytes)} / ${formatBytes(n.capacityBytes)}`,
  },
  { header: 'Throughput', align: 'right', cell: (n) => formatMBps(n.throughputBps) },
  { header: 'Success', align: 'right', cell: (n) => formatPercent(n.successRate) },
  { header: 'Score', align: 'right', cell: (n) => n.score.toFixed(2) },
  {
    header: 'Status',
    cell: (n) => (
      <span className="flex items-center gap-2 whitespace-nowrap">
        <Badge tone={n.live ? 'green' : 'red'}>{n.live ? 'live' : 'offline'}</Badge>
        <span className="text-xs text-zinc-500">{formatAge(n.lastSeen, now)}</span>
      </span>
    ),
  },
]

/** The node registry as the meta node sees it: live nodes first, best score first. */
export function NodesCard({ nodes, now }: { nodes: Section<NodeInfo[]>; now: number }) {
  const rows = nodes.state === 'ok' ? [...nodes.data].sort((a, b) => Number(b.live) - Number(a.live) || b.score - a.score) : []
  const live = rows.filter((n) => n.live).length
  return (
    <Card title="Nodes" meta={nodes.state === 'ok' ? `${live} live of ${rows.length}` : undefined}>
      <SectionStatus section={nodes} what="nodes" />
      {nodes.state === 'ok' && (
        <Table
          caption="Resource nodes"
          columns={columns(now)}
          rows={rows}
          rowKey={(n) => n.peerId}
          empty={<Notice title="No nodes have registered yet">Resource nodes appear here after their first heartbeat.</Notice>}
        />
      )}
    </Card>
  )
}
