import { randomBytes } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { unixfs } from '@helia/unixfs'
import { decode as decodePb } from '@ipld/dag-pb'
import { createKonbiniClient, type Download, MetaClient, signOwnerRequest, signPlacement } from '@konbini/browser-node'
import { createNodeClientLibp2p } from '@konbini/browser-node/node'
import {
  type AccessGrant,
  accessGrantTypedData,
  DEVNET_CHAIN_ID,
  FrameKind,
  type PlacementResponse,
  sessionGrantTypedData,
  type ProvidersResponse,
  TICKET_HEADER,
} from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { base32 } from 'multiformats/bases/base32'
import { CID } from 'multiformats/cid'
import { type PrivateKeyAccount, generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { zeroAddress } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { uploadTo } from './evil-dag.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { untilGatewayServes } from './public-gateway.ts'
import { stockHelia } from './stock-helia.ts'
import { base64urlJson, errorName, exchange, nowSeconds, postForError, postJson, randomHex32, uploadBody } from './wire.ts'

/** How a stock Helia client fails to get a block the node answers as absent (or never answers). */
const BITSWAP_REFUSALS = ['LoadBlockFailedError', 'AbortError', 'TimeoutError']

/**
 * Access attacked as a stranger would. Before: any stranger read a non-public file by CID from
 * any holder's gateway or over Bitswap, got a download ticket for it by naming any consumer, and
 * made it its own "public" file with an upload carrying only an End frame naming its root; the
 * denylist bound light peers only, full nodes kept serving a denied root everywhere.
 */
describe('access follows ownership; the denylist binds full nodes', () => {
  let net: TestNetwork
  let libp2p: Libp2p
  const alice = privateKeyToAccount(generatePrivateKey())
  const bob = privateKeyToAccount(generatePrivateKey())
  const carol = privateKeyToAccount(generatePrivateKey())
  const secretBytes = new Uint8Array(randomBytes(3 * 1024 * 1024 + 77))
  const publicBytes = new Uint8Array(randomBytes(2 * 1024 * 1024 + 5))
  let secret: { root: string; holders: string[] }
  let open: { root: string; holders: string[] }
  const meta = () => new MetaClient({ urls: net.file.metaUrls })
  const metaUrl = () => net.file.metaUrls[0] as string
  const client = (account: PrivateKeyAccount) => createKonbiniClient({ metaUrls: net.file.metaUrls, account, libp2p })
  const urlOf = (peerId: string) => net.file.nodes.find((n) => n.peerId === peerId)?.httpUrl as string
  /** A block straight from a holder's disk (the gateway no longer answers for private ones). */
  const blockOnDisk = async (peerId: string, cid: string) => {
    const i = net.file.nodes.findIndex((n) => n.peerId === peerId) + 1
    const key = CID.parse(cid).toV1().toString(base32)
    return new Uint8Array(await readFile(join(net.dataDir, `node${i}`, 'blocks', key.slice(-3, -1), key)))
  }
  const readAll = async (download: Download) => {
    const chunks: Uint8Array[] = []
    if (download.entry.type !== 'file') throw new Error('not a file')
    for await (const chunk of download.entry.content({ blockReadConcurrency: download.readAhead })) chunks.push(chunk)
    await download.finish()
    return Buffer.concat(chunks)
  }
  const grant = async (signer: PrivateKeyAccount, fields: Partial<AccessGrant> = {}) => {
    const g: AccessGrant = { id: randomHex32(), owner: alice.address, root: secret.root, grantee: carol.address, expiresAt: nowSeconds() + 600, ...fields }
    return { grant: g, signature: await signer.signTypedData(accessGrantTypedData(g, DEVNET_CHAIN_ID)) }
  }
  const read = async (signer: PrivateKeyAccount, consumer = signer.address, root = secret.root) => ({
    root,
    consumer,
    auth: await signOwnerRequest(signer, 'read', root, DEVNET_CHAIN_ID, consumer),
  })
  /** A stock Helia node asking one node for a CID over Bitswap; resolves to the bytes or the error's name. */
  const viaBitswap = async (peerId: string, root: string) => {
    const node = net.file.nodes.find((n) => n.peerId === peerId) as { multiaddrs: string[] }
    const helia = await stockHelia()
    try {
      const chunks: Uint8Array[] = []
      const addr = multiaddr(node.multiaddrs.find((a) => !a.includes('/ws')) as string)
      for await (const chunk of unixfs(helia).cat(CID.parse(root), { providers: [addr], signal: AbortSignal.timeout(6000) })) chunks.push(chunk)
      return Buffer.concat(chunks)
    } catch (err) {
      return (err as Error).name
    } finally {
      await helia.stop()
    }
  }

  beforeAll(async () => {
    net = await startTestNetwork({ resources: 3 })
    libp2p = await createNodeClientLibp2p()
    const a = client(alice)
    secret = await a.put([{ path: 'diary.txt', content: secretBytes }], { name: 'diary.txt', size: secretBytes.byteLength })
    open = await a.put([{ path: 'poster.bin', content: publicBytes }], { name: 'poster.bin', size: publicBytes.byteLength, public: true })
    for (const holder of open.holders) await untilGatewayServes(`${urlOf(holder)}/ipfs/${open.root}`)
  }, 120_000)
  afterAll(async () => {
    await libp2p?.stop()
    await net?.stop()
  })

  test("error: a stranger reads nothing of Alice's private file — gateway, raw blocks, Bitswap, tickets — and Alice reads it all", async () => {
    const leaf = decodePb(await blockOnDisk(secret.holders[0] as string, secret.root)).Links[0]?.Hash.toString() as string
    for (const holder of secret.holders) {
      for (const path of [`/ipfs/${secret.root}`, `/ipfs/${secret.root}?format=raw`, `/ipfs/${leaf}?format=raw`, `/ipfs/${secret.root}?format=car`]) {
        const res = await fetch(`${urlOf(holder)}${path}`)
        expect(res.status, path).toBe(403)
        expect(((await res.json()) as { error: { name: string } }).error.name).toBe('NotPublicError')
      }
    }
    expect(BITSWAP_REFUSALS).toContain(await viaBitswap(secret.holders[0] as string, secret.root))
    // a ticket: asked unsigned, asked by Bob for himself, or by Bob naming Alice as the consumer
    expect(await postForError(metaUrl(), '/v1/providers', { root: secret.root, consumer: alice.address })).toEqual({ status: 403, name: 'AccessDeniedError' })
    expect(await postForError(metaUrl(), '/v1/providers', await read(bob))).toEqual({ status: 403, name: 'AccessDeniedError' })
    expect(await postForError(metaUrl(), '/v1/providers', await read(bob, alice.address))).toEqual({ status: 401, name: 'SignatureInvalidError' })
    // Alice's own signed read replayed by someone who saw it gets nothing either
    const mine = await read(alice)
    expect((await postJson(metaUrl(), '/v1/providers', mine)).status).toBe(200)
    expect(await postForError(metaUrl(), '/v1/providers', mine)).toEqual({ status: 401, name: 'SignatureInvalidError' })
    await expect(client(bob).open(secret.root)).rejects.toMatchObject({ name: 'AccessDeniedError' })
    expect(Buffer.compare(await readAll(await client(alice).open(secret.root)), secretBytes)).toBe(0)
    // on the operator's disk the blocks are the node's alone (encryption comes with the portal)
    const i = net.file.nodes.findIndex((n) => n.peerId === secret.holders[0]) + 1
    const key = CID.parse(secret.root).toV1().toString(base32)
    expect((await stat(join(net.dataDir, `node${i}`, 'blocks', key.slice(-3, -1), key))).mode & 0o777).toBe(0o600)
  }, 60_000)

  test("behavior: Alice's access grant lets Carol read it — only Carol, only that root, only until it expires, only if Alice signed it", async () => {
    const forCarol = await grant(alice)
    expect(Buffer.compare(await readAll(await client(carol).open(secret.root, { grant: forCarol })), secretBytes)).toBe(0)
    await expect(client(bob).open(secret.root, { grant: forCarol })).rejects.toMatchObject({ name: 'AccessDeniedError' })
    const expired = await grant(alice, { expiresAt: nowSeconds() - 1 })
    await expect(client(carol).open(secret.root, { grant: expired })).rejects.toMatchObject({ name: 'AccessDeniedError' })
    const otherRoot = await grant(alice, { root: open.root })
    await expect(client(carol).open(secret.root, { grant: otherRoot })).rejects.toMatchObject({ name: 'AccessDeniedError' })
    const forgedByBob = await grant(bob)
    await expect(client(carol).open(secret.root, { grant: forgedByBob })).rejects.toMatchObject({ name: 'SignatureInvalidError' })
    // Bob granting what he does not own grants nothing
    const bobsOwn = await grant(bob, { owner: bob.address })
    await expect(client(carol).open(secret.root, { grant: bobsOwn })).rejects.toMatchObject({ name: 'AccessDeniedError' })
    // a link-style grant (to whoever holds it) lets Bob read
    const link = await grant(alice, { grantee: zeroAddress })
    expect(Buffer.compare(await readAll(await client(bob).open(secret.root, { grant: link })), secretBytes)).toBe(0)
  }, 60_000)

  test("behavior: a session key Alice's wallet granted reads her private file; one granted by Bob does not", async () => {
    const grantSession = async (wallet: PrivateKeyAccount) => {
      const session = privateKeyToAccount(generatePrivateKey())
      const g = { wallet: wallet.address, sessionKey: session.address, expiresAt: nowSeconds() + 600 }
      const answer = await postJson(metaUrl(), '/v1/grants', { grant: g, signature: await wallet.signTypedData(sessionGrantTypedData(g, DEVNET_CHAIN_ID)) })
      expect(answer.status).toBe(200)
      return session
    }
    const alices = await grantSession(alice)
    expect(Buffer.compare(await readAll(await client(alices).open(secret.root)), secretBytes)).toBe(0)
    const bobs = await grantSession(bob)
    await expect(client(bobs).open(secret.root)).rejects.toMatchObject({ name: 'AccessDeniedError' })
  }, 60_000)

  test("error: an upload sending only an End frame naming Alice's private root gets RootNotSentError; Bob pins nothing and learns nothing from have-lists", async () => {
    const name = 'stolen.bin'
    const signed = await signPlacement(bob, { owner: bob.address, name, size: secretBytes.byteLength, public: true }, DEVNET_CHAIN_ID)
    const answer = await postJson(metaUrl(), '/v1/uploads', signed)
    expect(answer.status).toBe(200)
    const place = answer.body as unknown as PlacementResponse
    // the nodes hold every block of it, but Bob's tickets sent none of them: "have" says no
    const leaves = decodePb(await blockOnDisk(secret.holders[0] as string, secret.root)).Links.map((l) => l.Hash.toString())
    const have = await fetch(new URL('/v1/blocks/have', place.nodes[0]?.httpUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [TICKET_HEADER]: base64urlJson(place.upload) },
      body: JSON.stringify({ cids: [secret.root, ...leaves] }),
    })
    expect(((await have.json()) as { have: boolean[] }).have.every((h) => h === false)).toBe(true)
    const claim = await uploadTo(place, uploadBody([], CID.parse(secret.root)))
    expect(claim.status).toBe(403)
    expect(claim.body.error?.name).toBe('RootNotSentError')
    const bobs = await meta().post('ls', await signOwnerRequest(bob, 'ls', '', DEVNET_CHAIN_ID))
    expect(bobs.files).toEqual([])
    // the file is still Alice's and still private
    expect((await fetch(`${urlOf(secret.holders[0] as string)}/ipfs/${secret.root}`)).status).toBe(403)
    expect(await postForError(metaUrl(), '/v1/providers', await read(bob))).toEqual({ status: 403, name: 'AccessDeniedError' })
  }, 60_000)

  test('error: a denied public root is refused by every full node — gateway 451, Bitswap, block exchange over HTTP and libp2p — and allowed again it is served', async () => {
    const holder = open.holders[0] as string
    expect(Buffer.compare((await viaBitswap(holder, open.root)) as Buffer, publicBytes)).toBe(0)
    // a ticket taken before the denial: the nodes must refuse it themselves
    const before = (await meta().post('providers', { root: open.root, consumer: bob.address })) as ProvidersResponse
    const denied = await net.cli(['deny', open.root, '--json'])
    expect(denied.code, denied.stderr).toBe(0)
    const everyNodeRefuses = async () => {
      const statuses = await Promise.all(net.file.nodes.map(async (n) => (await fetch(`${n.httpUrl}/ipfs/${open.root}`)).status))
      return statuses.every((s) => s === 451)
    }
    await expect.poll(everyNodeRefuses, { timeout: 20_000, interval: 250 }).toBe(true)
    const res = await fetch(`${urlOf(holder)}/ipfs/${open.root}?format=raw`)
    expect(((await res.json()) as { error: { name: string } }).error.name).toBe('ContentDeniedError')
    expect(BITSWAP_REFUSALS).toContain(await viaBitswap(holder, open.root))
    const wants = await fetch(new URL('/v1/blocks', urlOf(holder)), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [TICKET_HEADER]: base64urlJson(before.download) },
      body: JSON.stringify({ cids: [open.root] }),
    })
    expect(wants.status).toBe(451)
    expect(((await wants.json()) as { error: { name: string } }).error.name).toBe('ContentDeniedError')
    const endpoint = before.providers.find((p) => p.peerId === holder) as ProvidersResponse['providers'][number]
    const frames = await exchange(libp2p, endpoint, [
      { kind: FrameKind.Hello, json: before.download },
      { kind: FrameKind.Want, cids: [CID.parse(open.root)] },
    ])
    expect(errorName(frames)).toBe('ContentDeniedError')
    expect(frames.some((f) => f.kind === FrameKind.Block)).toBe(false)
    // and no new ticket, for anyone, the owner included
    await expect(client(alice).open(open.root)).rejects.toMatchObject({ name: 'ContentDeniedError' })

    const allowed = await net.cli(['allow', open.root, '--json'])
    expect(allowed.code, allowed.stderr).toBe(0)
    for (const h of open.holders) await untilGatewayServes(`${urlOf(h)}/ipfs/${open.root}`)
    expect(Buffer.compare(await readAll(await client(bob).open(open.root)), publicBytes)).toBe(0)
  }, 90_000)

  test('error: a page on another origin can send no simple request (form or plain-text POST: SimpleRequestRefusedError) and gets CORS only on the routes browsers use', async () => {
    const node = net.file.nodes[0]?.httpUrl as string
    const origin = { origin: 'https://evil.example' }
    for (const [base, path] of [
      [metaUrl(), '/v1/providers'],
      [metaUrl(), '/v1/denylist'],
      [node, '/v1/blocks'],
      [node, '/v1/replicate'],
    ] as const) {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
        const res = await fetch(new URL(path, base), {
          method: 'POST',
          headers: { ...origin, ...(type !== undefined && { 'content-type': type }) },
          body: JSON.stringify({ root: open.root, consumer: bob.address }),
        })
        expect(res.status, `${path} ${type}`).toBe(415)
        expect(((await res.json()) as { error: { name: string } }).error.name).toBe('SimpleRequestRefusedError')
      }
    }
    const preflight = async (base: string, path: string) => {
      const res = await fetch(new URL(path, base), {
        method: 'OPTIONS',
        headers: { ...origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      })
      return { origin: res.headers.get('access-control-allow-origin'), methods: res.headers.get('access-control-allow-methods') ?? '' }
    }
    // what browsers use: the portal, donor tabs and the browser client
    for (const [base, path] of [
      [metaUrl(), '/v1/providers'],
      [metaUrl(), '/v1/uploads'],
      [node, '/v1/blocks'],
      [node, '/v1/upload'],
    ] as const)
      expect(await preflight(base, path)).toMatchObject({ origin: '*', methods: expect.stringContaining('POST') })
    // what only processes call (an admin's denylist change, co-signing, storage reports, repair orders): a browser may not POST
    for (const [base, path] of [
      [metaUrl(), '/v1/denylist'],
      [metaUrl(), '/v1/epochs/cosign'],
      [metaUrl(), '/v1/reports/storage'],
      [node, '/v1/replicate'],
    ] as const) {
      expect((await preflight(base, path)).methods, path).not.toContain('POST')
    }
    // reads stay open to pages: public content and public data
    expect((await fetch(`${urlOf(open.holders[0] as string)}/ipfs/${open.root}`, { headers: origin })).headers.get('access-control-allow-origin')).toBe('*')
  })

  test('behavior: afterwards every process answers and the first file downloads intact for its owner', async () => {
    for (const url of [...net.file.metaUrls, ...net.file.nodes.map((n) => n.httpUrl)]) expect((await fetch(`${url}/healthz`)).status).toBe(200)
    expect(Buffer.compare(await readAll(await client(alice).open(secret.root)), secretBytes)).toBe(0)
  }, 60_000)
})
