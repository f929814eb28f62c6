import { join } from 'node:path'
import { createKonbiniClient, type KonbiniClient } from '@konbini/browser-node'
import { createNodeClientLibp2p, fsSource } from '@konbini/browser-node/node'
import type { Libp2p } from '@libp2p/interface'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { writeRandomFile } from './files.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'

/**
 * A block sent twice is paid for twice (the consumer's receipts count every byte a provider
 * sent), so the pool must not ask for blocks it already has coming: between two fast, healthy
 * holders (no egress cap, the client's own CPU the limit, delivery bursty) queues differ by a few
 * blocks all the time, and moving wants between them on every such difference once sent a third
 * to a half of a file twice over libp2p.
 */
describe('each byte is sent about once', () => {
  let net: TestNetwork
  let libp2p: Libp2p
  let client: KonbiniClient

  beforeAll(async () => {
    net = await startTestNetwork({ resources: 2 })
    libp2p = await createNodeClientLibp2p()
    client = createKonbiniClient({ metaUrls: net.file.metaUrls, account: privateKeyToAccount(net.file.devKey as `0x${string}`), libp2p })
  })
  afterAll(async () => {
    await libp2p?.stop()
    await net?.stop()
  })

  test('behavior: from two fast holders, duplicates (hedges, moves, late cancels) stay under 10 % of the file over libp2p and HTTP', async () => {
    const path = join(net.workDir, 'once.bin')
    const size = 96 * 1024 * 1024
    await writeRandomFile(path, size)
    const source = await fsSource(path)
    const { root } = await client.put(source.candidates(), { name: source.name, size, replicas: 2 })
    for (const transport of ['libp2p', 'http', 'libp2p', 'http'] as const) {
      const d = await client.open(root, { transport })
      if (d.entry.type !== 'file') throw new Error('not a file')
      for await (const _ of d.entry.content({ blockReadConcurrency: d.readAhead })) {
      }
      await d.finish()
      const stats = d.pool.stats()
      expect(stats.reduce((n, s) => n + s.blocks, 0)).toBeGreaterThanOrEqual(96)
      const duplicates = stats.reduce((n, s) => n + s.duplicateBytes, 0)
      expect(duplicates / size, `${transport}: share of the file sent twice (${d.pool.moves} moves, ${d.pool.hedges} hedges)`).toBeLessThan(0.1)
    }
  }, 120_000)
})
