import { randomBytes } from 'node:crypto'
import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { decode as decodePb } from '@ipld/dag-pb'
import { createKonbiniClient, MetaClient, signOwnerRequest, signPlacement } from '@konbini/browser-node'
import { createNodeClientLibp2p } from '@konbini/browser-node/node'
import { AUDIT_FAILURE_LIMIT, canonicalDigest, DEVNET_CHAIN_ID, type NodeInfo, nodeStatementTypedData, type PlacementResponse } from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { uploadTo } from './evil-dag.ts'
import { startHollowNode } from './hollow-node.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { holdersOnDisk } from './on-disk.ts'
import { postForError, postJson, rawBlock, uploadBody } from './wire.ts'

/**
 * Storage attacked as a stranger would. Before: a node that forwarded the upload, kept nothing
 * and signed a storage report counted toward R; repair took such a node as the new holder, so R=3
 * was recorded with two real copies; and a holder that dropped the data after reporting kept its
 * replica forever. Now a report counts only after the node proves, on the spot, random blocks of
 * the root, and every holder is audited again and again.
 */
describe('proof of storage: reports count only when proven; holders are audited', () => {
  let net: TestNetwork
  let libp2p: Libp2p
  const owner = privateKeyToAccount(generatePrivateKey())
  const meta = () => new MetaClient({ urls: net.file.metaUrls })
  const metaUrl = () => net.file.metaUrls[0] as string
  const nodes = async (): Promise<NodeInfo[]> => (await meta().get('nodes')).nodes
  const holders = async (root: string) => (await meta().post('stat', await signOwnerRequest(owner, 'stat', root, DEVNET_CHAIN_ID))).file.holders

  beforeAll(async () => {
    // audits and repairs every second, a holder unseen for 2 s replaced: the test sees rounds, not minutes
    const fast = { KONBINI_AUDIT_INTERVAL_MS: '1000', KONBINI_REPAIR_INTERVAL_MS: '1000', KONBINI_REPAIR_AFTER_SECONDS: '2' }
    net = await startTestNetwork({ resources: 4, metaEnv: fast })
    libp2p = await createNodeClientLibp2p()
  }, 90_000)
  afterAll(async () => {
    await libp2p?.stop()
    await net?.stop()
  })

  test('error: a node that forwards the upload, keeps nothing and signs a storage report gets StorageProofFailedError; it counts for nothing and is placed on no more', async () => {
    const hollow = await startHollowNode(metaUrl(), net.file.metaAddresses ?? [])
    try {
      // five nodes, five replicas: the hollow node is surely in the pipeline
      const content = await rawBlock(64 * 1024)
      const signed = await signPlacement(owner, { owner: owner.address, name: 'hollow.bin', size: 64 * 1024, replicas: 5 }, DEVNET_CHAIN_ID)
      const placed = await postJson(metaUrl(), '/v1/uploads', signed)
      expect(placed.status, JSON.stringify(placed.body)).toBe(200)
      const place = placed.body as unknown as PlacementResponse
      expect(place.upload.ticket.nodes).toContain(hollow.peerId)
      const stored = await uploadTo(place, uploadBody([content], content.cid))
      expect(stored.status, JSON.stringify(stored.body)).toBe(200)
      // the pipeline went through it: the body reached the nodes after it
      expect(stored.body.stored).toContain(hollow.peerId)
      expect(hollow.reports).toEqual([{ status: 422, name: 'StorageProofFailedError' }])
      // the upload does not wait for it: it completes with the four nodes that proved the root
      const status = await (await fetch(`${metaUrl()}/v1/uploads/${place.upload.ticket.id}?wait=10`)).json()
      expect(status.complete).toBe(true)
      expect([...status.holders].sort()).toEqual(net.file.nodes.map((n) => n.peerId).sort())
      expect(status.holders).not.toContain(hollow.peerId)
      // a report of blocks it cannot produce is a lie: the node is out at once, still heartbeating
      const record = (await nodes()).find((n) => n.peerId === hollow.peerId)
      expect(record?.live).toBe(true)
      expect(record?.auditFailures).toBeGreaterThanOrEqual(AUDIT_FAILURE_LIMIT)
      expect(record?.score).toBe(0)
      const again = await signPlacement(owner, { owner: owner.address, name: 'next.bin', size: 1000, replicas: 4 }, DEVNET_CHAIN_ID)
      const next = (await postJson(metaUrl(), '/v1/uploads', again)).body as unknown as PlacementResponse
      expect(next.upload.ticket.nodes).not.toContain(hollow.peerId)
    } finally {
      hollow.stop()
    }
  }, 60_000)

  test('behavior: a holder that drops the data after reporting is caught by an audit, loses the replica, and the file is repaired to 3 real copies', async () => {
    const content = new Uint8Array(randomBytes(3 * 1024 * 1024 + 9))
    const client = createKonbiniClient({ metaUrls: net.file.metaUrls, account: owner, libp2p })
    const { root, holders: first } = await client.put([{ path: 'kept.bin', content }], { name: 'kept.bin', size: content.byteLength })
    expect(first).toHaveLength(3)
    const victim = first[0] as string
    const index = net.file.nodes.findIndex((n) => n.peerId === victim) + 1
    // the victim keeps running, heartbeating and answering — it has only thrown the blocks away
    const blocks = join(net.dataDir, `node${index}`, 'blocks')
    for (const shard of await readdir(blocks)) await rm(join(blocks, shard), { recursive: true, force: true })
    const repaired = async () => {
      const now = await holders(root)
      return now.length === 3 && !now.includes(victim)
    }
    await expect.poll(repaired, { timeout: 45_000, interval: 500 }).toBe(true)
    // every recorded holder really has the blocks: the root and every leaf, on its own disk
    const rootBlock = await (async () => {
      const holder = (await holders(root))[0] as string
      const i = net.file.nodes.findIndex((n) => n.peerId === holder) + 1
      const { readFile } = await import('node:fs/promises')
      const { base32 } = await import('multiformats/bases/base32')
      const { CID } = await import('multiformats/cid')
      const key = CID.parse(root).toV1().toString(base32)
      return readFile(join(net.dataDir, `node${i}`, 'blocks', key.slice(-3, -1), key))
    })()
    const leaves = decodePb(new Uint8Array(rootBlock)).Links.map((l) => l.Hash.toString())
    for (const cid of [root, ...leaves]) expect(await holdersOnDisk(net.dataDir, net.file.nodes.length, cid), cid).toBe(3)
    const record = (await nodes()).find((n) => n.peerId === victim)
    expect(record?.auditFailures).toBeGreaterThanOrEqual(1)
    // and the file still downloads, verified, from the real holders
    const download = await client.open(root)
    const chunks: Uint8Array[] = []
    if (download.entry.type !== 'file') throw new Error('not a file')
    for await (const chunk of download.entry.content()) chunks.push(chunk)
    await download.finish()
    expect(Buffer.compare(Buffer.concat(chunks), content)).toBe(0)
  }, 90_000)

  test("error: a stranger's storage challenge reads nothing — signed by a non-meta key (UntrustedMetaError), for another node, stale, or replayed", async () => {
    const content = new Uint8Array(randomBytes(4096))
    const client = createKonbiniClient({ metaUrls: net.file.metaUrls, account: owner, libp2p })
    const { root, holders: held } = await client.put([{ path: 'private.txt', content }], { name: 'private.txt', size: content.byteLength })
    const holder = net.file.nodes.find((n) => n.peerId === held[0]) as { peerId: string; httpUrl: string }
    const challenge = { peerId: holder.peerId, cids: [root], issuedAt: Math.floor(Date.now() / 1000), nonce: randomBytes(16).toString('hex') }
    const sign = (by: PrivateKeyAccount, c: typeof challenge) =>
      by.signTypedData(nodeStatementTypedData({ kind: 'challenge', peerId: c.peerId, digest: canonicalDigest(c) }, DEVNET_CHAIN_ID))
    const post = async (body: unknown) => postForError(holder.httpUrl, '/v1/challenge', body)
    const stranger = privateKeyToAccount(generatePrivateKey())
    expect(await post({ challenge, signature: await sign(stranger, challenge) })).toEqual({ status: 403, name: 'UntrustedMetaError' })
    expect(await post({ challenge })).toEqual({ status: 400, name: 'InvalidRequestError' })
    const other = { ...challenge, peerId: (net.file.nodes.find((n) => n.peerId !== holder.peerId) as { peerId: string }).peerId }
    expect(await post({ challenge: other, signature: await sign(stranger, other) })).toEqual({ status: 400, name: 'InvalidRequestError' })
    const stale = { ...challenge, issuedAt: challenge.issuedAt - 3600 }
    expect(await post({ challenge: stale, signature: await sign(stranger, stale) })).toEqual({ status: 400, name: 'InvalidRequestError' })
    // the meta node's own challenge is answered once; the same bytes replayed are refused
    const metaKey = privateKeyToAccount((await readFile(join(net.dataDir, 'meta', 'meta.key'), 'utf8')).trim() as `0x${string}`)
    const genuine = { challenge, signature: await sign(metaKey, challenge) }
    const answered = await fetch(new URL('/v1/challenge', holder.httpUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(genuine),
    })
    expect(answered.status).toBe(200)
    expect((await answered.arrayBuffer()).byteLength).toBeGreaterThan(content.byteLength)
    expect(await post(genuine)).toEqual({ status: 401, name: 'SignatureInvalidError' })
  })
})
