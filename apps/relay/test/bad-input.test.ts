import { holdersOnDisk } from './on-disk.ts'
import { untilGatewayServes } from './public-gateway.ts'
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createKonbiniClient, signPlacement } from '@konbini/browser-node'
import { createNodeClientLibp2p, writeDownload } from '@konbini/browser-node/node'
import { decode as decodeDagPb } from '@ipld/dag-pb'
import {
  encodeLengthPrefixed,
  type Frame,
  FrameKind,
  MAX_JSON_BODY,
  MAX_MESSAGE_SIZE,
  MAX_QUEUED_WANTS,
  MAX_WANTLIST_SIZE,
  type ProvidersResponse,
  DEVNET_CHAIN_ID,
} from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { varint } from 'multiformats'
import { CID } from 'multiformats/cid'
import { readFrames } from '@konbini/browser-node'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { evilFolder, placement, uploadTo } from './evil-dag.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { errorName, exchange, openBlocks, postJson, rawBlock, rawCidOf, uploadBody } from './wire.ts'

const ownerKey = privateKeyToAccount(generatePrivateKey())
const owner = ownerKey.address

function lengthPrefix(n: number): Uint8Array {
  return varint.encodeTo(n, new Uint8Array(varint.encodingLength(n)))
}

async function getJson(url: string): Promise<{ status: number; body: { error?: { name: string } } }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) })
  return { status: res.status, body: (await res.json().catch(() => ({}))) as { error?: { name: string } } }
}

