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
