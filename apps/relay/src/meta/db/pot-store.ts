import { paidTicketView, type SignedDownloadTicket, type SignedReceipt, type SignedSessionGrant, type SignedUploadTicket } from '@konbini/protocol'

/** A paid ticket of either kind, as signed by its meta node. */
export type SignedPaidTicket = SignedDownloadTicket | SignedUploadTicket
import type { SqlDatabase } from './sql.ts'

/** An epoch's life: receipts accepted while `open`; `closed` once its report and archive exist; `settled` once on chain. */
export type EpochState = 'open' | 'closed' | 'settled'

export interface EpochRow {
  epoch: number
  startsAt: number
  endsAt: number
  state: EpochState
  /** JSON of the computed report (state closed or settled). */
  report?: string
  /** JSON of the receipts archive. */
  archive?: string
  archiveCid?: string
  txHash?: string
  gasUsed?: number
}

interface RawEpoch {
  epoch: number
  starts_at: number
  ends_at: number
  state: EpochState
  report: string | null
  archive: string | null
  archive_cid: string | null
  tx_hash: string | null
  gas_used: number | null
}

function toEpoch(r: RawEpoch): EpochRow {
  return {
    epoch: r.epoch,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    state: r.state,
    ...(r.report !== null && { report: r.report }),
    ...(r.archive !== null && { archive: r.archive }),
    ...(r.archive_cid !== null && { archiveCid: r.archive_cid }),
    ...(r.tx_hash !== null && { txHash: r.tx_hash }),
    ...(r.gas_used !== null && { gasUsed: r.gas_used }),
  }
}

/** Proof of Traffic's state in the meta node's database: paid tickets, the latest receipt per (ticket, provider), epochs. */
export class PotStore {
  private readonly db: SqlDatabase
  private seq = Date.now() * 1000

  constructor(db: SqlDatabase) {
    this.db = db
  }

  async addTicket(signed: SignedPaidTicket): Promise<void> {
    const view = paidTicketView(signed)
    await this.db.run('INSERT INTO paid_tickets (id, epoch, payer, signed) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING', [
      view.id.toLowerCase(),
      view.epoch,
      view.payer.toLowerCase(),
      JSON.stringify(signed),
    ])
  }

  async getTicket(id: string): Promise<SignedPaidTicket | undefined> {
    const [row] = await this.db.query<{ signed: string }>('SELECT signed FROM paid_tickets WHERE id = $1', [id.toLowerCase()])
    return row === undefined ? undefined : (JSON.parse(row.signed) as SignedPaidTicket)
  }

  /** Keeps the receipt when it covers more bytes than the one held for its (ticket, provider); true when it did. */
  async putReceipt(signed: SignedReceipt, ticket: { payer: string }): Promise<boolean> {
    const r = signed.receipt
    // the first receipt's arrival fixes the pair's place in the counting order
    const { changes } = await this.db.run(
      `INSERT INTO receipts (ticket_id, provider, epoch, bytes, signature, payer, consumer, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (ticket_id, provider) DO UPDATE SET bytes = excluded.bytes, signature = excluded.signature
       WHERE excluded.bytes > receipts.bytes`,
      [r.ticket.toLowerCase(), r.provider, r.epoch, r.bytes, signed.signature, ticket.payer.toLowerCase(), r.consumer, this.seq++],
    )
    return changes > 0
  }

  /** The bytes the latest receipt of each provider of a ticket covers. */
  async receiptedBytes(ticketId: string): Promise<Map<string, number>> {
    const rows = await this.db.query<{ provider: string; bytes: number }>('SELECT provider, bytes FROM receipts WHERE ticket_id = $1', [ticketId.toLowerCase()])
    return new Map(rows.map((r) => [r.provider, Number(r.bytes)]))
  }

  /** An epoch's receipts in counting order. */
  async receiptsOf(epoch: number): Promise<SignedReceipt[]> {
    const rows = await this.db.query<{ ticket_id: string; provider: string; bytes: number; signature: string; consumer: string }>(
      'SELECT ticket_id, provider, bytes, signature, consumer FROM receipts WHERE epoch = $1 ORDER BY seq, ticket_id, provider',
      [epoch],
    )
    return rows.map((r) => ({ receipt: { ticket: r.ticket_id, consumer: r.consumer, provider: r.provider, epoch, bytes: r.bytes }, signature: r.signature }))
  }

