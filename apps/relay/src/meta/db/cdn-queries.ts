import type { SqlDatabase } from './sql.ts'

/** A public root worth caching, with its decayed request count. */
export interface CacheCandidate {
  root: string
  size: number
  /** Requests, each weighted by 2^(−age / half-life). */
  score: number
  /** Live light peers holding it now. */
  lightCopies: number
}

/**
 * Counts one provider request for `root`: the stored score decays by half every `halfLifeSeconds`
 * and gains 1. One upsert, so concurrent meta processes never lose a count.
 */
export async function bumpPopularity(db: SqlDatabase, root: string, now: number, halfLifeSeconds: number): Promise<void> {
  await db.run(
    `INSERT INTO popularity (root, score, updated_at) VALUES ($1, 1, $2)
     ON CONFLICT (root) DO UPDATE SET
       score = CASE WHEN excluded.updated_at > popularity.updated_at
         THEN popularity.score * POWER(0.5, CAST(excluded.updated_at - popularity.updated_at AS DOUBLE PRECISION) / $3) + 1
         ELSE popularity.score + 1 END,
       updated_at = CASE WHEN excluded.updated_at > popularity.updated_at THEN excluded.updated_at ELSE popularity.updated_at END`,
    [root, now, halfLifeSeconds],
  )
}

/** A root's decayed request count now (0 when never requested). */
export async function popularityOf(db: SqlDatabase, root: string, now: number, halfLifeSeconds: number): Promise<number> {
  const [row] = await db.query<{ score: number; updated_at: number }>('SELECT score, updated_at FROM popularity WHERE root = $1', [root])
  return row === undefined ? 0 : row.score * 0.5 ** (Math.max(0, now - row.updated_at) / halfLifeSeconds)
}

/**
 * The most requested public, non-denylisted roots `peerId` does not hold and at least one live
 * full node (seen since `liveSince`) holds, most requested first, at most `limit`.
 */
export async function cacheCandidates(
  db: SqlDatabase,
  q: { peerId: string; now: number; liveSince: number; halfLifeSeconds: number; limit: number },
): Promise<CacheCandidate[]> {
  const rows = await db.query<{ root: string; size: number; score: number; updated_at: number; light_copies: number }>(
    `SELECT p.root, p.score, p.updated_at, MAX(f.size) AS size,
       (SELECT COUNT(*) FROM holders h JOIN nodes n ON n.peer_id = h.peer_id
        WHERE h.root = p.root AND n.kind = 'light' AND n.last_seen >= $2) AS light_copies
     FROM popularity p JOIN files f ON f.root = p.root
     WHERE f.public = 1
       AND NOT EXISTS (SELECT 1 FROM denylist d WHERE d.root = p.root)
       AND NOT EXISTS (SELECT 1 FROM holders h WHERE h.root = p.root AND h.peer_id = $1)
       AND EXISTS (SELECT 1 FROM holders h JOIN nodes n ON n.peer_id = h.peer_id
                   WHERE h.root = p.root AND n.kind = 'full' AND n.last_seen >= $2)
     GROUP BY p.root, p.score, p.updated_at
     ORDER BY p.score * POWER(0.5, CAST($3 - p.updated_at AS DOUBLE PRECISION) / $4) DESC, p.root
     LIMIT $5`,
    [q.peerId, q.liveSince, q.now, q.halfLifeSeconds, q.limit],
  )
  return rows.map((r) => ({
    root: r.root,
    size: Number(r.size),
    score: r.score * 0.5 ** (Math.max(0, q.now - r.updated_at) / q.halfLifeSeconds),
    lightCopies: Number(r.light_copies),
  }))
}

/** Every denylisted root, oldest first. */
export async function denylist(db: SqlDatabase): Promise<string[]> {
  const rows = await db.query<{ root: string }>('SELECT root FROM denylist ORDER BY added_at, root')
  return rows.map((r) => r.root)
}

/** Whether `root` is denylisted. */
export async function isDenied(db: SqlDatabase, root: string): Promise<boolean> {
  return (await db.query('SELECT 1 AS one FROM denylist WHERE root = $1', [root])).length > 0
}

/** Denylists a root and forgets every light peer's copy of it. */
export async function deny(db: SqlDatabase, root: string, by: string, now: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.run('INSERT INTO denylist (root, added_by, added_at) VALUES ($1, $2, $3) ON CONFLICT (root) DO NOTHING', [root, by, now])
    await tx.run(
      `DELETE FROM holders WHERE root = $1 AND role = 'cache'
       AND peer_id IN (SELECT peer_id FROM nodes WHERE kind = 'light')`,
      [root],
    )
  })
}

/** Takes a root off the denylist. */
export async function allow(db: SqlDatabase, root: string): Promise<void> {
  await db.run('DELETE FROM denylist WHERE root = $1', [root])
}

/** The public, non-denylisted roots a node holds, newest first: what its gateway and Bitswap may serve. */
export async function publicRootsHeldBy(db: SqlDatabase, peerId: string, limit: number): Promise<string[]> {
  const rows = await db.query<{ root: string }>(
    `SELECT h.root FROM holders h
     WHERE h.peer_id = $1
       AND EXISTS (SELECT 1 FROM files f WHERE f.root = h.root AND f.public = 1)
       AND NOT EXISTS (SELECT 1 FROM denylist d WHERE d.root = h.root)
     ORDER BY h.since DESC, h.root LIMIT $2`,
    [peerId, limit],
  )
  return rows.map((r) => r.root)
}
