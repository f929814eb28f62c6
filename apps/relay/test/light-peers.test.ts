import { join } from 'node:path'
import { MetaClient, signHeartbeat, signLeave, signOwnerRequest, signPlacement } from '@konbini/browser-node'
import { DEVNET_CHAIN_ID, type HeartbeatResponse, type HoldingProof, holdingProofDigest, ownerRequestTypedData } from '@konbini/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { writeRandomFile } from './files.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { createDatabase, startPostgres } from './postgres.ts'
import { nowSeconds, postJson } from './wire.ts'

/** A browser tab donating bandwidth, simulated from Node: an operator key and a libp2p Ed25519 key. */
interface LightPeer {
  account: PrivateKeyAccount
  key: PrivateKey
  peerId: string
}

interface Donor {
  storageCapBytes: number
  uploadCapBps: number
  dailyCapBytes: number
  servedBytes24h: number
  paused: boolean
}

const MiB = 1024 * 1024
const donor = (over: Partial<Donor> = {}): Donor => ({
  storageCapBytes: 64 * MiB,
  uploadCapBps: MiB,
  dailyCapBytes: 512 * MiB,
  servedBytes24h: 0,
  paused: false,
  ...over,
})

let net: TestNetwork
let meta: MetaClient
/** Someone downloading: their provider requests make roots popular. */
const consumer = privateKeyToAccount(generatePrivateKey()).address
const roots = { big: '', small: '', secret: '' }
const peers: LightPeer[] = []

async function lightPeer(): Promise<LightPeer> {
  const key = await generateKeyPair('Ed25519')
  return { account: privateKeyToAccount(generatePrivateKey()), key, peerId: peerIdFromPrivateKey(key).toString() }
}

interface BeatOptions {
  holds?: string[]
  donor?: Donor
  usedBytes?: number
  proofs?: HoldingProof[]
  /** Answer the meta node's spot checks right away, honestly (default true), as a browser's donor does. */
  prove?: boolean
}

/** Sends one heartbeat signed exactly as a browser's light peer signs it (then, unless `prove` is false, a second one proving its holdings). */
async function beat(peer: LightPeer, options: BeatOptions = {}): Promise<HeartbeatResponse> {
  const signed = await signHeartbeat({
    account: peer.account,
    privateKey: peer.key,
    body: {
      peerId: peer.peerId,
      kind: 'light',
      multiaddrs: [`/ip4/127.0.0.1/tcp/9/ws/p2p-circuit/webrtc/p2p/${peer.peerId}`],
      region: 'local',
      capacityBytes: options.donor?.storageCapBytes ?? 64 * MiB,
      usedBytes: options.usedBytes ?? 0,
      egressCapBps: MiB,
      activeTransfers: 0,
      trustedMetas: net.file.metaAddresses ?? [],
      holds: options.holds ?? [],
      ...(options.proofs !== undefined && { proofs: options.proofs }),
      donor: options.donor ?? donor(),
    },
  })
  const answer = await meta.post('heartbeat', signed)
  if (options.prove !== false && answer.proofs?.length) {
    const proofs = await Promise.all(answer.proofs.map(async (c) => ({ ...c, digest: await holdingProofDigest(c.nonce, await publicBlock(c.cid)) })))
    await beat(peer, { ...options, proofs, prove: false })
  }
  return answer
}

/** A block of a public root, read (and checked) from any full node's gateway: what an honest light peer holding it has. */
async function publicBlock(cid: string): Promise<Uint8Array> {
  // full nodes serve a root publicly from their first heartbeat after its placement
  for (const deadline = performance.now() + 15_000; performance.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
    for (const node of net.file.nodes) {
      const res = await fetch(`${node.httpUrl}/ipfs/${cid}?format=raw`)
      if (res.ok) return new Uint8Array(await res.arrayBuffer())
    }
  }
  throw new Error(`no full node serves ${cid}`)
}

