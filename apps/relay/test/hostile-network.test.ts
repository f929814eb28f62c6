import { randomBytes, randomInt } from 'node:crypto'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createKonbiniClient, MetaClient, signOwnerRequest, signPlacement } from '@konbini/browser-node'
import { createNodeClientLibp2p } from '@konbini/browser-node/node'
import { DEVNET_CHAIN_ID, type NodeInfo, type PlacementResponse, type SignedHeartbeat } from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startHollowNode } from './hollow-node.ts'
import { startIdentityServer } from './identity-server.ts'
import { newStranger, strangerHeartbeat } from './stranger-node.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { holdersOnDisk } from './on-disk.ts'
import { postForError, postJson } from './wire.ts'

const UPLOADS = 50
const DOWNLOADS = 200

/**
 * Acceptance: 4 honest nodes and 4 hostile ones — two "hollow" nodes claiming a PiB that forward
 * uploads and keep nothing, yet sign storage reports; a real node that throws away what it
 * reported; a stranger that replays its heartbeats and forges transfer reports. 50 uploads and
 * 200 downloads all succeed, every file ends with 3 real copies on honest disks, and the hostile
 * nodes end with no placement and no replica.
 */
describe('4 honest nodes, 4 hostile ones', () => {
  let net: TestNetwork
  let libp2p: Libp2p
  let hollow: Array<Awaited<ReturnType<typeof startHollowNode>>> = []
  let forger: { peerId: string; close(): void; replay: SignedHeartbeat }
  const owner = privateKeyToAccount(generatePrivateKey())
  const reader = privateKeyToAccount(generatePrivateKey())
  const files: Array<{ root: string; content: Uint8Array; public: boolean }> = []
  const meta = () => new MetaClient({ urls: net.file.metaUrls })
  const metaUrl = () => net.file.metaUrls[0] as string
  /** The fifth resource process: real, staked like the others, but it throws its blocks away after reporting them. */
  const dropper = () => net.file.nodes[4] as { peerId: string; httpUrl: string }
  const honest = () => net.file.nodes.slice(0, 4).map((n) => n.peerId)
  const hostile = () => [dropper().peerId, ...hollow.map((h) => h.peerId), forger.peerId]
  const dropAll = async () => {
    const blocks = join(net.dataDir, 'node5', 'blocks')
    for (const shard of await readdir(blocks)) await rm(join(blocks, shard), { recursive: true, force: true })
  }

  beforeAll(async () => {
    const fast = { KONBINI_AUDIT_INTERVAL_MS: '1000', KONBINI_REPAIR_INTERVAL_MS: '1000', KONBINI_REPAIR_AFTER_SECONDS: '2' }
    net = await startTestNetwork({ resources: 5, metaEnv: fast })
    libp2p = await createNodeClientLibp2p()
    const metas = net.file.metaAddresses ?? []
    hollow = [await startHollowNode(metaUrl(), metas), await startHollowNode(metaUrl(), metas)]
    // the forger registers once, honestly, then only replays that heartbeat
    const stranger = await newStranger()
    const server = await startIdentityServer(stranger.key)
    const replay = await strangerHeartbeat(stranger, server.url, metas)
    expect((await postForError(metaUrl(), '/v1/nodes/heartbeat', replay)).status).toBe(200)
    forger = { peerId: stranger.peerId, close: () => server.close(), replay }
  }, 120_000)
  afterAll(async () => {
    for (const h of hollow) h.stop()
    forger?.close()
    await libp2p?.stop()
    await net?.stop()
  })

  test(`behavior: ${UPLOADS} uploads and ${DOWNLOADS} downloads all succeed verified while the hostile nodes attack`, async () => {
    const client = createKonbiniClient({ metaUrls: net.file.metaUrls, account: owner, libp2p })
    let dropped = 0
    for (let i = 0; i < UPLOADS; i++) {
      const content = new Uint8Array(randomBytes(64 * 1024 + randomInt(1024 * 1024)))
      const isPublic = i % 2 === 0
      const put = await client.put([{ path: `f${i}.bin`, content }], { name: `f${i}.bin`, size: content.byteLength, public: isPublic })
      files.push({ root: put.root, content, public: isPublic })
      // after its report counted, the dropper throws the blocks away
      if (put.holders.includes(dropper().peerId)) {
        await dropAll()
        dropped++
      }
      // the forger keeps its dead node "alive" with its one old heartbeat, and lies about transfers
      expect(await postForError(metaUrl(), '/v1/nodes/heartbeat', forger.replay)).toEqual({ status: 409, name: 'HeartbeatReplayedError' })
      const forged = {
        ticketId: `0x${randomBytes(32).toString('hex')}`,
        providers: hollow.map((h) => ({ peerId: h.peerId, bytes: 1e12, blocks: 1e6, millis: 1, failures: 0 })),
      }
      expect((await postForError(metaUrl(), '/v1/reports/transfer', { report: forged })).status).toBe(400)
    }
    // the attacks really happened: both hollow nodes were placed on and lied, the dropper held and threw away replicas
    for (const h of hollow) expect(h.reports.map((r) => r.name)).toContain('StorageProofFailedError')
    expect(dropped).toBeGreaterThan(0)
    const readerClient = createKonbiniClient({ metaUrls: net.file.metaUrls, account: reader, libp2p })
    for (let i = 0; i < DOWNLOADS; i++) {
      const file = files[randomInt(files.length)] as (typeof files)[number]
      // public files are read by a stranger, private ones by their owner
      const download = await (file.public ? readerClient : client).open(file.root)
      if (download.entry.type !== 'file' && download.entry.type !== 'raw') throw new Error('not a file')
      const chunks: Uint8Array[] = []
      for await (const chunk of download.entry.content({ blockReadConcurrency: download.readAhead })) chunks.push(chunk)
      await download.finish()
      expect(Buffer.compare(Buffer.concat(chunks), file.content), `download ${i} of ${file.root}`).toBe(0)
    }
  }, 300_000)

  test('behavior: every file ends with 3 real replicas on honest disks; the hostile nodes hold none and get no placement', async () => {
    const stat = async (root: string) => (await meta().post('stat', await signOwnerRequest(owner, 'stat', root, DEVNET_CHAIN_ID))).file.holders
    const settled = async () => {
      for (const f of files) {
        const holders = await stat(f.root)
        if (holders.length < 3 || holders.some((h) => !honest().includes(h))) return false
      }
      return true
    }
    await expect.poll(settled, { timeout: 60_000, interval: 1000 }).toBe(true)
    for (const f of files) expect(await holdersOnDisk(net.dataDir, 4, f.root), f.root).toBeGreaterThanOrEqual(3)
    // no placement: fresh placements over every live node name none of them
    for (let i = 0; i < 3; i++) {
      const signed = await signPlacement(owner, { owner: owner.address, name: `probe${i}.bin`, size: 1000, replicas: 4 }, DEVNET_CHAIN_ID)
      const placed = (await postJson(metaUrl(), '/v1/uploads', signed)).body as unknown as PlacementResponse
      expect(placed.upload.ticket.nodes.filter((n) => hostile().includes(n))).toEqual([])
    }
    const nodes: NodeInfo[] = (await meta().get('nodes')).nodes
    for (const id of hostile()) {
      const n = nodes.find((x) => x.peerId === id)
      // out of the ranking: caught lying or losing data (score 0), or no longer live
      expect(n === undefined || n.score === 0 || !n.live, id).toBe(true)
    }
  }, 120_000)

  test('behavior: afterwards every process answers and the first file still downloads intact', async () => {
    for (const url of [...net.file.metaUrls, ...net.file.nodes.map((n) => n.httpUrl)]) expect((await fetch(`${url}/healthz`)).status).toBe(200)
    const first = files[0] as (typeof files)[number]
    const download = await createKonbiniClient({ metaUrls: net.file.metaUrls, account: owner, libp2p }).open(first.root)
    if (download.entry.type !== 'file' && download.entry.type !== 'raw') throw new Error('not a file')
    const chunks: Uint8Array[] = []
    for await (const chunk of download.entry.content()) chunks.push(chunk)
    await download.finish()
    expect(Buffer.compare(Buffer.concat(chunks), first.content)).toBe(0)
  }, 60_000)
})