  /** Tickets named by an epoch's receipts. */
  async ticketsOf(epoch: number): Promise<SignedPaidTicket[]> {
    const rows = await this.db.query<{ signed: string }>(
      'SELECT signed FROM paid_tickets WHERE id IN (SELECT DISTINCT ticket_id FROM receipts WHERE epoch = $1) ORDER BY id',
      [epoch],
    )
    return rows.map((r) => JSON.parse(r.signed) as SignedPaidTicket)
  }

  /** Bytes received in receipts of epochs from `sinceEpoch` on, for one payer. */
  async pendingBytesOf(payer: string, sinceEpoch: number): Promise<number> {
    const [row] = await this.db.query<{ total: number | null }>('SELECT SUM(bytes) AS total FROM receipts WHERE payer = $1 AND epoch >= $2', [
      payer.toLowerCase(),
      sinceEpoch,
    ])
    return Number(row?.total ?? 0)
  }

  /** Bytes each provider served in receipts of epochs from `sinceEpoch` on. */
  async pendingByProvider(sinceEpoch: number): Promise<Map<string, number>> {
    const rows = await this.db.query<{ provider: string; total: number }>(
      'SELECT provider, SUM(bytes) AS total FROM receipts WHERE epoch >= $1 GROUP BY provider',
      [sinceEpoch],
    )
    return new Map(rows.map((r) => [r.provider, Number(r.total)]))
  }

  /** Records a node's binding of its peer id to its operator (from a verified heartbeat). */
  async setBinding(peerId: string, operator: string, binding: string): Promise<void> {
    await this.db.run(
      `INSERT INTO node_bindings (peer_id, operator, binding) VALUES ($1, $2, $3)
       ON CONFLICT (peer_id) DO UPDATE SET operator = excluded.operator, binding = excluded.binding`,
      [peerId, operator.toLowerCase(), binding],
    )
  }

  async bindingsOf(peerIds: readonly string[]): Promise<Array<{ peerId: string; operator: string; binding: string }>> {
    if (peerIds.length === 0) return []
    const list = peerIds.map((_, i) => `$${i + 1}`).join(', ')
    const rows = await this.db.query<{ peer_id: string; operator: string; binding: string }>(
      `SELECT peer_id, operator, binding FROM node_bindings WHERE peer_id IN (${list}) ORDER BY peer_id`,
      peerIds,
    )
    return rows.map((r) => ({ peerId: r.peer_id, operator: r.operator, binding: r.binding }))
  }

  /** Peer ids bound to `operator`. */
  async peersOf(operator: string): Promise<string[]> {
    const rows = await this.db.query<{ peer_id: string }>('SELECT peer_id FROM node_bindings WHERE operator = $1', [operator.toLowerCase()])
    return rows.map((r) => r.peer_id)
  }

  /** Records that the meta node `address` answers at `url` (co-signers are found here). */
  async announceMeta(address: string, url: string, now: number): Promise<void> {
    await this.db.run(
      `INSERT INTO meta_peers (address, url, seen_at) VALUES ($1, $2, $3)
       ON CONFLICT (address) DO UPDATE SET url = excluded.url, seen_at = excluded.seen_at`,
      [address.toLowerCase(), url, now],
    )
  }

  async metaPeers(): Promise<Array<{ address: string; url: string }>> {
    return this.db.query<{ address: string; url: string }>('SELECT address, url FROM meta_peers ORDER BY address')
  }

  /** Keeps a wallet's grant to a session key (a later expiry replaces an earlier one). */
  async putGrant(signed: SignedSessionGrant): Promise<void> {
    const { grant } = signed
    await this.db.run(
      `INSERT INTO grants (session_key, wallet, expires_at, signed) VALUES ($1, $2, $3, $4)
       ON CONFLICT (session_key) DO UPDATE SET wallet = excluded.wallet, expires_at = excluded.expires_at, signed = excluded.signed
       WHERE excluded.expires_at >= grants.expires_at`,
      [grant.sessionKey.toLowerCase(), grant.wallet.toLowerCase(), grant.expiresAt, JSON.stringify(signed)],
    )
  }

