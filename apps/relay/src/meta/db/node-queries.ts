import { PRIOR_THROUGHPUT_BPS, SAMPLE_WEIGHT } from '@konbini/protocol'
import { type NodeInput, type NodeRecord, type NodeRow, type TransferSample, toNodeRow } from './meta-rows.ts'
import type { SqlDatabase } from './sql.ts'

/**
 * Moves an average toward `sample` by `weight`. An unmeasured average (0) starts from `prior`,
 * except that a full-weight first sample replaces it outright.
 */
function fold(previous: number, sample: number, weight: number, prior: number): number {
  if (previous <= 0 && weight >= SAMPLE_WEIGHT) return sample
  return (previous > 0 ? previous : prior) * (1 - weight) + sample * weight
}

/**
 * Records a node's heartbeat; keeps what was measured about it (throughput, latency…). With a
 * `seq`, only when it is above the stored one: false when the heartbeat was no newer (a replay).
 */
export async function upsertNode(db: SqlDatabase, n: NodeInput, now: number): Promise<boolean> {
  const { changes } = await db.run(
    `INSERT INTO nodes (peer_id, operator, kind, multiaddrs, http_url, region, capacity_bytes,
       used_bytes, egress_cap_bps, active_transfers, last_seen, donor, heartbeat_seq)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (peer_id) DO UPDATE SET operator = excluded.operator, kind = excluded.kind,
       multiaddrs = excluded.multiaddrs, http_url = excluded.http_url, region = excluded.region,
       capacity_bytes = excluded.capacity_bytes, used_bytes = excluded.used_bytes,
       egress_cap_bps = excluded.egress_cap_bps, active_transfers = excluded.active_transfers,
       last_seen = excluded.last_seen, donor = excluded.donor,
       heartbeat_seq = CASE WHEN excluded.heartbeat_seq = 0 THEN nodes.heartbeat_seq ELSE excluded.heartbeat_seq END
     WHERE excluded.heartbeat_seq = 0 OR nodes.heartbeat_seq < excluded.heartbeat_seq`,
    [
      n.peerId,
      n.operator,
      n.kind,
      JSON.stringify(n.multiaddrs),
      n.httpUrl ?? '',
      n.region,
      n.capacityBytes,
      n.usedBytes,
      n.egressCapBps,
      n.activeTransfers,
      now,
      n.donor === undefined ? null : JSON.stringify(n.donor),
      n.seq ?? 0,
    ],
  )
  return changes > 0
}

/** Records that `url` answered the identity challenge with `peerId`'s key. */
export async function setVerifiedUrl(db: SqlDatabase, peerId: string, url: string): Promise<void> {
  await db.run('UPDATE nodes SET verified_url = $2 WHERE peer_id = $1', [peerId, url])
}

/** Every known node, by peer id. */
export async function listNodes(db: SqlDatabase): Promise<NodeRow[]> {
  const rows = await db.query<NodeRecord>('SELECT * FROM nodes ORDER BY peer_id')
  return rows.map(toNodeRow)
}

/** One node, or undefined when it never sent a heartbeat. */
export async function getNode(db: SqlDatabase, peerId: string): Promise<NodeRow | undefined> {
  const [row] = await db.query<NodeRecord>('SELECT * FROM nodes WHERE peer_id = $1', [peerId])
  return row === undefined ? undefined : toNodeRow(row)
}

/**
 * Folds one measured transfer into a node's averages (by the sample's weight, 0.3 by default; a
 * full-weight first throughput or latency sample replaces the unmeasured 0, a lighter one moves
 * from the prior). Returns the updated node, or undefined if unknown.
 */
export async function recordTransfer(db: SqlDatabase, peerId: string, s: TransferSample): Promise<NodeRow | undefined> {
  return db.transaction(async (tx) => {
    // SQLite's BEGIN IMMEDIATE already excludes other writers; PostgreSQL needs the row lock.
    const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : ''
    const [row] = await tx.query<NodeRecord>(`SELECT * FROM nodes WHERE peer_id = $1${lock}`, [peerId])
    if (row === undefined) return undefined
    const node = toNodeRow(row)
    const weight = s.weight ?? SAMPLE_WEIGHT
    if (s.bytes > 0) node.throughputBps = fold(node.throughputBps, s.bytes / (Math.max(s.millis, 1) / 1000), weight, PRIOR_THROUGHPUT_BPS)
    if (s.firstByteMs !== undefined) node.latencyMs = fold(node.latencyMs, s.firstByteMs, weight, 0)
    const attempts = s.blocks + s.failures
    // Not fold(): it reads 0 as "unmeasured", but a success rate of 0 is a measurement.
    if (attempts > 0) node.successRate += (s.blocks / attempts - node.successRate) * weight
    node.transfers += 1
    await tx.run('UPDATE nodes SET throughput_bps = $2, latency_ms = $3, success_rate = $4, transfers = $5 WHERE peer_id = $1', [
      peerId,
      node.throughputBps,
      node.latencyMs,
      node.successRate,
      node.transfers,
    ])
    return node
  })
}