async function providers(root: string, who = consumer) {
  return meta.post('providers', { root, consumer: who })
}

/** The owner's own request for its private file (signed: a private root is read only by its owner or a grant holder). */
async function ownerProviders(root: string) {
  const owner = privateKeyToAccount(net.file.devKey as `0x${string}`)
  return meta.post('providers', { root, consumer: owner.address, auth: await signOwnerRequest(owner, 'read', root, DEVNET_CHAIN_ID) })
}

async function lightProviders(root: string): Promise<string[]> {
  const answer = await providers(root)
  return answer.providers.filter((p) => p.kind === 'light').map((p) => p.peerId)
}

async function put(name: string, size: number, isPublic: boolean): Promise<string> {
  const path = join(net.workDir, name)
  await writeRandomFile(path, size)
  const res = await net.cli(['put', path, '--json', ...(isPublic ? ['--public'] : [])])
  if (res.code !== 0) throw new Error(res.stderr)
  return JSON.parse(res.stdout).root
}

const pg = await startPostgres()

describe('light peers (SQLite index)', () => lightPeerSuite(async () => ({})))
describe.skipIf(pg === undefined)('light peers (PostgreSQL index)', () => {
  afterAll(() => pg?.stop())
  lightPeerSuite(async () => ({ KONBINI_DATABASE_URL: await createDatabase(pg?.url ?? '', `light_${process.pid}`) }))
})

