import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createNodeClientLibp2p } from '@konbini/browser-node/node'
import { FrameKind, type NodeEndpoint, ownerRequestTypedData, sessionGrantTypedData } from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Relay } from '../src/relay.ts'
import { startLoneNode } from './lone-node.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { readFrames, sendFrame } from '@konbini/browser-node'
import {
  errorName,
  exchange,
  nowSeconds,
  openBlocks,
  postJson,
  postUpload,
  rawBlock,
  signDownloadTicket,
  signUploadTicket,
  strangerPeerId,
  uploadBody,
} from './wire.ts'

type Hex = `0x${string}`

describe('a resource node checks tickets', () => {
  const metaKey = generatePrivateKey()
  const otherKey = generatePrivateKey()
  let lone: Awaited<ReturnType<typeof startLoneNode>> | undefined
  let relay: Relay
  let client: Libp2p
  let self: NodeEndpoint
  let stranger: string
  let stored: Awaited<ReturnType<typeof rawBlock>>

  beforeAll(async () => {
    lone = await startLoneNode(metaKey)
    relay = lone.relay
    self = lone.self
    stranger = await strangerPeerId()
    client = await createNodeClientLibp2p()
    // one block stored under a valid ticket: the download cases ask for it
    stored = await rawBlock()
    const answer = await postUpload(relay.httpUrl, {
      ticket: await signUploadTicket(metaKey, { nodes: [self.peerId] }),
      route: [self],
      body: uploadBody([stored]),
    })
    expect(answer).toMatchObject({ status: 200, body: { root: stored.cid.toString(), stored: [self.peerId] } })
  })

  afterAll(async () => {
    await client?.stop()
    await lone?.stop()
  })

  test('default', async () => {
    expect(await relay.resource?.blockstore.has(stored.cid)).toBe(true)
    const ticket = await signDownloadTicket(metaKey, { root: stored.cid.toString(), providers: [self.peerId] })
    const frames = await exchange(
      client,
      self,
      [
        { kind: FrameKind.Hello, json: ticket },
        { kind: FrameKind.Want, cids: [stored.cid] },
      ],
      1,
    )
    expect(frames).toHaveLength(1)
    const [frame] = frames
    expect(frame?.kind === FrameKind.Block && Buffer.from(frame.bytes).equals(Buffer.from(stored.bytes))).toBe(true)
  })

  /** Upload tickets that must be refused, with the error each must get. */
  const uploadCases: Array<[string, () => Promise<unknown>, string, number]> = [
    ['no ticket', async () => undefined, 'TicketMissingError', 401],
    [
      'a ticket naming the trusted meta but signed by another key',
      () => signUploadTicket(otherKey, { meta: privateKeyToAccount(metaKey).address, nodes: [self.peerId] }),
      'TicketForgedError',
      403,
    ],
    [
      'a garbage signature',
      async () => ({ ...(await signUploadTicket(metaKey, { nodes: [self.peerId] })), signature: `0x${'ab'.repeat(65)}` }),
      'TicketForgedError',
      403,
    ],
    [
      'a ticket changed after signing',
      async () => {
        const signed = await signUploadTicket(metaKey, { nodes: [self.peerId], maxBytes: 1 })
        return { ...signed, ticket: { ...signed.ticket, maxBytes: 1024 ** 3 } }
      },
      'TicketForgedError',
      403,
    ],
    ['a ticket signed for another chain', () => signUploadTicket(metaKey, { nodes: [self.peerId] }, 1), 'TicketForgedError', 403],
    ['an expired ticket', () => signUploadTicket(metaKey, { nodes: [self.peerId], expiresAt: nowSeconds() - 5 }), 'TicketExpiredError', 403],
    ['a ticket properly signed by an untrusted meta', () => signUploadTicket(otherKey, { nodes: [self.peerId] }), 'UntrustedMetaError', 403],
    ['a trusted ticket that places data on other nodes', () => signUploadTicket(metaKey, { nodes: [stranger] }), 'TicketScopeError', 403],
  ]

  test.each(uploadCases)('error: an HTTP upload with %s is refused and stores nothing', async (_what, make, name, status) => {
    const blocks = [await rawBlock(), await rawBlock()]
    const ticket = (await make()) as { ticket?: { nodes: string[] } } | undefined
    const route = (ticket?.ticket?.nodes ?? [self.peerId]).map((peerId) => (peerId === self.peerId ? self : { ...self, peerId }))
    const answer = await postUpload(relay.httpUrl, { ticket, route, body: uploadBody(blocks) })
    expect(answer.body.error?.name).toBe(name)
    expect(answer.status).toBe(status)
    for (const { cid } of blocks) expect(await relay.resource?.blockstore.has(cid)).toBe(false)
  })

  /** Download tickets that must be refused on the block exchange. */
  const downloadCases: Array<[string, () => Promise<unknown>, string]> = [
    ['no ticket', async () => null, 'TicketMissingError'],
    [
      'a ticket naming the trusted meta but signed by another key',
      () => signDownloadTicket(otherKey, { meta: privateKeyToAccount(metaKey).address, root: stored.cid.toString(), providers: [self.peerId] }),
      'TicketForgedError',
    ],
    [
      'a garbage signature',
      async () => ({ ...(await signDownloadTicket(metaKey, { root: stored.cid.toString(), providers: [self.peerId] })), signature: `0x${'cd'.repeat(65)}` }),
      'TicketForgedError',
    ],
    [
      'an expired ticket',
      () => signDownloadTicket(metaKey, { root: stored.cid.toString(), providers: [self.peerId], expiresAt: nowSeconds() - 5 }),
      'TicketExpiredError',
    ],
    [
      'a ticket properly signed by an untrusted meta',
      () => signDownloadTicket(otherKey, { root: stored.cid.toString(), providers: [self.peerId] }),
      'UntrustedMetaError',
    ],
    ['a trusted ticket naming other providers', () => signDownloadTicket(metaKey, { root: stored.cid.toString(), providers: [stranger] }), 'TicketScopeError'],
  ]

  test.each(downloadCases)('error: a block-exchange Hello with %s gets an Error frame and no block', async (_what, make, name) => {
    const frames = await exchange(
      client,
      self,
      [
        { kind: FrameKind.Hello, json: await make() },
        { kind: FrameKind.Want, cids: [stored.cid] },
      ],
      1,
    )
    expect(errorName(frames)).toBe(name)
    expect(frames.some((f) => f.kind === FrameKind.Block)).toBe(false)
  })

  test('error: a block-exchange session outliving its ticket gets TicketExpiredError for the wants after the expiry, and no block', async () => {
    const stream = await openBlocks(client, self)
    try {
      const ticket = await signDownloadTicket(metaKey, { root: stored.cid.toString(), providers: [self.peerId], expiresAt: nowSeconds() + 2 })
      await sendFrame(stream, { kind: FrameKind.Hello, json: ticket })
      await sendFrame(stream, { kind: FrameKind.Want, cids: [stored.cid] })
      const frames = readFrames(stream)[Symbol.asyncIterator]()
      expect((await frames.next()).value?.kind).toBe(FrameKind.Block)
      // the same session, once the ticket has expired (whole seconds: up to 3 s later)
      await new Promise((resolve) => setTimeout(resolve, 3200))
      await sendFrame(stream, { kind: FrameKind.Want, cids: [stored.cid] })
      const after = (await frames.next()).value
      expect(after?.kind).toBe(FrameKind.Error)
      expect(after?.kind === FrameKind.Error && after.error.name).toBe('TicketExpiredError')
    } finally {
      stream.abort(new Error('test done'))
    }
  })

  test('error: a block-exchange session that starts with a Want instead of a Hello gets TicketMissingError', async () => {
    const frames = await exchange(client, self, [{ kind: FrameKind.Want, cids: [stored.cid] }], 1)
    expect(errorName(frames)).toBe('TicketMissingError')
    expect(frames.some((f) => f.kind === FrameKind.Block)).toBe(false)
  })
})

