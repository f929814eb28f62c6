import type { FileRow, NodeInput, NodeRow, TransferSample, UploadInput, UploadReportInput, UploadRow } from './meta-rows.ts'
import { migrate } from './migrations.ts'
import * as cdn from './cdn-queries.ts'
import * as light from './light-queries.ts'
import * as nodes from './node-queries.ts'
import type { SqlDatabase } from './sql.ts'
import type { CompleteUploadInput } from './upload-queries.ts'
import * as repair from './repair-queries.ts'
import * as uploads from './upload-queries.ts'

export type * from './meta-rows.ts'
export type { CacheCandidate } from './cdn-queries.ts'
export type { HolderState, RootState } from './repair-queries.ts'
export type { CompleteUploadInput } from './upload-queries.ts'

interface FileRecord {
  owner: string
  root: string
  name: string
  size: number
  created_at: number
  public: number
}

/**
 * The meta node's state: nodes, upload tickets and their reports, pinned files, holders and
 * used nonces, on SQLite or PostgreSQL. Times are integer unix seconds.
 */
export class MetaStore {
  readonly db: SqlDatabase

  constructor(db: SqlDatabase) {
    this.db = db
  }

  /** Applies pending migrations, then returns a store over `db`. */
  static async open(db: SqlDatabase): Promise<MetaStore> {
    await migrate(db)
    return new MetaStore(db)
  }

  /** Records a node's heartbeat; keeps what was measured about it (throughput, latency…). False when its `seq` was no newer than the stored one. */
  upsertNode(n: NodeInput, now: number): Promise<boolean> {
    return nodes.upsertNode(this.db, n, now)
  }

  /** Records that `url` answered the identity challenge with `peerId`'s key. */
  setVerifiedUrl(peerId: string, url: string): Promise<void> {
    return nodes.setVerifiedUrl(this.db, peerId, url)
  }

  /** Every known node, by peer id. */
  listNodes(): Promise<NodeRow[]> {
    return nodes.listNodes(this.db)
  }

  /** One node, or undefined when it never sent a heartbeat. */
  getNode(peerId: string): Promise<NodeRow | undefined> {
    return nodes.getNode(this.db, peerId)
  }

  /**
   * Folds one measured transfer into a node's averages (EWMA, weight 0.3; the first throughput
   * or latency sample replaces the unmeasured 0; `transfers` += 1). Returns the updated node,
   * or undefined when the node is unknown.
   */
  recordTransfer(peerId: string, sample: TransferSample): Promise<NodeRow | undefined> {
    return nodes.recordTransfer(this.db, peerId, sample)
  }

  /** Stores a newly issued upload ticket. Throws if the ticket id exists. */
  createUpload(u: UploadInput): Promise<void> {
    return uploads.createUpload(this.db, u)
  }

  /** An upload ticket with the storage reports received for it, or undefined. */
  getUpload(ticketId: string): Promise<UploadRow | undefined> {
    return uploads.getUpload(this.db, ticketId)
  }

  /**
   * Records a node's storage report (reporting again replaces it, so it counts once) and
   * returns the peer ids that reported this ticket with this same root.
   */
  addUploadReport(r: UploadReportInput): Promise<string[]> {
    return uploads.addUploadReport(this.db, r)
  }

  /** Records a storage report that failed its proof (it never counts for the upload). */
  addFailedReport(r: { ticketId: string; peerId: string; root: string; reportedAt: number }): Promise<void> {
    return uploads.addFailedReport(this.db, r)
  }

  /**
   * Completes an upload and pins its file with its holders, in one transaction. True only for
   * the call that completed it; false when unknown or already completed (then, if it was
   * completed with this same root, the holders are still added).
   */
  completeUpload(c: CompleteUploadInput): Promise<boolean> {
    return uploads.completeUpload(this.db, c)
  }

  /** Records that these nodes hold `root` (a late replica of a completed upload). */
  addHolders(root: string, peerIds: readonly string[], now: number): Promise<void> {
    return this.db.transaction((tx) => uploads.addHolders(tx, root, peerIds, now))
  }