function lightPeerSuite(metaEnv: () => Promise<Record<string, string>>) {
  beforeAll(async () => {
    net = await startTestNetwork({ metaEnv: await metaEnv() })
    meta = new MetaClient({ urls: net.file.metaUrls })
    roots.big = await put('big.bin', 3 * MiB + 5, true)
    roots.small = await put('small.bin', 300_000, true)
    roots.secret = await put('secret.bin', 200_000, false)
    peers.splice(0)
    for (let i = 0; i < 3; i++) peers.push(await lightPeer())
  })

  afterAll(async () => {
    await net?.stop()
  })

  test('default: a light peer registers with kind light, no HTTP URL, and an empty denylist', async () => {
    const [p1] = peers as [LightPeer]
    const answer = await beat(p1)
    expect(answer).toMatchObject({ ok: true, denylist: [] })
    const { nodes } = await meta.get('nodes')
    const me = nodes.find((n) => n.peerId === p1.peerId)
    expect(me).toMatchObject({ kind: 'light', live: true, operator: p1.account.address.toLowerCase() })
    expect(me?.httpUrl).toBeUndefined()
  })

  test('behavior: the most requested public roots are assigned, fitting free storage; private files and cache fills do not count', async () => {
    const [p1, p2] = peers as [LightPeer, LightPeer]
    for (let i = 0; i < 5; i++) await providers(roots.big)
    for (let i = 0; i < 3; i++) await providers(roots.small)
    // a stranger gets no ticket for a private file; its owner's reads never get it cached
    await expect(providers(roots.secret)).rejects.toMatchObject({ name: 'AccessDeniedError' })
    for (let i = 0; i < 10; i++) await ownerProviders(roots.secret)
    // a light peer's own operator fetching for its cache is not demand
    for (let i = 0; i < 6; i++) await providers(roots.small, p1.account.address)

    // 1 MiB free: the 3 MiB root does not fit, the 300 kB one does
    const small = await beat(p1, { donor: donor({ storageCapBytes: 2 * MiB }), usedBytes: MiB })
    expect(small.cache).toEqual([{ root: roots.small, size: 300_000 }])
    const roomy = await beat(p2)
    expect(roomy.cache?.map((c) => c.root)).toEqual([roots.big, roots.small])
    const full = await beat(p2, { donor: donor({ storageCapBytes: MiB }), usedBytes: MiB })
    expect(full.cache).toEqual([])
  })

  test('behavior: a light peer holding a public root is listed with kind light alongside full nodes, and named in the ticket', async () => {
    const [p1] = peers as [LightPeer]
    const answer = await beat(p1, { holds: [roots.small, roots.secret] })
    expect(answer.cache?.map((c) => c.root)).not.toContain(roots.small)
    const got = await providers(roots.small)
    expect(got.providers.filter((p) => p.kind === 'full')).toHaveLength(3)
    expect(got.providers.filter((p) => p.kind === 'light').map((p) => p.peerId)).toEqual([p1.peerId])
    expect(got.providers.find((p) => p.peerId === p1.peerId)?.httpUrl).toBeUndefined()
    expect(got.download.ticket.providers.sort()).toEqual(got.providers.map((p) => p.peerId).sort())
    // a private file is never listed with a light peer, even one claiming to hold it
    const secret = await ownerProviders(roots.secret)
    expect(secret.providers.map((p) => p.kind)).toEqual(['full', 'full', 'full'])
  })

  test('error: a light peer claiming a root it does not hold is not ranked as its provider: unanswered it stays unproven, a wrong proof drops the claim', async () => {
    const liar = await lightPeer()
    const silent = await lightPeer()
    const claimed = await put('claimed.bin', 200_000, true)
    // spot checks read the block from a full holder's gateway: once it serves the new root
    await publicBlock(claimed)
    const first = await beat(liar, { holds: [claimed], prove: false })
    expect(first.proofs?.map((c) => c.root)).toEqual([claimed])
    await beat(silent, { holds: [claimed], prove: false })
    expect(await lightProviders(claimed)).toEqual([])
    // the liar cannot compute the digest without the block: it guesses
    const guessed = (first.proofs ?? []).map((c) => ({ ...c, digest: 'ab'.repeat(32) }))
    await beat(liar, { holds: [claimed], proofs: guessed, prove: false })
    expect(await lightProviders(claimed)).toEqual([])
    const nodes = (await meta.get('nodes')).nodes
    expect(nodes.find((n) => n.peerId === liar.peerId)?.auditFailures).toBe(1)
    // an honest peer holding it proves it at once and is listed
    const honest = await lightPeer()
    await beat(honest, { holds: [claimed] })
    expect(await lightProviders(claimed)).toEqual([honest.peerId])
    for (const p of [liar, silent, honest]) await meta.post('leave', await signLeave({ account: p.account, peerId: p.peerId }))
  })

  test('behavior: light copies of a root follow its demand: one per 2 recent requests, so donors spread', async () => {
    const [, p2, p3] = peers as [LightPeer, LightPeer, LightPeer]
    const spread = await put('spread.bin', 100_000, true)
    await providers(spread)
    // one request: one light copy wanted
    expect((await beat(p2)).cache?.map((c) => c.root)).toContain(spread)
    await beat(p2, { holds: [spread] })
    expect((await beat(p3)).cache?.map((c) => c.root)).not.toContain(spread)
    // more demand: a second donor is asked to hold it too
    for (let i = 0; i < 3; i++) await providers(spread)
    expect((await beat(p3)).cache?.map((c) => c.root)).toContain(spread)
    await beat(p2)
  })

  test('behavior: paused or daily-cap-spent light peers are not listed', async () => {
    const [p1] = peers as [LightPeer]
    await beat(p1, { holds: [roots.small], donor: donor({ paused: true }) })
    expect(await lightProviders(roots.small)).toEqual([])
    const spent = await beat(p1, { holds: [roots.small], donor: donor({ dailyCapBytes: MiB, servedBytes24h: MiB }) })
    expect(await lightProviders(roots.small)).toEqual([])
    expect(spent.cache).toEqual([])
    await beat(p1, { holds: [roots.small] })
    expect(await lightProviders(roots.small)).toEqual([p1.peerId])
  })

  test('error: a denylist change signed by a non-admin gets NotAdminError and changes nothing', async () => {
    const intruder = privateKeyToAccount(generatePrivateKey())
    const request = {
      owner: intruder.address,
      action: 'deny' as const,
      target: roots.small,
      nonce: generatePrivateKey().slice(2, 34),
      expiresAt: nowSeconds() + 60,
    }
    const signature = await intruder.signTypedData(ownerRequestTypedData(request, 31337))
    const answer = await postJson(net.file.metaUrls[0] as string, '/v1/denylist', { request, signature })
    expect(answer.status).toBe(403)
    expect(answer.body.error?.name).toBe('NotAdminError')
    const cli = await net.cli(['deny', roots.small, '--key', generatePrivateKey(), '--json'])
    expect(cli.code).not.toBe(0)
    expect(cli.stderr).toContain('not an admin')
    expect((await meta.get('denylist')).roots).toEqual([])
  })

  test('behavior: a denylisted root leaves assignments, gets no ticket and is in the heartbeat denylist; allow undoes it', async () => {
    const [p1, , p3] = peers as [LightPeer, LightPeer, LightPeer]
    expect((await beat(p3)).cache?.map((c) => c.root)).toContain(roots.small)
    const denied = await net.cli(['deny', roots.small, '--json'])
    expect(denied.code, denied.stderr).toBe(0)
    expect(JSON.parse(denied.stdout).roots).toEqual([roots.small])
    expect((await meta.get('denylist')).roots).toEqual([roots.small])

    const answer = await beat(p3)
    expect(answer.denylist).toEqual([roots.small])
    expect(answer.cache?.map((c) => c.root)).not.toContain(roots.small)
    // a peer still claiming it is ignored, and nobody gets a ticket for it, full nodes included
    await beat(p1, { holds: [roots.small] })
    await expect(providers(roots.small)).rejects.toMatchObject({ name: 'ContentDeniedError' })

    const allowed = await net.cli(['allow', roots.small, '--json'])
    expect(allowed.code, allowed.stderr).toBe(0)
    // full nodes serve it again from their next heartbeat: the claim's spot check reads it there
    await publicBlock(roots.small)
    expect((await beat(p1, { holds: [roots.small] })).denylist).toEqual([])
    expect(await lightProviders(roots.small)).toEqual([p1.peerId])
  })

  test('behavior: leave removes a light peer at once; a leave signed by another key is refused', async () => {
    const [p1] = peers as [LightPeer]
    await beat(p1, { holds: [roots.small] })
    const forged = await signLeave({ account: privateKeyToAccount(generatePrivateKey()), peerId: p1.peerId })
    const refused = await postJson(net.file.metaUrls[0] as string, '/v1/nodes/leave', { ...forged, body: { ...forged.body, operator: p1.account.address } })
    expect(refused.body.error?.name).toBe('SignatureInvalidError')
    expect(await lightProviders(roots.small)).toEqual([p1.peerId])

    expect(await meta.post('leave', await signLeave({ account: p1.account, peerId: p1.peerId }))).toEqual({ ok: true })
    expect(await lightProviders(roots.small)).toEqual([])
    const { nodes } = await meta.get('nodes')
    expect(nodes.find((n) => n.peerId === p1.peerId)?.live).toBe(false)
  })

  test('behavior: placement never picks a light peer, however roomy', async () => {
    for (const p of peers) await beat(p, { donor: donor({ storageCapBytes: 1024 * 1024 * MiB }) })
    const owner = privateKeyToAccount(net.file.devKey as `0x${string}`)
    const place = async (name: string, replicas: number) =>
      meta.post('placement', await signPlacement(owner, { owner: owner.address, name, size: 1000, replicas }, DEVNET_CHAIN_ID))
    await expect(place('five.bin', 5)).rejects.toMatchObject({ name: 'NotEnoughNodesError' })
    const placed = await place('four.bin', 4)
    const light = new Set(peers.map((p) => p.peerId))
    expect(placed.nodes).toHaveLength(4)
    expect(placed.nodes.some((n) => light.has(n.peerId))).toBe(false)
    expect(placed.nodes.every((n) => n.httpUrl !== undefined)).toBe(true)
  })
}
