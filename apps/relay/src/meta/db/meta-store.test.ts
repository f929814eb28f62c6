import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { createDatabase, startPostgres } from '../../../test/postgres.ts'
import { MetaStore, type NodeInput } from './meta-store.ts'
import { migrate, migrations } from './migrations.ts'
import { openPostgres } from './postgres.ts'
import type { SqlDatabase } from './sql.ts'
import { openSqlite } from './sqlite.ts'

/** Makes a new empty database and returns a function that opens a connection to it. */
type FreshDatabase = () => Promise<() => Promise<SqlDatabase>>

const opened: SqlDatabase[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()))
})
async function track(db: Promise<SqlDatabase>): Promise<SqlDatabase> {
  opened.push(await db)
  return opened[opened.length - 1] as SqlDatabase
}

const node = (peerId: string, over: Partial<NodeInput> = {}): NodeInput => ({
  peerId,
  operator: `0x${'a'.repeat(40)}`,
  kind: 'full',
  multiaddrs: ['/ip4/127.0.0.1/tcp/4001', '/ip4/127.0.0.1/tcp/4002/ws'],
  httpUrl: 'http://127.0.0.1:8080',
  region: 'eu-west',
  capacityBytes: 2 ** 40,
  usedBytes: 5 * 2 ** 30,
  egressCapBps: 100_000_000,
  activeTransfers: 2,
  ...over,
})
const upload = (ticketId: string, owner = 'alice', root?: string) => ({
  ticketId,
  owner,
  name: `${ticketId}.bin`,
  size: 3 * 2 ** 32,
  replicas: 2,
  nodes: ['A', 'B'],
  createdAt: 1000,
  expiresAt: 2000,
  ...(root === undefined ? {} : { root }),
})

