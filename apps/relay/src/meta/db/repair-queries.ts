import type { SqlDatabase } from './sql.ts'

/** A holder of a root as the repair loop sees it. */
export interface HolderState {
  peerId: string
  role: 'replica' | 'cache'
  /** Last heartbeat (unix seconds), or 0 for a node never seen. */
  lastSeen: number
}

/** A pinned root with its holders and the replica count its uploads asked for. */
export interface RootState {
  root: string
  owner: string
  name: string
  size: number
  replicas: number
  holders: HolderState[]
}

/** Every pinned root with its holders (one row per root; the largest replica count of its uploads). */
export async function rootStates(db: SqlDatabase): Promise<RootState[]> {
  const files = await db.query<{ root: string; owner: string; name: string; size: number; replicas: number | null }>(
    `SELECT f.root, MIN(f.owner) AS owner, MIN(f.name) AS name, MAX(f.size) AS size,
       (SELECT MAX(u.replicas) FROM uploads u WHERE u.root = f.root AND u.purpose = 'upload') AS replicas
     FROM files f GROUP BY f.root`,
  )
  const holders = await db.query<{ root: string; peer_id: string; role: string; last_seen: number | null }>(
    'SELECT h.root, h.peer_id, h.role, n.last_seen FROM holders h LEFT JOIN nodes n ON n.peer_id = h.peer_id',
  )
  const byRoot = new Map<string, HolderState[]>()
  for (const h of holders) {
    const list = byRoot.get(h.root) ?? []
    list.push({ peerId: h.peer_id, role: h.role === 'cache' ? 'cache' : 'replica', lastSeen: h.last_seen ?? 0 })
    byRoot.set(h.root, list)
  }
  return files.map((f) => ({ ...f, replicas: f.replicas ?? 3, holders: byRoot.get(f.root) ?? [] }))
}

/** Marks a holder's copy as replica (counted toward R) or cache (extra, known, not counted). */
export async function setHolderRole(db: SqlDatabase, root: string, peerId: string, role: 'replica' | 'cache'): Promise<void> {
  await db.run('UPDATE holders SET role = $3 WHERE root = $1 AND peer_id = $2', [root, peerId, role])
}

/**
 * Takes the repair lease of a root for `holder` until `expiresAt`, if nobody else holds an
 * unexpired one. One statement, so two meta processes can never both win.
 */
export async function tryLease(db: SqlDatabase, root: string, holder: string, now: number, expiresAt: number): Promise<boolean> {
  const { changes } = await db.run(
    `INSERT INTO repair_leases (root, holder, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT (root) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
     WHERE repair_leases.expires_at < $4 OR repair_leases.holder = excluded.holder`,
    [root, holder, expiresAt, now],
  )
  return changes > 0
}

export async function releaseLease(db: SqlDatabase, root: string, holder: string): Promise<void> {
  await db.run('DELETE FROM repair_leases WHERE root = $1 AND holder = $2', [root, holder])
}

/** A holder to audit: a replica on a full node with a URL. */
export interface AuditTarget {
  root: string
  peerId: string
  httpUrl: string
  auditedAt: number
}

/** Replica holders on full nodes, least recently audited first (at most `limit`). */
export async function auditTargets(db: SqlDatabase, limit: number): Promise<AuditTarget[]> {
  const rows = await db.query<{ root: string; peer_id: string; http_url: string; audited_at: number }>(
    `SELECT h.root, h.peer_id, n.http_url, h.audited_at FROM holders h JOIN nodes n ON n.peer_id = h.peer_id
     WHERE h.role = 'replica' AND n.kind = 'full' AND n.http_url <> ''
     ORDER BY h.audited_at, h.since LIMIT $1`,
    [limit],
  )
  return rows.map((r) => ({ root: r.root, peerId: r.peer_id, httpUrl: r.http_url, auditedAt: Number(r.audited_at) }))
}

/**
 * Records an audit's outcome: a pass stamps the holder and counts for the node; a failure counts
 * against the node (raising its failures to at least `banAt`) and, when `dropReplica`, forgets the
 * holder (the repair loop replaces it).
 */
export async function recordAudit(
  db: SqlDatabase,
  a: { root: string; peerId: string; passed: boolean; dropReplica: boolean; now: number; banAt?: number },
): Promise<void> {
  await db.transaction(async (tx) => {
    if (a.passed) {
      await tx.run('UPDATE holders SET audited_at = $3 WHERE root = $1 AND peer_id = $2', [a.root, a.peerId, a.now])
      await tx.run('UPDATE nodes SET audits_passed = audits_passed + 1 WHERE peer_id = $1', [a.peerId])
      return
    }
    // a lie (a report of blocks the node does not have) counts as every failure allowed at once
    await tx.run('UPDATE nodes SET audit_failures = CASE WHEN audit_failures + 1 > $2 THEN audit_failures + 1 ELSE $2 END WHERE peer_id = $1', [
      a.peerId,
      a.banAt ?? 0,
    ])
    if (a.dropReplica) await tx.run('DELETE FROM holders WHERE root = $1 AND peer_id = $2', [a.root, a.peerId])
    else await tx.run('UPDATE holders SET audited_at = $3 WHERE root = $1 AND peer_id = $2', [a.root, a.peerId, a.now])
  })
}
