import { parseStringArray, type UploadInput, type UploadReportInput, type UploadRow } from './meta-rows.ts'
import type { SqlDatabase } from './sql.ts'

/** What completes an upload: the root the nodes agreed on and who holds it. */
export interface CompleteUploadInput {
  ticketId: string
  root: string
  holders: string[]
  /** Unix seconds. */
  now: number
}

interface UploadRecord {
  ticket_id: string
  owner: string
  name: string
  size: number
  replicas: number
  nodes: string
  created_at: number
  expires_at: number
  root: string | null
  completed_at: number | null
  request_id: string | null
  ticket_json: string | null
  purpose: string
  public: number
}

/** Stores a newly issued upload ticket. Throws if the ticket id exists. */
export async function createUpload(db: SqlDatabase, u: UploadInput): Promise<void> {
  await db.run(
    `INSERT INTO uploads (ticket_id, owner, name, size, replicas, nodes, created_at, expires_at, request_id, ticket_json, purpose, public)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      u.ticketId,
      u.owner,
      u.name,
      u.size,
      u.replicas,
      JSON.stringify(u.nodes),
      u.createdAt,
      u.expiresAt,
      u.requestId ?? null,
      u.ticketJson ?? null,
      u.purpose ?? 'upload',
      u.public ? 1 : 0,
    ],
  )
}

/** The upload an owner already placed under this idempotency key, if any. */
export async function getUploadByRequest(db: SqlDatabase, owner: string, requestId: string): Promise<UploadRow | undefined> {
  const [u] = await db.query<{ ticket_id: string }>('SELECT ticket_id FROM uploads WHERE owner = $1 AND request_id = $2', [owner, requestId])
  return u ? getUpload(db, u.ticket_id) : undefined
}

/** The newest unfinished upload of the same name and size by this owner since `since`: a resume candidate. */
export async function findResumableUpload(db: SqlDatabase, owner: string, name: string, size: number, since: number): Promise<UploadRow | undefined> {
  const [u] = await db.query<{ ticket_id: string }>(
    `SELECT ticket_id FROM uploads WHERE owner = $1 AND name = $2 AND size = $3 AND created_at >= $4
       AND completed_at IS NULL AND purpose = 'upload' ORDER BY created_at DESC LIMIT 1`,
    [owner, name, size, since],
  )
  return u ? getUpload(db, u.ticket_id) : undefined
}

/** An upload ticket with the storage reports received for it. */
export async function getUpload(db: SqlDatabase, ticketId: string): Promise<UploadRow | undefined> {
  const [u] = await db.query<UploadRecord>('SELECT * FROM uploads WHERE ticket_id = $1', [ticketId])
  if (u === undefined) return undefined
  const reports = await db.query<{ peer_id: string; root: string; blocks: number; bytes: number; failed: number }>(
    'SELECT peer_id, root, blocks, bytes, failed FROM upload_reports WHERE ticket_id = $1 ORDER BY reported_at, peer_id',
    [ticketId],
  )
  const failed = (r: { failed: number }) => Number(r.failed) === 1
  return {
    ticketId: u.ticket_id,
    owner: u.owner,
    name: u.name,
    size: u.size,
    replicas: u.replicas,
    nodes: parseStringArray(u.nodes),
    createdAt: u.created_at,
    expiresAt: u.expires_at,
    root: u.root,
    completedAt: u.completed_at,
    requestId: u.request_id ?? undefined,
    ticketJson: u.ticket_json ?? undefined,
    purpose: u.purpose === 'repair' ? 'repair' : 'upload',
    public: Number(u.public) === 1,
    reports: reports.filter((r) => !failed(r)).map((r) => ({ peerId: r.peer_id, root: r.root, blocks: r.blocks, bytes: r.bytes })),
    failedNodes: reports.filter(failed).map((r) => r.peer_id),
  }
}

/**
 * Records a node's storage report (a node reporting again replaces its report) and returns
 * the peer ids that reported this ticket with this same root. The caller checks the ticket.
 */
export async function addUploadReport(db: SqlDatabase, r: UploadReportInput): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.run(
      `INSERT INTO upload_reports (ticket_id, peer_id, root, blocks, bytes, reported_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (ticket_id, peer_id) DO UPDATE SET root = excluded.root, blocks = excluded.blocks,
         bytes = excluded.bytes, reported_at = excluded.reported_at
       WHERE upload_reports.failed = 0`,
      [r.ticketId, r.peerId, r.root, r.blocks, r.bytes, r.reportedAt],
    )
    const rows = await tx.query<{ peer_id: string }>('SELECT peer_id FROM upload_reports WHERE ticket_id = $1 AND root = $2 AND failed = 0 ORDER BY peer_id', [
      r.ticketId,
      r.root,
    ])
    return rows.map((row) => row.peer_id)
  })
}

/**
 * Marks an upload complete and pins its file for the owner, with its holders, in one
 * transaction. Returns false when the ticket is unknown or was already completed, so a file
 * is recorded once even when two calls race; if it was completed with this same root, the
 * holders are still added.
 */
export async function completeUpload(db: SqlDatabase, c: CompleteUploadInput): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [u] = await tx.query<{ owner: string; name: string; size: number; purpose: string; public: number }>(
      `UPDATE uploads SET root = $2, completed_at = $3 WHERE ticket_id = $1 AND completed_at IS NULL
       RETURNING owner, name, size, purpose, public`,
      [c.ticketId, c.root, c.now],
    )
    if (u === undefined) {
      // A report racing the completion still gets its holder recorded when it agrees.
      const [done] = await tx.query<{ root: string | null }>('SELECT root FROM uploads WHERE ticket_id = $1', [c.ticketId])
      if (done !== undefined && done.root === c.root) await addHolders(tx, c.root, c.holders, c.now)
      return false
    }
    // a repair copy keeps the file's public flag; an owner's new upload sets it
    const publicFlag = u.purpose === 'repair' ? '' : ', public = excluded.public'
    await tx.run(
      `INSERT INTO files (owner, root, name, size, created_at, public) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (owner, root) DO UPDATE SET name = excluded.name, size = excluded.size${publicFlag}`,
      [u.owner, c.root, u.name, u.size, c.now, Number(u.public) === 1 ? 1 : 0],
    )
    await addHolders(tx, c.root, c.holders, c.now)
    return true
  })
}

/** Records that these nodes hold `root` (since `now`, unless they already did). */
export async function addHolders(db: SqlDatabase, root: string, peerIds: readonly string[], now: number): Promise<void> {
  for (const peerId of new Set(peerIds)) {
    await db.run("INSERT INTO holders (root, peer_id, since) VALUES ($1, $2, $3) ON CONFLICT (root, peer_id) DO UPDATE SET role = 'replica'", [
      root,
      peerId,
      now,
    ])
  }
}

/** Records that a node's storage report for this ticket failed its proof: it never counts for the upload. */
export async function addFailedReport(db: SqlDatabase, r: { ticketId: string; peerId: string; root: string; reportedAt: number }): Promise<void> {
  await db.run(
    `INSERT INTO upload_reports (ticket_id, peer_id, root, blocks, bytes, reported_at, failed)
     VALUES ($1, $2, $3, 0, 0, $4, 1)
     ON CONFLICT (ticket_id, peer_id) DO UPDATE SET failed = 1`,
    [r.ticketId, r.peerId, r.root, r.reportedAt],
  )
}