describe('owner requests on a devnet', () => {
  let net: TestNetwork
  let root: string
  const content = new Uint8Array(Buffer.alloc(2 * 1024 * 1024 + 777, 'konbini'))
  const intruderKey = generatePrivateKey()

  /** An owner request signed by `signer`, naming `owner` (the signer unless told). */
  async function ownerRequest(signer: Hex, action: 'stat' | 'rm', owner = privateKeyToAccount(signer).address) {
    const request = { owner, action, target: root, nonce: generatePrivateKey().slice(2, 34), expiresAt: nowSeconds() + 120 }
    return { request, signature: await privateKeyToAccount(signer).signTypedData(ownerRequestTypedData(request, 31337)) }
  }

  beforeAll(async () => {
    net = await startTestNetwork()
    await writeFile(join(net.workDir, 'mine.bin'), content)
    const put = await net.cli(['put', join(net.workDir, 'mine.bin'), '--public', '--json'])
    expect(put.code, put.stderr).toBe(0)
    root = JSON.parse(put.stdout).root
  })

  afterAll(async () => {
    await net?.stop()
  })

  test('error: konbini rm with another key exits non-zero and says the key does not own the file', async () => {
    const res = await net.cli(['rm', root, '--key', intruderKey, '--json'])
    expect(res.code).not.toBe(0)
    expect(res.stderr).toContain('does not own')
    expect(res.stderr).toContain(privateKeyToAccount(intruderKey).address.toLowerCase())
    expect(res.stdout).toBe('')
  })

  test('error: an rm signed by a non-owner gets NotOwnerError', async () => {
    const answer = await postJson(net.file.metaUrls[0] as string, '/v1/files/rm', await ownerRequest(intruderKey, 'rm'))
    expect(answer.status).toBe(403)
    expect(answer.body.error?.name).toBe('NotOwnerError')
  })

  test('error: a request signed by one key naming another owner gets SignatureInvalidError', async () => {
    const owner = privateKeyToAccount(net.file.devKey as Hex).address
    const answer = await postJson(net.file.metaUrls[0] as string, '/v1/files/rm', await ownerRequest(intruderKey, 'rm', owner))
    expect(answer.status).toBe(401)
    expect(answer.body.error?.name).toBe('SignatureInvalidError')
  })

  test('error: a replayed owner request (same nonce) gets SignatureInvalidError', async () => {
    const signed = await ownerRequest(net.file.devKey as Hex, 'stat')
    const first = await postJson(net.file.metaUrls[0] as string, '/v1/files/stat', signed)
    expect(first.status).toBe(200)
    expect((first.body.file as { root: string }).root).toBe(root)
    const replay = await postJson(net.file.metaUrls[0] as string, '/v1/files/stat', signed)
    expect(replay.status).toBe(401)
    expect(replay.body.error?.name).toBe('SignatureInvalidError')
  })

  test("error: a session key acts for a wallet only with the wallet's grant: ungranted, granted by another wallet, or expired, it gets SignatureInvalidError", async () => {
    const meta = net.file.metaUrls[0] as string
    const owner = privateKeyToAccount(net.file.devKey as Hex)
    const grant = async (wallet: Hex, sessionKey: string, expiresAt: number) => {
      const draft = { wallet: privateKeyToAccount(wallet).address, sessionKey, expiresAt }
      return { grant: draft, signature: await privateKeyToAccount(wallet).signTypedData(sessionGrantTypedData(draft, 31337)) }
    }
    const sessionKey = generatePrivateKey()
    const session = privateKeyToAccount(sessionKey).address
    // no grant yet: the key cannot read the wallet's file, and the meta node says it has none
    expect((await postJson(meta, '/v1/files/stat', await ownerRequest(sessionKey, 'stat', owner.address))).body.error?.name).toBe('SignatureInvalidError')
    expect(await (await fetch(new URL(`/v1/grants/${session}`, meta))).json()).toEqual({ grant: null })
    // a grant from another wallet (the intruder's) does not make it the owner's
    expect((await postJson(meta, '/v1/grants', await grant(intruderKey, session, nowSeconds() + 600))).status).toBe(200)
    expect((await postJson(meta, '/v1/files/stat', await ownerRequest(sessionKey, 'stat', owner.address))).body.error?.name).toBe('SignatureInvalidError')
    // a grant that has expired is refused when posted, and a key whose grant lapsed is back to nothing
    const shortKey = generatePrivateKey()
    const short = privateKeyToAccount(shortKey).address
    expect((await postJson(meta, '/v1/grants', await grant(net.file.devKey as Hex, short, nowSeconds() - 1))).body.error?.name).toBe('InvalidRequestError')
    expect((await postJson(meta, '/v1/grants', await grant(net.file.devKey as Hex, short, nowSeconds() + 2))).status).toBe(200)
    expect((await postJson(meta, '/v1/files/stat', await ownerRequest(shortKey, 'stat', owner.address))).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 3200))
    expect((await postJson(meta, '/v1/files/stat', await ownerRequest(shortKey, 'stat', owner.address))).body.error?.name).toBe('SignatureInvalidError')
  })

  test("behavior: a session key the owner's wallet granted lists and stats the wallet's files (the portal's browser key), and the meta node names the wallet for it", async () => {
    const meta = net.file.metaUrls[0] as string
    const owner = privateKeyToAccount(net.file.devKey as Hex)
    const sessionKey = generatePrivateKey()
    const session = privateKeyToAccount(sessionKey).address
    const draft = { wallet: owner.address, sessionKey: session, expiresAt: nowSeconds() + 600 }
    const signed = { grant: draft, signature: await owner.signTypedData(sessionGrantTypedData(draft, 31337)) }
    expect((await postJson(meta, '/v1/grants', signed)).status).toBe(200)
    const named = (await (await fetch(new URL(`/v1/grants/${session}`, meta))).json()) as { grant: { grant: { wallet: string } } | null }
    expect(named.grant?.grant.wallet.toLowerCase()).toBe(owner.address.toLowerCase())
    const stat = await postJson(meta, '/v1/files/stat', await ownerRequest(sessionKey, 'stat', owner.address))
    expect(stat.status).toBe(200)
    expect((stat.body.file as { root: string }).root).toBe(root)
  })

  test("error: a stranger's providers request naming a node that holds nothing of the root gets NoProvidersError (no ticket names it); a malformed grant lookup gets InvalidRequestError", async () => {
    const meta = net.file.metaUrls[0] as string
    const consumer = privateKeyToAccount(intruderKey).address
    const stranger = await strangerPeerId()
    const refused = await postJson(meta, '/v1/providers', { root, consumer, providers: [stranger] })
    expect(refused.status).toBe(503)
    expect(refused.body.error?.name).toBe('NoProvidersError')
    // naming one real holder (the placement chose 3 of the 4 nodes) narrows the ticket to it
    const all = await postJson(meta, '/v1/providers', { root, consumer })
    expect(all.status).toBe(200)
    const holders = (all.body.download as { ticket: { providers: string[] } }).ticket.providers
    expect(holders.length).toBeGreaterThan(1)
    const holder = holders.at(-1) as string
    const narrowed = await postJson(meta, '/v1/providers', { root, consumer, providers: [holder, stranger] })
    expect(narrowed.status).toBe(200)
    expect((narrowed.body.download as { ticket: { providers: string[] } }).ticket.providers).toEqual([holder])
    const bad = await fetch(new URL('/v1/grants/not-an-address', meta))
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { name: string } }).error.name).toBe('InvalidRequestError')
  })

  test('behavior: after the refused requests the owner still has the file and it downloads intact', async () => {
    const stat = await net.cli(['stat', root, '--json'])
    expect(stat.code, stat.stderr).toBe(0)
    expect(JSON.parse(stat.stdout).file.root).toBe(root)
    const out = join(net.workDir, 'back.bin')
    const get = await net.cli(['get', root, '-o', out, '--json'])
    expect(get.code, get.stderr).toBe(0)
    expect(Buffer.from(await readFile(out)).equals(Buffer.from(content))).toBe(true)
  })
})