  /** The grants of these session keys still valid at `at` (unix seconds). */
  async grantsOf(sessionKeys: readonly string[], at: number): Promise<SignedSessionGrant[]> {
    if (sessionKeys.length === 0) return []
    const list = sessionKeys.map((_, i) => `$${i + 2}`).join(', ')
    const rows = await this.db.query<{ signed: string }>(`SELECT signed FROM grants WHERE expires_at >= $1 AND session_key IN (${list}) ORDER BY session_key`, [
      at,
      ...sessionKeys.map((k) => k.toLowerCase()),
    ])
    return rows.map((r) => JSON.parse(r.signed) as SignedSessionGrant)
  }

  /** Session keys granted to `wallet` and still valid at `at`. */
  async keysGrantedTo(wallet: string, at: number): Promise<string[]> {
    const rows = await this.db.query<{ session_key: string }>('SELECT session_key FROM grants WHERE wallet = $1 AND expires_at >= $2', [
      wallet.toLowerCase(),
      at,
    ])
    return rows.map((r) => r.session_key)
  }

  async openEpoch(): Promise<EpochRow | undefined> {
    const [row] = await this.db.query<RawEpoch>("SELECT * FROM epochs WHERE state = 'open' ORDER BY epoch DESC LIMIT 1")
    return row === undefined ? undefined : toEpoch(row)
  }

  async latestEpoch(): Promise<EpochRow | undefined> {
    const [row] = await this.db.query<RawEpoch>('SELECT * FROM epochs ORDER BY epoch DESC LIMIT 1')
    return row === undefined ? undefined : toEpoch(row)
  }

  async getEpoch(epoch: number): Promise<EpochRow | undefined> {
    const [row] = await this.db.query<RawEpoch>('SELECT * FROM epochs WHERE epoch = $1', [epoch])
    return row === undefined ? undefined : toEpoch(row)
  }

  /** Epochs in `state`, oldest first. */
  async epochsIn(state: EpochState): Promise<EpochRow[]> {
    return (await this.db.query<RawEpoch>('SELECT * FROM epochs WHERE state = $1 ORDER BY epoch', [state])).map(toEpoch)
  }

  /** The latest epoch with a computed report (closed or settled). */
  async lastReported(): Promise<EpochRow | undefined> {
    const [row] = await this.db.query<RawEpoch>("SELECT * FROM epochs WHERE state <> 'open' ORDER BY epoch DESC LIMIT 1")
    return row === undefined ? undefined : toEpoch(row)
  }

  async lastSettled(): Promise<EpochRow | undefined> {
    const [row] = await this.db.query<RawEpoch>("SELECT * FROM epochs WHERE state = 'settled' ORDER BY epoch DESC LIMIT 1")
    return row === undefined ? undefined : toEpoch(row)
  }

  async startEpoch(epoch: number, startsAt: number, endsAt: number): Promise<void> {
    await this.db.run("INSERT INTO epochs (epoch, starts_at, ends_at, state) VALUES ($1, $2, $3, 'open') ON CONFLICT (epoch) DO NOTHING", [
      epoch,
      startsAt,
      endsAt,
    ])
  }

  async closeEpoch(epoch: number, report: string, archive: string, archiveCid: string): Promise<void> {
    await this.db.run("UPDATE epochs SET state = 'closed', report = $2, archive = $3, archive_cid = $4 WHERE epoch = $1 AND state = 'open'", [
      epoch,
      report,
      archive,
      archiveCid,
    ])
  }

  async settleEpoch(epoch: number, txHash: string, gasUsed: number): Promise<void> {
    await this.db.run("UPDATE epochs SET state = 'settled', tx_hash = $2, gas_used = $3 WHERE epoch = $1", [epoch, txHash, gasUsed])
  }
}
