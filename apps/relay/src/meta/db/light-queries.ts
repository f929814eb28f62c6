import type { SqlDatabase } from './sql.ts'

/** Roots per `IN (…)` list: lists are padded to this size so every query has one shape (one prepared statement). */
const IN_CHUNK = 64

/** The roots among `roots` that light peers may hold: pinned as public by someone, and not denylisted. */
export async function cacheableRoots(db: SqlDatabase, roots: readonly string[]): Promise<string[]> {
  const unique = [...new Set(roots)]
  const placeholders = Array.from({ length: IN_CHUNK }, (_, i) => `$${i + 1}`).join(', ')
  const sql = `SELECT DISTINCT f.root FROM files f WHERE f.public = 1 AND f.root IN (${placeholders})
    AND NOT EXISTS (SELECT 1 FROM denylist d WHERE d.root = f.root)`
  const kept = new Set<string>()
  for (let i = 0; i < unique.length; i += IN_CHUNK) {
    const chunk = unique.slice(i, i + IN_CHUNK)
    const padded = Array.from({ length: IN_CHUNK }, (_, j) => chunk[j] ?? chunk[0])
    for (const row of await db.query<{ root: string }>(sql, padded)) kept.add(row.root)
  }
  return unique.filter((root) => kept.has(root))
}

/**
 * Makes a light peer's cached holdings exactly the cacheable roots of `roots` (its heartbeat's
 * authoritative `holds`), in one transaction. Replica rows are never touched. Returns the roots kept.
 */
export async function setLightHoldings(db: SqlDatabase, peerId: string, roots: readonly string[], now: number): Promise<string[]> {
  return db.transaction(async (tx) => {
    const wanted = roots.length === 0 ? [] : await cacheableRoots(tx, roots)
    const rows = await tx.query<{ root: string }>("SELECT root FROM holders WHERE peer_id = $1 AND role = 'cache'", [peerId])
    const current = new Set(rows.map((r) => r.root))
    const keep = new Set(wanted)
    for (const root of current) if (!keep.has(root)) await tx.run('DELETE FROM holders WHERE root = $1 AND peer_id = $2', [root, peerId])
    for (const root of wanted) {
      if (current.has(root)) continue
      await tx.run("INSERT INTO holders (root, peer_id, since, role) VALUES ($1, $2, $3, 'cache') ON CONFLICT (root, peer_id) DO NOTHING", [root, peerId, now])
    }
    return wanted
  })
}

/** A light peer left: forget its cached holdings and mark it unseen (not live) at once. */
export async function leaveLightPeer(db: SqlDatabase, peerId: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.run("DELETE FROM holders WHERE peer_id = $1 AND role = 'cache'", [peerId])
    await tx.run("UPDATE nodes SET last_seen = 0, active_transfers = 0 WHERE peer_id = $1 AND kind = 'light'", [peerId])
  })
}

/**
 * Forgets light peers unseen since `before` (tabs come and go; one that returns registers again
 * with its next heartbeat): their node rows and cache holdings. Returns how many were forgotten.
 */
export async function forgetLightPeers(db: SqlDatabase, before: number): Promise<number> {
  return db.transaction(async (tx) => {
    const gone = await tx.query<{ peer_id: string }>("SELECT peer_id FROM nodes WHERE kind = 'light' AND last_seen < $1", [before])
    for (const row of gone) {
      await tx.run('DELETE FROM holders WHERE peer_id = $1', [row.peer_id])
      await tx.run('DELETE FROM nodes WHERE peer_id = $1', [row.peer_id])
    }
    return gone.length
  })
}

/** Whether anyone pinned `root` as public. */
export async function isPublicRoot(db: SqlDatabase, root: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 AS one FROM files WHERE root = $1 AND public = 1 LIMIT 1', [root])
  return rows.length > 0
}

/** Whether `operator` (lower-case) runs a light peer: its provider requests are cache fills, not demand. */
export async function isLightOperator(db: SqlDatabase, operator: string): Promise<boolean> {
  const rows = await db.query("SELECT 1 AS one FROM nodes WHERE kind = 'light' AND operator = $1 LIMIT 1", [operator])
  return rows.length > 0
}

/** An open spot check of a light peer's holding. */
export interface OpenSpotCheck {
  cid: string
  nonce: string
  expected: string
  issuedAt: number
}

/** A light peer's claimed holdings not proven yet whose spot check is absent or issued before `staleBefore`. */
export async function unprovenHoldings(db: SqlDatabase, peerId: string, staleBefore: number, limit: number): Promise<string[]> {
  const rows = await db.query<{ root: string; challenge: string }>(
    "SELECT root, challenge FROM holders WHERE peer_id = $1 AND role = 'cache' AND audited_at = 0 ORDER BY since, root",
    [peerId],
  )
  return rows
    .filter((r) => r.challenge === '' || (JSON.parse(r.challenge) as OpenSpotCheck).issuedAt < staleBefore)
    .slice(0, limit)
    .map((r) => r.root)
}

export async function setSpotCheck(db: SqlDatabase, root: string, peerId: string, check: OpenSpotCheck): Promise<void> {
  await db.run('UPDATE holders SET challenge = $3 WHERE root = $1 AND peer_id = $2', [root, peerId, JSON.stringify(check)])
}

export async function spotCheckOf(db: SqlDatabase, root: string, peerId: string): Promise<OpenSpotCheck | undefined> {
  const [row] = await db.query<{ challenge: string }>("SELECT challenge FROM holders WHERE root = $1 AND peer_id = $2 AND role = 'cache'", [root, peerId])
  return row === undefined || row.challenge === '' ? undefined : (JSON.parse(row.challenge) as OpenSpotCheck)
}

/** The holding passed its spot check: the light peer is ranked as a provider of the root from now on. */
export async function markHoldingProven(db: SqlDatabase, root: string, peerId: string, now: number): Promise<void> {
  await db.run("UPDATE holders SET audited_at = $3, challenge = '' WHERE root = $1 AND peer_id = $2", [root, peerId, now])
}
