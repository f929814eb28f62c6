import { execFileSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKonbiniClient, importToSink, type KonbiniClient } from '@konbini/browser-node'
import { createNodeClientLibp2p, fsSource } from '@konbini/browser-node/node'
import { verifyBlock } from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { base32 } from 'multiformats/bases/base32'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { writeRandomFile } from './files.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { blockWrites, firstSocketWrite, orderProblems, parseStrace } from './syscall-order.ts'

const hasStrace = (() => {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()
if (!hasStrace && process.env.CI === 'true') throw new Error('strace is required under CI (apt-get install strace)')

let net: TestNetwork
let libp2p: Libp2p
let client: KonbiniClient
let traceDir: string
const traceFile = () => join(traceDir, 'node1.strace')
const traced = 'trace=openat,write,writev,pwrite64,sendto,sendmsg,fsync,fdatasync,rename,renameat,renameat2'

beforeAll(async () => {
  traceDir = await mkdtemp(join(tmpdir(), 'konbini-strace-'))
  // node1 runs under strace; with 3 nodes and R=3 every upload passes through it
  net = await startTestNetwork({
    resources: 3,
    nodeWrapper: (i) => (i === 0 && hasStrace ? ['strace', '-f', '-ttt', '-y', '-s', '64', '-e', traced, '-o', traceFile()] : undefined),
  })
  libp2p = await createNodeClientLibp2p()
  client = createKonbiniClient({ metaUrls: net.file.metaUrls, account: privateKeyToAccount(net.file.devKey as `0x${string}`), libp2p })
})

afterAll(async () => {
  await libp2p?.stop()
  await net?.stop()
  await rm(traceDir, { recursive: true, force: true })
})

async function put(path: string) {
  const source = await fsSource(path)
  return client.put(source.candidates(), { name: source.name, size: source.size })
}

describe.skipIf(!hasStrace)('durability of acknowledged blocks', () => {
  test('default: every block is written, fsynced, renamed and its directory fsynced before the node acknowledges', async () => {
    const file = join(net.workDir, 'traced.bin')
    await writeRandomFile(file, 12 * 1024 * 1024 + 5)
    const result = await put(file)
    expect(result.holders).toHaveLength(3)
    const calls = parseStrace(await readFile(traceFile(), 'utf8'))
    const storeRoot = join(net.dataDir, 'node1', 'blocks')
    const writes = blockWrites(calls, storeRoot)
    expect(writes.length).toBe(14) // 13 leaves + the root, all new on this node
    const ack = firstSocketWrite(calls, '/v1/reports/storage')
    expect(ack).toBeDefined()
    expect(orderProblems(writes, ack as number)).toEqual([])
  })
})

/** CIDs (as v1 base32 strings) in a node's block store directory, read straight from disk. */
async function storedCids(node: number): Promise<Set<string>> {
  const root = join(net.dataDir, `node${node + 1}`, 'blocks')
  const found = new Set<string>()
  for (const shard of await readdir(root)) {
    for (const name of await readdir(join(root, shard))) if (!name.startsWith('.tmp-')) found.add(name)
  }
  return found
}

describe('a holder killed during a put', () => {
  test('behavior: kill -9 mid-put, restart: the store holds only whole blocks and the second put sends only the missing ones', async () => {
    const file = join(net.workDir, 'interrupted.bin')
    const size = 96 * 1024 * 1024 + 123
    await writeRandomFile(file, size)
    const victim = net.devnet.nodes[1]
    if (victim === undefined) throw new Error('no node 2')
    const source = await fsSource(file)
    const first = client.put(source.candidates(), { name: source.name, size: source.size })
    const outcome = first.then(
      () => 'completed',
      () => 'failed',
    )
    // kill node2 once every node has made some blocks durable (read from their disks), mid-transfer
    const durableEverywhere = async () => (await Promise.all([0, 1, 2].map(storedCids))).every((s) => s.size >= 16)
    for (let i = 0; i < 4000 && !(await durableEverywhere()); i++) await new Promise((r) => setTimeout(r, 5))
    await victim.kill('SIGKILL')
    expect(await outcome).toBe('failed')

    await victim.start()
    const restartedAt = Math.floor(Date.now() / 1000)
    for (let i = 0; i < 100; i++) {
      const { nodes } = await client.meta.get('nodes')
      if (nodes.find((n) => n.peerId === victim.ready?.peerId && n.live && n.lastSeen >= restartedAt)) break
      await new Promise((r) => setTimeout(r, 100))
    }

    // every block the killed node kept is whole: it hashes to its name
    const kept = await storedCids(1)
    expect(kept.size).toBeGreaterThan(0)
    for (const name of kept) {
      const cid = CID.parse(name, base32)
      const bytes = await readFile(join(net.dataDir, 'node2', 'blocks', name.slice(-3, -1), name))
      await expect(verifyBlock(cid, new Uint8Array(bytes))).resolves.toBeUndefined()
    }

    // what some node lacks, from the disks themselves
    const local = new Map<string, number>()
    await importToSink((await fsSource(file)).candidates(), (cid, bytes) => void local.set(cid.toV1().toString(base32), bytes.byteLength))
    const stores = await Promise.all([0, 1, 2].map(storedCids))
    let missingBytes = 0
    for (const [cid, bytes] of local) if (stores.some((s) => !s.has(cid))) missingBytes += bytes
    const totalBytes = [...local.values()].reduce((a, b) => a + b, 0)
    expect(missingBytes).toBeGreaterThan(0)
    expect(missingBytes).toBeLessThan(totalBytes)

    const second = await put(file)
    expect(second.holders).toHaveLength(3)
    expect(second.sentBytes).toBe(missingBytes)
    expect(second.skippedBlocks).toBeGreaterThan(0)
    const { size: stored } = await stat(file)
    expect(second.size).toBe(stored)
  })
})