  /** An owner's files, newest first, each with its holders. */
  async listFiles(owner: string): Promise<FileRow[]> {
    const files = await this.db.query<FileRecord>('SELECT * FROM files WHERE owner = $1 ORDER BY created_at DESC, root', [owner])
    const holders = await this.db.query<HolderRecord>(
      `SELECT h.root, h.peer_id, h.role FROM holders h JOIN files f ON f.root = h.root
       WHERE f.owner = $1 ORDER BY h.since, h.peer_id`,
      [owner],
    )
    return files.map((f) =>
      toFileRow(
        f,
        holders.filter((h) => h.root === f.root),
      ),
    )
  }

  /** One of an owner's files, or undefined when the owner does not pin it. */
  async getFile(owner: string, root: string): Promise<FileRow | undefined> {
    const [f] = await this.db.query<FileRecord>('SELECT * FROM files WHERE owner = $1 AND root = $2', [owner, root])
    return f === undefined ? undefined : toFileRow(f, await this.holderRecords(root))
  }

  /** A file with this root pinned by anyone (the earliest pin), for finding providers. */
  async getAnyFile(root: string): Promise<FileRow | undefined> {
    const [f] = await this.db.query<FileRecord>('SELECT * FROM files WHERE root = $1 ORDER BY created_at, owner LIMIT 1', [root])
    return f === undefined ? undefined : toFileRow(f, await this.holderRecords(root))
  }

  private holderRecords(root: string): Promise<HolderRecord[]> {
    return this.db.query<HolderRecord>('SELECT root, peer_id, role FROM holders WHERE root = $1 ORDER BY since, peer_id', [root])
  }