describe('bad input on a devnet', () => {
  let net: TestNetwork
  let metaUrl: string
  let libp2p: Libp2p
  let root: string
  let providers: ProvidersResponse
  const content = new Uint8Array(randomBytes(3 * 1024 * 1024 + 4321))

  /** True when no node of the devnet holds the block. */
  async function storedNowhere(cid: string): Promise<boolean> {
    return (await holdersOnDisk(net.dataDir, net.file.nodes.length, cid)) === 0
  }

  beforeAll(async () => {
    net = await startTestNetwork()
    metaUrl = net.file.metaUrls[0] as string
    await writeFile(join(net.workDir, 'keep.bin'), content)
    const put = await net.cli(['put', join(net.workDir, 'keep.bin'), '--public', '--json'])
    expect(put.code, put.stderr).toBe(0)
    root = JSON.parse(put.stdout).root
    const answer = await postJson(metaUrl, '/v1/providers', { root, consumer: owner })
    expect(answer.status).toBe(200)
    providers = answer.body as unknown as ProvidersResponse
    for (const p of providers.providers) if (p.httpUrl !== undefined) await untilGatewayServes(`${p.httpUrl}/ipfs/${root}`)
    libp2p = await createNodeClientLibp2p()
  })

  afterAll(async () => {
    await libp2p?.stop()
    await net?.stop()
  })

  test('error: the gateway names malformed CIDs, and answers an unknown CID as it answers a private one (NotPublicError)', async () => {
    const unknown = (await rawBlock()).cid.toString()
    for (const node of net.file.nodes) {
      expect(await getJson(`${node.httpUrl}/ipfs/not-a-cid`)).toMatchObject({ status: 400, body: { error: { name: 'InvalidCidError' } } })
      // the same answer for a block absent and a block of someone's private file: the gateway tells nobody what it holds
      expect(await getJson(`${node.httpUrl}/ipfs/${unknown}?format=raw`)).toMatchObject({ status: 403, body: { error: { name: 'NotPublicError' } } })
      expect(await getJson(`${node.httpUrl}/ipfs/${unknown}`)).toMatchObject({ status: 403, body: { error: { name: 'NotPublicError' } } })
    }
  })

  test('error: the meta node names malformed and unknown roots', async () => {
    expect(await postJson(metaUrl, '/v1/providers', { root: 'not-a-cid', consumer: owner })).toMatchObject({
      status: 400,
      body: { error: { name: 'InvalidRequestError' } },
    })
    const unknown = (await rawBlock()).cid.toString()
    expect(await postJson(metaUrl, '/v1/providers', { root: unknown, consumer: owner })).toMatchObject({
      status: 404,
      body: { error: { name: 'FileNotFoundError' } },
    })
  })

  test('error: konbini get of a malformed CID prints one sentence, no stack', async () => {
    const res = await net.cli(['get', 'not-a-cid'])
    expect(res.code).not.toBe(0)
    expect(res.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(res.stderr).toMatch(/not-a-cid.*is not a valid CID/)
    expect(res.stderr).not.toMatch(/^\s+at /m)
  })

  test('error: an upload frame longer than MAX_MESSAGE_SIZE gets MessageTooLargeError', async () => {
    const place = await placement(metaUrl, ownerKey, 'big.bin', 1024)
    const body = Buffer.concat([lengthPrefix(MAX_MESSAGE_SIZE + 1), Buffer.from([FrameKind.Block]), randomBytes(1024)])
    const answer = await uploadTo(place, body)
    expect(answer.status).toBe(413)
    expect(answer.body.error?.name).toBe('MessageTooLargeError')
  })

  test('error: a JSON body over MAX_JSON_BODY to the meta node gets MessageTooLargeError', async () => {
    const answer = await postJson(metaUrl, '/v1/uploads', { owner, name: 'x'.repeat(MAX_JSON_BODY), size: 1 })
    expect(answer.status).toBe(413)
    expect(answer.body.error?.name).toBe('MessageTooLargeError')
    // far over the limit: the node drains the rest so the client still reads the named error
    const huge = await postJson(metaUrl, '/v1/uploads', { owner, name: 'x'.repeat(20_000_000), size: 1 })
    expect(huge.body.error?.name).toBe('MessageTooLargeError')
  })

  test('error: an uploaded block whose bytes do not match its CID gets BlockHashMismatchError', async () => {
    const [claimed, actual] = [await rawBlock(), await rawBlock()]
    const place = await placement(metaUrl, ownerKey, 'liar.bin', 1024)
    const answer = await uploadTo(place, uploadBody([{ cid: claimed.cid, bytes: actual.bytes }], claimed.cid))
    expect(answer.status).toBe(400)
    expect(answer.body.error?.name).toBe('BlockHashMismatchError')
    expect(await storedNowhere(claimed.cid.toString())).toBe(true)
    expect(await storedNowhere(actual.cid.toString())).toBe(true)
  })

  test.each([
    ['want-list', FrameKind.Want],
    ['cancel list', FrameKind.Cancel],
  ])('error: a %s over MAX_WANTLIST_SIZE gets WantListTooLargeError', async (_what, kind) => {
    const cid = (await rawBlock()).cid
    // encodeFrame refuses to build this frame: write it by hand
    const body = Buffer.concat([
      Buffer.from([kind]),
      ...Array.from({ length: MAX_WANTLIST_SIZE + 1 }, () => Buffer.concat([lengthPrefix(cid.bytes.byteLength), cid.bytes])),
    ])
    const hello = encodeLengthPrefixed({ kind: FrameKind.Hello, json: providers.download })
    const frames = await exchange(libp2p, providers.providers[0] as ProvidersResponse['providers'][number], [
      hello,
      Buffer.concat([lengthPrefix(body.byteLength), body]),
    ])
    expect(errorName(frames)).toBe('WantListTooLargeError')
  })

  test('error: a session that leaves more than MAX_QUEUED_WANTS wants waiting gets InvalidMessageError', async () => {
    // distinct CIDs no node holds, in want-lists of the largest allowed size, all in one write:
    // the node reads them before it can answer many
    const lists = Math.ceil((MAX_QUEUED_WANTS + 1) / MAX_WANTLIST_SIZE) + 1
    const frames: Uint8Array[] = [encodeLengthPrefixed({ kind: FrameKind.Hello, json: providers.download })]
    for (let i = 0; i < lists; i++) {
      const cids = await Promise.all(Array.from({ length: MAX_WANTLIST_SIZE }, async () => (await rawBlock(8)).cid))
      frames.push(encodeLengthPrefixed({ kind: FrameKind.Want, cids }))
    }
    const answer = await exchange(libp2p, providers.providers[0] as ProvidersResponse['providers'][number], [Buffer.concat(frames)])
    expect(errorName(answer)).toBe('InvalidMessageError')
    // it was refused for the queue, not before: the node had started answering
    expect(answer.filter((f) => f.kind === FrameKind.DontHave).length).toBeLessThan(lists * MAX_WANTLIST_SIZE)
  })

  test('behavior: a Cancel drops a want not yet sent and is harmless for CIDs never asked; before a Hello it gets TicketMissingError', async () => {
    const node = providers.providers[0] as ProvidersResponse['providers'][number]
    const rootBlock = await fetch(`${node.httpUrl}/ipfs/${root}?format=raw`).then(async (r) => new Uint8Array(await r.arrayBuffer()))
    const [first, second] = decodeDagPb(rootBlock).Links.map((l) => CID.asCID(l.Hash) as CID)
    const stranger = (await rawBlock()).cid
    const stream = await openBlocks(libp2p, node)
    const answer: Frame[] = []
    try {
      // one write: the Cancel is read while the node fetches the first block from its store
      stream.send(
        Buffer.concat([
          encodeLengthPrefixed({ kind: FrameKind.Hello, json: providers.download }),
          encodeLengthPrefixed({ kind: FrameKind.Want, cids: [first as CID, second as CID] }),
          encodeLengthPrefixed({ kind: FrameKind.Cancel, cids: [second as CID, stranger] }),
        ]),
      )
      await stream.close()
      for await (const frame of readFrames(stream)) answer.push(frame)
    } finally {
      stream.abort(new Error('test done'))
    }
    expect(answer.map((f) => [f.kind, 'cid' in f ? f.cid.toString() : ''])).toEqual([[FrameKind.Block, first?.toString()]])

    const early = await exchange(libp2p, node, [encodeLengthPrefixed({ kind: FrameKind.Cancel, cids: [stranger] })])
    expect(errorName(early)).toBe('TicketMissingError')
  })

  test('error: a block-exchange frame longer than MAX_MESSAGE_SIZE gets MessageTooLargeError', async () => {
    const hello = encodeLengthPrefixed({ kind: FrameKind.Hello, json: providers.download })
    const frames = await exchange(libp2p, providers.providers[0] as ProvidersResponse['providers'][number], [
      hello,
      lengthPrefix(MAX_MESSAGE_SIZE + 1),
      randomBytes(4096),
    ])
    expect(errorName(frames)).toBe('MessageTooLargeError')
  })

  test.each(['../x', 'a/b', '..', 'nul\u0000', 'line\nbreak', '\u001b[31mred'])('error: a placement named %j gets InvalidNameError', async (name) => {
    const answer = await postJson(metaUrl, '/v1/uploads', await signPlacement(ownerKey, { owner, name, size: 10 }, DEVNET_CHAIN_ID))
    expect(answer.status).toBe(400)
    expect(answer.body.error?.name).toBe('InvalidNameError')
  })

  test('error: konbini put of a folder holding a control-character name uploads nothing', async () => {
    const folder = join(net.workDir, 'tricky')
    await mkdir(folder)
    const secret = randomBytes(2048)
    await writeFile(join(folder, 'fine.txt'), secret)
    await writeFile(join(folder, 'evil\nname\u001b[2J.txt'), secret)
    const res = await net.cli(['put', folder, '--json'])
    expect(res.code).not.toBe(0)
    expect(res.stderr).toMatch(/is not allowed/)
    expect(res.stderr).not.toMatch(/^\s+at /m)
    expect(await storedNowhere((await rawCidOf(secret)).toString())).toBe(true)
    const ls = await net.cli(['ls', '--json'])
    expect(JSON.parse(ls.stdout).files.map((f: { name: string }) => f.name)).toEqual(['keep.bin'])
  })

  test.each(['..', 'a/../../x', 'bell\u0007'])(
    'error: downloading a stored DAG with an entry named %j fails with InvalidNameError and writes nothing outside',
    async (name) => {
      const evil = await evilFolder(name)
      // public, so anyone (the CLI's key, a stranger's client) may try to download it
      const place = await placement(metaUrl, ownerKey, 'evil', evil.size, true)
      const stored = await uploadTo(place, uploadBody(evil.blocks, evil.root))
      expect(stored.status, JSON.stringify(stored.body)).toBe(200)
      const status = await fetch(`${metaUrl}/v1/uploads/${place.upload.ticket.id}?wait=30`).then((r) => r.json())
      expect(status.complete).toBe(true)

      const parent = join(net.workDir, `evil-${randomBytes(4).toString('hex')}`)
      await mkdir(parent)
      const res = await net.cli(['get', evil.root.toString(), '-o', join(parent, 'out')])
      expect((await readdir(parent)).filter((n) => n !== 'out')).toEqual([])
      expect(res.code).not.toBe(0)
      expect(res.stderr).toMatch(/The name .* is not allowed/)
      expect(res.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/)

      const client = createKonbiniClient({ metaUrls: [metaUrl], account: privateKeyToAccount(generatePrivateKey()), libp2p })
      const download = await client.open(evil.root.toString())
      const err = await writeDownload(download, join(parent, 'api', 'out')).catch((e: Error) => e)
      await download.finish()
      expect((err as Error).name).toBe('InvalidNameError')
      expect(await readdir(join(parent, 'api'))).toEqual(['out'])
    },
  )

  test('behavior: afterwards every process answers and the first file downloads byte-identical', async () => {
    for (const url of [metaUrl, ...net.file.nodes.map((n) => n.httpUrl)]) {
      expect((await fetch(`${url}/healthz`)).status).toBe(200)
    }
    const pids = [...net.devnet.metas, ...net.devnet.nodes].map((p) => p.ready?.pid as number)
    for (const pid of pids) expect(() => process.kill(pid, 0)).not.toThrow()
    const out = join(net.workDir, 'keep-again.bin')
    const get = await net.cli(['get', root, '-o', out, '--json'])
    expect(get.code, get.stderr).toBe(0)
    expect(Buffer.from(await readFile(out)).equals(Buffer.from(content))).toBe(true)
  })
})