function metaStoreSuite(fresh: FreshDatabase) {
  const openStore = async () => MetaStore.open(await track((await fresh())()))

  test('default', async () => {
    const store = await openStore()
    await store.upsertNode(node('A'), 100)
    await store.upsertNode(node('B', { kind: 'light' }), 101)
    expect(await store.getNode('A')).toEqual({
      ...node('A'),
      lastSeen: 100,
      throughputBps: 0,
      latencyMs: 0,
      successRate: 1,
      transfers: 0,
      seq: 0,
      auditFailures: 0,
      auditsPassed: 0,
    })
    expect((await store.listNodes()).map((n) => [n.peerId, n.kind])).toEqual([
      ['A', 'full'],
      ['B', 'light'],
    ])
    expect(await store.getNode('nobody')).toBeUndefined()
  })

  test('behavior: a numbered heartbeat updates a node only when its number is above the stored one', async () => {
    const store = await openStore()
    expect(await store.upsertNode({ ...node('A'), seq: 5 }, 100)).toBe(true)
    expect(await store.upsertNode({ ...node('A', { usedBytes: 9 }), seq: 5 }, 200)).toBe(false)
    expect(await store.upsertNode({ ...node('A', { usedBytes: 9 }), seq: 4 }, 200)).toBe(false)
    expect(await store.getNode('A')).toMatchObject({ usedBytes: node('A').usedBytes, lastSeen: 100, seq: 5 })
    expect(await store.upsertNode({ ...node('A', { usedBytes: 9 }), seq: 6 }, 300)).toBe(true)
    expect(await store.getNode('A')).toMatchObject({ usedBytes: 9, lastSeen: 300, seq: 6 })
  })

  test('behavior: migrations are applied once and a second open applies none', async () => {
    const open = await fresh()
    const first = await track(open())
    expect(await migrate(first)).toEqual(migrations.map((m) => m.version))
    expect(await migrate(first)).toEqual([])
    await MetaStore.open(await track(open()))
    const rows = await first.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations')
    expect(rows).toEqual(migrations.map((m) => ({ version: m.version, name: m.name })))
  })

  test('behavior: upsertNode keeps measured fields and updates stated ones', async () => {
    const store = await openStore()
    await store.upsertNode(node('A'), 100)
    await store.recordTransfer('A', { bytes: 4_000_000, millis: 2000, failures: 1, blocks: 3, firstByteMs: 40 })
    await store.upsertNode(node('A', { usedBytes: 7, multiaddrs: ['/dns4/a.example/tcp/443/wss'] }), 200)
    expect(await store.getNode('A')).toMatchObject({
      usedBytes: 7,
      multiaddrs: ['/dns4/a.example/tcp/443/wss'],
      lastSeen: 200,
      throughputBps: 2_000_000,
      latencyMs: 40,
      successRate: 0.925,
      transfers: 1,
    })
  })

  test('behavior: recordTransfer moves each average toward its samples', async () => {
    const store = await openStore()
    await store.upsertNode(node('A'), 100)
    await store.recordTransfer('A', { bytes: 1_000_000, millis: 1000, failures: 0, blocks: 10, firstByteMs: 50 })
    let a = await store.recordTransfer('A', {
      bytes: 3_000_000,
      millis: 1000,
      failures: 0,
      blocks: 10,
      firstByteMs: 150,
    })
    expect(a).toMatchObject({ throughputBps: 1_600_000, latencyMs: 80, successRate: 1, transfers: 2 })
    a = await store.recordTransfer('A', { bytes: 0, millis: 500, failures: 3, blocks: 0 })
    expect(a).toMatchObject({ throughputBps: 1_600_000, latencyMs: 80, transfers: 3 })
    expect(a?.successRate).toBeCloseTo(0.7, 12)
    expect(await store.getNode('A')).toEqual(a)
    expect(await store.recordTransfer('nobody', { bytes: 1, millis: 1, failures: 0, blocks: 1 })).toBeUndefined()
  })

  test('behavior: concurrent recordTransfer calls lose no update', async () => {
    const store = await openStore()
    await store.upsertNode(node('A'), 100)
    const sample = { bytes: 1000, millis: 1, failures: 0, blocks: 1 }
    await Promise.all(Array.from({ length: 8 }, () => store.recordTransfer('A', sample)))
    expect((await store.getNode('A'))?.transfers).toBe(8)
  })

  test('behavior: addUploadReport counts a node once per root', async () => {
    const store = await openStore()
    await store.createUpload(upload('t1'))
    const report = { ticketId: 't1', peerId: 'A', root: 'bafyR', blocks: 5, bytes: 2 ** 33, reportedAt: 1100 }
    expect(await store.addUploadReport(report)).toEqual(['A'])
    expect(await store.addUploadReport(report)).toEqual(['A'])
    expect(await store.addUploadReport({ ...report, peerId: 'B' })).toEqual(['A', 'B'])
    expect(await store.addUploadReport({ ...report, peerId: 'C', root: 'bafyOther' })).toEqual(['C'])
    const got = await store.getUpload('t1')
    expect(got).toMatchObject({ nodes: ['A', 'B'], size: 3 * 2 ** 32, root: null, completedAt: null })
    expect(got?.reports).toHaveLength(3)
    expect(got?.reports).toContainEqual({ peerId: 'B', root: 'bafyR', blocks: 5, bytes: 2 ** 33 })
  })

  test('behavior: completeUpload records the file exactly once when called twice at once', async () => {
    const store = await openStore()
    await store.createUpload(upload('t1'))
    const done = { ticketId: 't1', root: 'bafyR', holders: ['A', 'B', 'A'], now: 1200 }
    const results = await Promise.all([store.completeUpload(done), store.completeUpload({ ...done, now: 1300 })])
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(await store.completeUpload(done)).toBe(false)
    expect(await store.completeUpload({ ...done, ticketId: 'nope' })).toBe(false)
    const files = await store.listFiles('alice')
    expect(files).toHaveLength(1)
    expect(files[0]).toMatchObject({ root: 'bafyR', name: 't1.bin', size: 3 * 2 ** 32, owner: 'alice' })
    expect([...(files[0]?.holders ?? [])].sort()).toEqual(['A', 'B'])
    expect(await store.getUpload('t1')).toMatchObject({ root: 'bafyR', completedAt: files[0]?.createdAt })
  })

  test('behavior: holders arriving after completion are added only for the agreed root', async () => {
    const store = await openStore()
    await store.createUpload(upload('t1'))
    expect(await store.completeUpload({ ticketId: 't1', root: 'bafyR', holders: ['A'], now: 10 })).toBe(true)
    expect(await store.completeUpload({ ticketId: 't1', root: 'bafyR', holders: ['A', 'B'], now: 20 })).toBe(false)
    expect(await store.completeUpload({ ticketId: 't1', root: 'bafyX', holders: ['C'], now: 20 })).toBe(false)
    await store.addHolders('bafyR', ['D', 'A'], 30)
    expect(await store.holdersOf('bafyR')).toEqual(['A', 'B', 'D'])
    expect(await store.holdersOf('bafyX')).toEqual([])
    expect(await store.listFiles('alice')).toHaveLength(1)
  })

  test('behavior: audits count for and against a node; a lie bans it at once; a failed report never counts toward its upload', async () => {
    const store = await openStore()
    for (const id of ['A', 'B']) await store.upsertNode(node(id), 100)
    await store.createUpload(upload('t1'))
    expect(await store.completeUpload({ ticketId: 't1', root: 'bafyR', holders: ['A', 'B'], now: 10 })).toBe(true)
    await store.recordAudit({ root: 'bafyR', peerId: 'A', passed: true, dropReplica: false, now: 20 })
    await store.recordAudit({ root: 'bafyR', peerId: 'B', passed: false, dropReplica: true, now: 20, banAt: 3 })
    expect(await store.getNode('A')).toMatchObject({ auditsPassed: 1, auditFailures: 0 })
    expect(await store.getNode('B')).toMatchObject({ auditsPassed: 0, auditFailures: 3 })
    expect(await store.holdersOf('bafyR')).toEqual(['A'])
    // the least recently audited holders come first (A was audited at 20)
    await store.addHolders('bafyR', ['B'], 30)
    expect((await store.auditTargets(10)).map((t) => t.peerId)).toEqual(['B', 'A'])
    await store.createUpload(upload('t2'))
    await store.addFailedReport({ ticketId: 't2', peerId: 'B', root: 'bafyZ', reportedAt: 40 })
    expect(await store.addUploadReport({ ticketId: 't2', peerId: 'B', root: 'bafyZ', blocks: 1, bytes: 1, reportedAt: 41 })).toEqual([])
    expect(await store.getUpload('t2')).toMatchObject({ reports: [], failedNodes: ['B'] })
  })

  test("behavior: listFiles is newest first and removeFile only removes that owner's pin", async () => {
    const store = await openStore()
    for (const [ticket, owner, root, now] of [
      ['t1', 'alice', 'R1', 10],
      ['t2', 'bob', 'R1', 20],
      ['t3', 'alice', 'R2', 30],
    ] as const) {
      await store.createUpload(upload(ticket, owner))
      await store.completeUpload({ ticketId: ticket, root, holders: ['A'], now })
    }
    expect((await store.listFiles('alice')).map((f) => f.root)).toEqual(['R2', 'R1'])
    expect(await store.removeFile('alice', 'R1')).toBe(true)
    expect(await store.removeFile('alice', 'R1')).toBe(false)
    expect((await store.listFiles('alice')).map((f) => f.root)).toEqual(['R2'])
    expect(await store.getFile('alice', 'R1')).toBeUndefined()
    expect(await store.getFile('bob', 'R1')).toMatchObject({ owner: 'bob', holders: ['A'] })
    expect(await store.getAnyFile('R1')).toMatchObject({ owner: 'bob', name: 't2.bin' })
    expect(await store.holdersOf('R1')).toEqual(['A'])
  })

  test('behavior: useNonce refuses a replay and forgets expired nonces', async () => {
    const store = await openStore()
    expect(await store.useNonce('alice', 'n1', 500, 100)).toBe(true)
    expect(await store.useNonce('alice', 'n1', 500, 101)).toBe(false)
    expect(await store.useNonce('bob', 'n1', 500, 102)).toBe(true)
    expect(await store.useNonce('alice', 'n2', 900, 600)).toBe(true)
    const rows = await store.db.query<{ nonce: string }>('SELECT nonce FROM used_nonces ORDER BY nonce')
    expect(rows.map((r) => r.nonce)).toEqual(['n2'])
  })

  test('error: a transaction that throws leaves nothing behind', async () => {
    const store = await openStore()
    await expect(
      store.db.transaction(async (tx) => {
        await tx.run('INSERT INTO used_nonces (owner, nonce, expires_at) VALUES ($1, $2, $3)', ['x', 'y', 1])
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(await store.useNonce('x', 'y', 10, 0)).toBe(true)
    await store.createUpload(upload('t1'))
    await expect(store.createUpload(upload('t1'))).rejects.toThrow()
  })

  /** Pins `root` for `owner` through a completed upload held by full node A. */
  async function pin(store: MetaStore, ticketId: string, root: string, isPublic: boolean, owner = 'alice') {
    await store.createUpload({ ...upload(ticketId, owner), public: isPublic })
    await store.completeUpload({ ticketId, root, holders: ['A'], now: 100 })
  }

  test('behavior: a light peer holds only public, non-denylisted roots, as cache, replaced each heartbeat', async () => {
    const store = await openStore()
    await store.upsertNode(node('A'), 100)
    await store.upsertNode(
      node('L', { kind: 'light', httpUrl: undefined, donor: { storageCapBytes: 10, uploadCapBps: 1, dailyCapBytes: 5, servedBytes24h: 1, paused: true } }),
      100,
    )
    expect(await store.getNode('L')).toMatchObject({ kind: 'light', donor: { storageCapBytes: 10, paused: true } })
    expect((await store.getNode('L'))?.httpUrl).toBeUndefined()
    await pin(store, 't1', 'PUB', true)
    await pin(store, 't2', 'PRIV', false)
    await pin(store, 't3', 'DENIED', true)
    await store.deny('DENIED', 'admin', 100)
    expect(await store.setLightHoldings('L', ['PUB', 'PRIV', 'DENIED', 'UNKNOWN', 'PUB'], 110)).toEqual(['PUB'])
    expect(await store.getFile('alice', 'PUB')).toMatchObject({ public: true, holders: ['A'], cached: ['L'] })
    expect(await store.getFile('alice', 'PRIV')).toMatchObject({ public: false, cached: [] })
    // a heartbeat without it drops it; a denial drops light copies at once
    expect(await store.setLightHoldings('L', [], 120)).toEqual([])
    expect(await store.holdersOf('PUB')).toEqual(['A'])
    await store.setLightHoldings('L', ['PUB'], 130)
    await store.deny('PUB', 'admin', 140)
    expect(await store.holdersOf('PUB')).toEqual(['A'])
    expect(await store.denylist()).toEqual(['DENIED', 'PUB'])
    await store.allow('PUB')
    expect(await store.denylist()).toEqual(['DENIED'])
    await store.setLightHoldings('L', ['PUB'], 150)
    await store.leaveLightPeer('L')
    expect(await store.holdersOf('PUB')).toEqual(['A'])
    expect((await store.getNode('L'))?.lastSeen).toBe(0)
    expect(await store.isLightOperator(node('L').operator)).toBe(true)
    // a light peer gone long enough is forgotten, node and holdings; full nodes are never
    await store.setLightHoldings('L', ['PUB'], 160)
    await store.upsertNode(node('L', { kind: 'light', httpUrl: undefined }), 160)
    expect(await store.forgetLightPeers(150)).toBe(0)
    expect(await store.forgetLightPeers(1000)).toBe(1)
    expect(await store.getNode('L')).toBeUndefined()
    expect(await store.holdersOf('PUB')).toEqual(['A'])
    expect(await store.getNode('A')).toBeDefined()
  })

  test('behavior: popularity decays by half per half-life and ranks cache candidates', async () => {
    const store = await openStore()
    await store.upsertNode(node('A'), 1000)
    await pin(store, 't1', 'HOT', true)
    await pin(store, 't2', 'WARM', true)
    await pin(store, 't3', 'PRIV', false)
    for (let i = 0; i < 4; i++) await store.bumpPopularity('HOT', 1000, 100)
    await store.bumpPopularity('WARM', 1000, 100)
    for (let i = 0; i < 9; i++) await store.bumpPopularity('PRIV', 1000, 100)
    expect(await store.popularityOf('HOT', 1100, 100)).toBeCloseTo(2)
    await store.bumpPopularity('HOT', 1100, 100)
    expect(await store.popularityOf('HOT', 1100, 100)).toBeCloseTo(3)
    const q = { peerId: 'L', now: 1100, liveSince: 990, halfLifeSeconds: 100, limit: 10 }
    expect((await store.cacheCandidates(q)).map((c) => c.root)).toEqual(['HOT', 'WARM'])
    // held already, or no live full holder: not a candidate
    await store.upsertNode(node('L', { kind: 'light' }), 1100)
    await store.setLightHoldings('L', ['HOT'], 1100)
    expect((await store.cacheCandidates(q)).map((c) => c.root)).toEqual(['WARM'])
    expect(await store.cacheCandidates({ ...q, liveSince: 1001 })).toEqual([])
  })

  test('behavior: a repair copy completing keeps the file public', async () => {
    const store = await openStore()
    await pin(store, 't1', 'PUB', true)
    await store.createUpload({ ...upload('r1'), replicas: 1, nodes: ['B'], purpose: 'repair' })
    await store.completeUpload({ ticketId: 'r1', root: 'PUB', holders: ['B'], now: 200 })
    expect(await store.getFile('alice', 'PUB')).toMatchObject({ public: true })
    expect(await store.isPublicRoot('PUB')).toBe(true)
  })
}

describe('sqlite', () => {
  let dir = ''
  let n = 0
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'konbini-meta-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))
  metaStoreSuite(async () => {
    const file = join(dir, `${++n}.db`)
    return () => openSqlite(file)
  })
})

const server = await startPostgres()
describe.skipIf(server === undefined)('postgres', () => {
  let n = 0
  const fresh: FreshDatabase = async () => {
    const url = await createDatabase(server?.url ?? '', `meta_${process.pid}_${++n}`)
    return () => openPostgres(url)
  }
  afterAll(() => server?.stop())
  metaStoreSuite(fresh)

  test('behavior: processes opening one database at once all migrate it once', async () => {
    const open = await fresh()
    const dbs = await Promise.all(Array.from({ length: 4 }, () => track(open())))
    await Promise.all(dbs.map((db) => MetaStore.open(db)))
    const rows = await dbs[0]?.query<{ n: number }>('SELECT COUNT(*) AS n FROM schema_migrations')
    expect(rows).toEqual([{ n: migrations.length }])
  })
})
