import { auditFactor, type NodeInfo, scoreNode } from '@konbini/protocol'
import type { NodeRow } from './db/meta-store.ts'

/** A node as clients see it, with liveness and score computed for this request. */
export function toNodeInfo(row: NodeRow, now: number, liveSeconds: number, region?: string, extraBytes = 0): NodeInfo {
  const live = now - row.lastSeen <= liveSeconds
  const free = row.capacityBytes - row.usedBytes - extraBytes
  // a node that failed storage challenges ranks lower, and past the limit not at all
  const score =
    auditFactor(row.auditFailures) *
    scoreNode({
      throughputBps: row.throughputBps,
      latencyMs: row.latencyMs,
      successRate: row.successRate,
      activeTransfers: row.activeTransfers,
      sameRegion: region !== undefined && region === row.region,
      freeFraction: row.capacityBytes > 0 ? free / row.capacityBytes : 0,
    })
  return {
    peerId: row.peerId,
    multiaddrs: row.multiaddrs,
    httpUrl: row.httpUrl,
    operator: row.operator,
    kind: row.kind,
    region: row.region,
    capacityBytes: row.capacityBytes,
    usedBytes: row.usedBytes,
    egressCapBps: row.egressCapBps,
    activeTransfers: row.activeTransfers,
    lastSeen: row.lastSeen,
    live,
    throughputBps: row.throughputBps,
    latencyMs: row.latencyMs,
    successRate: row.successRate,
    auditFailures: row.auditFailures,
    score,
  }
}

/** Live nodes best first. */
export function rankLive(rows: NodeRow[], now: number, liveSeconds: number, region?: string, extraBytes = 0): NodeInfo[] {
  return rows
    .map((r) => toNodeInfo(r, now, liveSeconds, region, extraBytes))
    .filter((n) => n.live && n.score > 0)
    .sort((a, b) => b.score - a.score)
}