  /** Unpins a file for one owner; other owners' pins and the holders stay. */
  async removeFile(owner: string, root: string): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM files WHERE owner = $1 AND root = $2', [owner, root])
    return changes > 0
  }

  /**
   * Peer ids of every node holding a root (replicas and caches), oldest holder first — a light
   * peer only once its claimed holding passed a spot check.
   */
  async holdersOf(root: string): Promise<string[]> {
    const rows = await this.db.query<{ peer_id: string }>(
      `SELECT h.peer_id FROM holders h LEFT JOIN nodes n ON n.peer_id = h.peer_id
       WHERE h.root = $1 AND NOT (COALESCE(n.kind, 'full') = 'light' AND h.audited_at = 0) ORDER BY h.since, h.peer_id`,
      [root],
    )
    return rows.map((row) => row.peer_id)
  }

  /** A light peer's claimed holdings not proven yet and without a fresh spot check (at most `limit`). */
  unprovenHoldings(peerId: string, staleBefore: number, limit: number): Promise<string[]> {
    return light.unprovenHoldings(this.db, peerId, staleBefore, limit)
  }

  setSpotCheck(root: string, peerId: string, check: light.OpenSpotCheck): Promise<void> {
    return light.setSpotCheck(this.db, root, peerId, check)
  }

  spotCheckOf(root: string, peerId: string): Promise<light.OpenSpotCheck | undefined> {
    return light.spotCheckOf(this.db, root, peerId)
  }

  markHoldingProven(root: string, peerId: string, now: number): Promise<void> {
    return light.markHoldingProven(this.db, root, peerId, now)
  }

  /** Spends a signed request's nonce: false when it was already used (a replay). */
  async useNonce(owner: string, nonce: string, expiresAt: number, now: number): Promise<boolean> {
    // An expired nonce's signature is refused anyway, so its row is no longer needed.
    await this.db.run('DELETE FROM used_nonces WHERE expires_at <= $1', [now])
    const { changes } = await this.db.run('INSERT INTO used_nonces (owner, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT (owner, nonce) DO NOTHING', [
      owner,
      nonce,
      expiresAt,
    ])
    return changes === 1
  }

  /** The upload an owner already placed under this idempotency key. */
  getUploadByRequest(owner: string, requestId: string): Promise<UploadRow | undefined> {
    return uploads.getUploadByRequest(this.db, owner, requestId)
  }

  /** The newest unfinished upload of this name and size by this owner since `since`. */
  findResumableUpload(owner: string, name: string, size: number, since: number): Promise<UploadRow | undefined> {
    return uploads.findResumableUpload(this.db, owner, name, size, since)
  }

  /** Every pinned root with its holders, for the repair loop. */
  rootStates(): Promise<repair.RootState[]> {
    return repair.rootStates(this.db)
  }

  setHolderRole(root: string, peerId: string, role: 'replica' | 'cache'): Promise<void> {
    return repair.setHolderRole(this.db, root, peerId, role)
  }

  /** Takes a root's repair lease unless another meta process holds an unexpired one. */
  tryLease(root: string, holder: string, now: number, expiresAt: number): Promise<boolean> {
    return repair.tryLease(this.db, root, holder, now, expiresAt)
  }

  /** Replica holders on full nodes, least recently audited first. */
  auditTargets(limit: number): Promise<repair.AuditTarget[]> {
    return repair.auditTargets(this.db, limit)
  }

  /** Records a storage audit's outcome (see repair-queries `recordAudit`). */
  recordAudit(a: { root: string; peerId: string; passed: boolean; dropReplica: boolean; now: number; banAt?: number }): Promise<void> {
    return repair.recordAudit(this.db, a)
  }

  releaseLease(root: string, holder: string): Promise<void> {
    return repair.releaseLease(this.db, root, holder)
  }

  /** Makes a light peer's cached holdings the public, non-denylisted roots of `roots`; returns those kept. */
  setLightHoldings(peerId: string, roots: readonly string[], now: number): Promise<string[]> {
    return light.setLightHoldings(this.db, peerId, roots, now)
  }

  /** A light peer left: its cached holdings are forgotten and it is no longer live. */
  leaveLightPeer(peerId: string): Promise<void> {
    return light.leaveLightPeer(this.db, peerId)
  }

  forgetLightPeers(before: number): Promise<number> {
    return light.forgetLightPeers(this.db, before)
  }

  /** Whether anyone pinned `root` as public. */
  isPublicRoot(root: string): Promise<boolean> {
    return light.isPublicRoot(this.db, root)
  }

  /** Whether `operator` (lower-case) runs a light peer. */
  isLightOperator(operator: string): Promise<boolean> {
    return light.isLightOperator(this.db, operator)
  }

  /** Counts one provider request for `root` (decaying by half every `halfLifeSeconds`). */
  bumpPopularity(root: string, now: number, halfLifeSeconds: number): Promise<void> {
    return cdn.bumpPopularity(this.db, root, now, halfLifeSeconds)
  }

  /** A root's decayed request count now. */
  popularityOf(root: string, now: number, halfLifeSeconds: number): Promise<number> {
    return cdn.popularityOf(this.db, root, now, halfLifeSeconds)
  }

  /** The most requested public roots a light peer could cache (see {@link cdn.cacheCandidates}). */
  cacheCandidates(q: Parameters<typeof cdn.cacheCandidates>[1]): Promise<cdn.CacheCandidate[]> {
    return cdn.cacheCandidates(this.db, q)
  }

  /** Every denylisted root. */
  denylist(): Promise<string[]> {
    return cdn.denylist(this.db)
  }

  /** The public, non-denylisted roots a node holds, newest first. */
  publicRootsHeldBy(peerId: string, limit: number): Promise<string[]> {
    return cdn.publicRootsHeldBy(this.db, peerId, limit)
  }

  isDenied(root: string): Promise<boolean> {
    return cdn.isDenied(this.db, root)
  }

  /** Denylists a root and forgets light peers' copies of it. */
  deny(root: string, by: string, now: number): Promise<void> {
    return cdn.deny(this.db, root, by, now)
  }

  allow(root: string): Promise<void> {
    return cdn.allow(this.db, root)
  }
}

interface HolderRecord {
  root: string
  peer_id: string
  role: string
}

/** A file row: `holders` are the replicas counted toward R, `cached` the extra copies the meta node knows of. */
function toFileRow(f: FileRecord, holders: HolderRecord[]): FileRow {
  return {
    owner: f.owner,
    root: f.root,
    name: f.name,
    size: f.size,
    createdAt: f.created_at,
    holders: holders.filter((h) => h.role !== 'cache').map((h) => h.peer_id),
    cached: holders.filter((h) => h.role === 'cache').map((h) => h.peer_id),
    public: Number(f.public) === 1,
  }
}
