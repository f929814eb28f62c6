import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { unixfs } from '@helia/unixfs'
import { importBytes } from 'ipfs-unixfs-importer'
import { createLibp2p, type Libp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { loopbackTransport, type StockHelia, stockHelia } from '../../test/stock-helia.ts'
import { startBitswap } from './bitswap.ts'
import { DurableBlockstore } from './durable-blockstore.ts'
import { ByteRateLimiter } from '@konbini/browser-node'

let dir: string
let store: DurableBlockstore
let node: Libp2p
let bitswap: { stop(): Promise<void> }
let helia: StockHelia
const limiter = new ByteRateLimiter(0)
const file = new Uint8Array(randomBytes(2 * 1024 * 1024 + 777))
let fileCid: CID

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'konbini-bitswap-'))
  store = new DurableBlockstore(join(dir, 'blocks'))
  await store.open()
  fileCid = (await importBytes(file, store, { profile: 'unixfs-v1-2025' })).cid
  node = await createLibp2p(loopbackTransport())
  bitswap = await startBitswap({ libp2p: node, blockstore: store, limiter })
  helia = await stockHelia()
})

afterAll(async () => {
  await helia?.stop()
  await bitswap?.stop()
  await node?.stop()
  await rm(dir, { recursive: true, force: true })
})

describe('startBitswap', () => {
  test('default', async () => {
    const brokers = (helia as unknown as { blockBrokers: Array<{ name: string }> }).blockBrokers
    expect(brokers.map((b) => b.name)).toEqual(['bitswap'])
    const before = limiter.total
    const chunks: Uint8Array[] = []
    for await (const chunk of unixfs(helia).cat(fileCid, { providers: node.getMultiaddrs(), signal: AbortSignal.timeout(30_000) })) chunks.push(chunk)
    expect(Buffer.compare(Buffer.concat(chunks), file)).toBe(0)
    // the served block bytes went through the public limiter
    expect(limiter.total - before).toBeGreaterThanOrEqual(file.byteLength)
  })

  test('behavior: the limiter throttles the blocks served', async () => {
    const other = await stockHelia()
    limiter.setRate(1024 * 1024)
    try {
      const started = performance.now()
      let size = 0
      for await (const chunk of unixfs(other).cat(fileCid, { providers: node.getMultiaddrs(), signal: AbortSignal.timeout(30_000) })) size += chunk.byteLength
      expect(size).toBe(file.byteLength)
      // 2 MiB at 1 MiB/s with a 1 MiB burst cannot take much under a second
      expect(performance.now() - started).toBeGreaterThan(800)
    } finally {
      limiter.setRate(0)
      await other.stop()
    }
  })

  test('error: a block this node lacks is not served', async () => {
    const cid = CID.createV1(raw.code, await sha256.digest(randomBytes(32)))
    const other = await stockHelia()
    try {
      const want = other.blockstore.get(cid, { providers: node.getMultiaddrs(), signal: AbortSignal.timeout(2_000) })
      await expect(want.next()).rejects.toThrow()
      expect(await store.has(cid)).toBe(false)
      // the node still serves afterwards
      const root = other.blockstore.get(fileCid, { providers: node.getMultiaddrs(), signal: AbortSignal.timeout(10_000) })
      expect(Buffer.compare((await root.next()).value as Uint8Array, await store.getBytes(fileCid))).toBe(0)
    } finally {
      await other.stop()
    }
  })
})
