import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { createKonbiniClient, type KonbiniClient } from '@konbini/browser-node'
import { createNodeClientLibp2p, fsSource } from '@konbini/browser-node/node'
import type { Libp2p } from '@libp2p/interface'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { sha256File, writeRandomFile } from './files.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'

let net: TestNetwork
let libp2p: Libp2p
let client: KonbiniClient

beforeAll(async () => {
  // a per-node egress cap keeps a download long enough to interrupt it mid-transfer
  net = await startTestNetwork({ resources: 4, resourceEnv: { KONBINI_EGRESS_BPS: String(24 * 1024 * 1024) } })
  libp2p = await createNodeClientLibp2p()
  client = createKonbiniClient({ metaUrls: net.file.metaUrls, account: privateKeyToAccount(net.file.devKey as `0x${string}`), libp2p })
})

afterAll(async () => {
  await libp2p?.stop()
  await net?.stop()
})

async function upload(name: string, size: number) {
  const path = join(net.workDir, name)
  await writeRandomFile(path, size)
  const source = await fsSource(path)
  const result = await client.put(source.candidates(), { name: source.name, size: source.size })
  return { path, ...result }
}

/**
 * Downloads `root`, calling `interrupt` with the provider that has the most wants in flight once
 * `afterBlocks` blocks arrived (so it is interrupted mid-transfer); returns sha256 and stats.
 */
async function download(root: string, afterBlocks: number, interrupt: (busiest: string) => void) {
  let blocks = 0
  let pool: { stats(): Array<{ peerId: string; inflight: number; blocks: number }> } | undefined
  let atInterrupt: Array<{ peerId: string; inflight: number; blocks: number }> = []
  const d = await client.open(root, {
    onBlock: () => {
      if (++blocks !== afterBlocks || pool === undefined) return
      atInterrupt = pool.stats()
      interrupt([...atInterrupt].sort((a, b) => b.inflight - a.inflight)[0]?.peerId as string)
    },
  })
  pool = d.pool
  if (d.entry.type !== 'file') throw new Error('not a file')
  const hash = createHash('sha256')
  for await (const chunk of d.entry.content({ blockReadConcurrency: d.readAhead })) hash.update(chunk)
  await d.finish()
  return { sha256: hash.digest('hex'), stats: d.pool.stats(), atInterrupt, moved: d.pool.hedges + d.pool.moves }
}

function nodeProcess(peerId: string) {
  const node = net.devnet.nodes.find((n) => n.ready?.peerId === peerId)
  if (node === undefined) throw new Error(`no process for ${peerId}`)
  return node
}

async function scoreOf(peerId: string): Promise<number> {
  const { nodes } = await client.meta.get('nodes')
  return nodes.find((n) => n.peerId === peerId)?.score ?? Number.NaN
}

describe('downloads survive failing providers', () => {
  test('default: kill -9 of a holder mid-download: the download completes verified and the node ranks lower', async () => {
    const file = await upload('kill.bin', 96 * 1024 * 1024)
    let victim = ''
    let killed: Promise<void> | undefined
    const before = new Map(await Promise.all(file.holders.map(async (h) => [h, await scoreOf(h)] as const)))
    const result = await download(file.root, 40, (busiest) => {
      victim = busiest
      killed = nodeProcess(busiest).kill('SIGKILL')
    }).finally(async () => {
      // bring the node back for the next tests, whatever happened here
      await killed
      if (victim) await nodeProcess(victim).start()
    })
    expect(result.sha256).toBe(await sha256File(file.path))
    const dead = result.stats.find((s) => s.peerId === victim)
    expect(dead?.dead).toBe(true)
    expect(result.stats.filter((s) => s.peerId !== victim).reduce((n, s) => n + s.blocks, 0)).toBeGreaterThan(0)
    expect(await scoreOf(victim)).toBeLessThan(before.get(victim) as number)
  })

  test('behavior: the same download over the libp2p block exchange (the path light peers use) and over HTTP', async () => {
    const file = await upload('paths.bin', 6 * 1024 * 1024 + 9)
    for (const transport of ['libp2p', 'http'] as const) {
      const d = await client.open(file.root, { transport })
      if (d.entry.type !== 'file') throw new Error('not a file')
      const hash = createHash('sha256')
      for await (const chunk of d.entry.content({ blockReadConcurrency: d.readAhead })) hash.update(chunk)
      await d.finish()
      expect(hash.digest('hex')).toBe(await sha256File(file.path))
      expect(d.pool.stats().reduce((n, s) => n + s.blocks, 0)).toBe(8) // 7 leaves and the root
    }
  })

  test('behavior: a holder that stalls (SIGSTOP) mid-download loses its work to the others', async () => {
    const file = await upload('stall.bin', 64 * 1024 * 1024)
    let stalled: ReturnType<typeof nodeProcess> | undefined
    try {
      const result = await download(file.root, 2, (busiest) => {
        stalled = nodeProcess(busiest)
        stalled.child?.kill('SIGSTOP')
      })
      expect(result.sha256).toBe(await sha256File(file.path))
      const id = stalled?.ready?.peerId
      const before = result.atInterrupt.find((s) => s.peerId === id)
      const after = result.stats.find((s) => s.peerId === id)
      // it sent at most what was already written to its sockets when it stopped; its other
      // wants went to the others
      expect((after?.blocks ?? 0) - (before?.blocks ?? 0)).toBeLessThanOrEqual(before?.inflight ?? 0)
      expect(result.moved).toBeGreaterThan(0)
      expect(result.stats.filter((s) => s.peerId !== id).reduce((n, s) => n + s.blocks, 0)).toBeGreaterThan(64 - (after?.blocks ?? 0))
    } finally {
      stalled?.child?.kill('SIGCONT')
    }
  })
})
