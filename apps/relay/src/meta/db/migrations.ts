import type { SqlDatabase } from './sql.ts'

/** One schema change. `up` statements run in order, in one transaction with the bookkeeping. */
export interface Migration {
  version: number
  name: string
  up: string[]
}

/** Every schema change, oldest first. Never edit an applied migration: append a new one. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'meta-core',
    up: [
      `CREATE TABLE nodes (
        peer_id TEXT PRIMARY KEY,
        operator TEXT NOT NULL,
        kind TEXT NOT NULL,
        multiaddrs TEXT NOT NULL,
        http_url TEXT NOT NULL,
        region TEXT NOT NULL,
        capacity_bytes BIGINT NOT NULL,
        used_bytes BIGINT NOT NULL,
        egress_cap_bps BIGINT NOT NULL,
        active_transfers INTEGER NOT NULL,
        last_seen BIGINT NOT NULL,
        throughput_bps DOUBLE PRECISION NOT NULL DEFAULT 0,
        latency_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
        success_rate DOUBLE PRECISION NOT NULL DEFAULT 1,
        transfers BIGINT NOT NULL DEFAULT 0
      )`,
      `CREATE TABLE uploads (
        ticket_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        name TEXT NOT NULL,
        size BIGINT NOT NULL,
        replicas INTEGER NOT NULL,
        nodes TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        root TEXT,
        completed_at BIGINT
      )`,
      `CREATE TABLE upload_reports (
        ticket_id TEXT NOT NULL,
        peer_id TEXT NOT NULL,
        root TEXT NOT NULL,
        blocks BIGINT NOT NULL,
        bytes BIGINT NOT NULL,
        reported_at BIGINT NOT NULL,
        PRIMARY KEY (ticket_id, peer_id)
      )`,
      `CREATE TABLE files (
        owner TEXT NOT NULL,
        root TEXT NOT NULL,
        name TEXT NOT NULL,
        size BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (owner, root)
      )`,
      'CREATE INDEX files_root_idx ON files (root)',
      `CREATE TABLE holders (
        root TEXT NOT NULL,
        peer_id TEXT NOT NULL,
        since BIGINT NOT NULL,
        PRIMARY KEY (root, peer_id)
      )`,
      `CREATE TABLE used_nonces (
        owner TEXT NOT NULL,
        nonce TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (owner, nonce)
      )`,
      'CREATE INDEX used_nonces_expires_idx ON used_nonces (expires_at)',
    ],
  },
  {
    version: 2,
    name: 'idempotent placement, holder roles, repair leases',
    up: [
      'ALTER TABLE uploads ADD COLUMN request_id TEXT',
      'ALTER TABLE uploads ADD COLUMN ticket_json TEXT',
      "ALTER TABLE uploads ADD COLUMN purpose TEXT NOT NULL DEFAULT 'upload'",
      'CREATE UNIQUE INDEX uploads_request_idx ON uploads (owner, request_id)',
      'CREATE INDEX uploads_resume_idx ON uploads (owner, name, size, created_at)',
      "ALTER TABLE holders ADD COLUMN role TEXT NOT NULL DEFAULT 'replica'",
      `CREATE TABLE repair_leases (
        root TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 3,
    name: 'light peers, public files, popularity, denylist',
    up: [
      // light peers have no HTTP URL: stored as '' (SQLite cannot drop a NOT NULL in place)
      'ALTER TABLE nodes ADD COLUMN donor TEXT',
      'CREATE INDEX nodes_kind_operator_idx ON nodes (kind, operator)',
      'ALTER TABLE uploads ADD COLUMN public INTEGER NOT NULL DEFAULT 0',
      'ALTER TABLE files ADD COLUMN public INTEGER NOT NULL DEFAULT 0',
      'CREATE INDEX holders_peer_idx ON holders (peer_id)',
      `CREATE TABLE popularity (
        root TEXT PRIMARY KEY,
        score DOUBLE PRECISION NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `CREATE TABLE denylist (
        root TEXT PRIMARY KEY,
        added_by TEXT NOT NULL,
        added_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 4,
    name: 'proof of traffic: paid tickets, receipts, epochs',
    up: [
      `CREATE TABLE paid_tickets (
        id TEXT PRIMARY KEY,
        epoch BIGINT NOT NULL,
        payer TEXT NOT NULL,
        signed TEXT NOT NULL
      )`,
      'CREATE INDEX paid_tickets_epoch_idx ON paid_tickets (epoch)',
      `CREATE TABLE receipts (
        ticket_id TEXT NOT NULL,
        provider TEXT NOT NULL,
        epoch BIGINT NOT NULL,
        bytes BIGINT NOT NULL,
        signature TEXT NOT NULL,
        payer TEXT NOT NULL,
        consumer TEXT NOT NULL,
        seq BIGINT NOT NULL,
        PRIMARY KEY (ticket_id, provider)
      )`,
      'CREATE INDEX receipts_epoch_idx ON receipts (epoch, seq)',
      `CREATE TABLE epochs (
        epoch BIGINT PRIMARY KEY,
        starts_at BIGINT NOT NULL,
        ends_at BIGINT NOT NULL,
        state TEXT NOT NULL,
        report TEXT,
        archive TEXT,
        archive_cid TEXT,
        tx_hash TEXT,
        gas_used BIGINT
      )`,
      // a node's peer-key signature binding it to its operator: who earns for it, provably
      `CREATE TABLE node_bindings (
        peer_id TEXT PRIMARY KEY,
        operator TEXT NOT NULL,
        binding TEXT NOT NULL
      )`,
      // a wallet's grant to a session key: the latest (longest) one counts
      `CREATE TABLE grants (
        session_key TEXT PRIMARY KEY,
        wallet TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        signed TEXT NOT NULL
      )`,
      // meta nodes sharing this index, so the aggregator finds its co-signers
      `CREATE TABLE meta_peers (
        address TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        seen_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 5,
    name: 'trust: heartbeat numbers, verified node URLs',
    up: [
      // the number of the last heartbeat taken from a peer id: a replayed one is no newer
      'ALTER TABLE nodes ADD COLUMN heartbeat_seq BIGINT NOT NULL DEFAULT 0',
      // the URL whose identity challenge the node answered with its own peer key ('' until one did)
      "ALTER TABLE nodes ADD COLUMN verified_url TEXT NOT NULL DEFAULT ''",
    ],
  },
  {
    version: 6,
    name: 'trust: proof-of-storage audits',
    up: [
      // storage challenges a node failed (no block, other bytes, no answer) and passed, over its life
      'ALTER TABLE nodes ADD COLUMN audit_failures INTEGER NOT NULL DEFAULT 0',
      'ALTER TABLE nodes ADD COLUMN audits_passed INTEGER NOT NULL DEFAULT 0',
      // when this holder last proved it keeps the root (0: never audited since it reported)
      'ALTER TABLE holders ADD COLUMN audited_at BIGINT NOT NULL DEFAULT 0',
      // a storage report whose node failed the challenge for it: counted out of the upload, never as a holder
      'ALTER TABLE upload_reports ADD COLUMN failed INTEGER NOT NULL DEFAULT 0',
      // a light peer's claimed holding: the open spot check (JSON: cid, nonce, expected digest, issuedAt) until proven
      "ALTER TABLE holders ADD COLUMN challenge TEXT NOT NULL DEFAULT ''",
    ],
  },
]

/** Key of the PostgreSQL advisory lock that serializes migrations across processes ("konb"). */
const MIGRATION_LOCK_KEY = 0x6b6f6e62

/**
 * Applies the migrations `db` lacks, in one transaction, and returns the versions it applied
 * (empty when the schema is current). Safe when several processes start at once: PostgreSQL
 * takes a transaction-scoped advisory lock, SQLite's `BEGIN IMMEDIATE` takes the write lock.
 *
 * @example
 * const applied = await migrate(db) // [1] on a new database, [] afterwards
 */
export async function migrate(db: SqlDatabase, list: readonly Migration[] = migrations): Promise<number[]> {
  return db.transaction(async (tx) => {
    if (tx.dialect === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY])
    await tx.run(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at BIGINT NOT NULL
      )`,
    )
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations')
    const done = new Set(rows.map((row) => row.version))
    const applied: number[] = []
    for (const migration of [...list].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue
      for (const statement of migration.up) await tx.run(statement)
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        Math.floor(Date.now() / 1000),
      ])
      applied.push(migration.version)
    }
    return applied
  })
}
