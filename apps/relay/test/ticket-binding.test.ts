import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createNodeClientLibp2p } from '@konbini/browser-node/node'
import {
  decodeFrame,
  type Frame,
  FrameKind,
  FrameReader,
  type NodeEndpoint,
  nodeStatementTypedData,
  PART_HEADER,
  TICKET_HEADER,
  canonicalDigest,
} from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startLoneNode } from './lone-node.ts'
import type { Relay } from '../src/relay.ts'
import {
  base64urlJson,
  CHAIN_ID,
  errorName,
  exchange,
  postJson,
  postUpload,
  rawBlock,
  signDownloadTicket,
  signUploadTicket,
  strangerPeerId,
  uploadBody,
} from './wire.ts'

type Hex = `0x${string}`

/**
 * Tickets attacked as a stranger would: before, a used upload ticket for a 1 KiB file stored
 * 15 MiB more on three nodes, five times over; a download ticket for root X served a block of
 * unrelated root Y; `/v1/replicate` was taken from anyone holding any upload ticket; and the next
 * hop's URL came from the request, so a node POSTed attacker-chosen bytes to any host and port.
 */
describe('tickets bind what they say', () => {
  const metaKey = generatePrivateKey()
  const otherKey = generatePrivateKey()
  let lone: Awaited<ReturnType<typeof startLoneNode>> | undefined
  let relay: Relay
  let client: Libp2p
  let self: NodeEndpoint
  let capture: Server
  let captured = 0
  let captureUrl: string

  /** POST /v1/blocks under `ticket` for `cids`: the answer's frames. */
  const httpWant = async (ticket: unknown, cids: string[]): Promise<Frame[]> => {
    const res = await fetch(new URL('/v1/blocks', relay.httpUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [TICKET_HEADER]: base64urlJson(ticket) },
      body: JSON.stringify({ cids }),
    })
    const reader = new FrameReader()
    return reader.push(new Uint8Array(await res.arrayBuffer())).map(decodeFrame)
  }

  beforeAll(async () => {
    lone = await startLoneNode(metaKey)
    relay = lone.relay
    self = lone.self
    client = await createNodeClientLibp2p()
    // where an attacker wants the node to send bytes
    capture = createServer((req, res) => {
      captured++
      req.resume()
      req.on('end', () => res.writeHead(200).end('{}'))
    })
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve))
    captureUrl = `http://127.0.0.1:${(capture.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    capture?.close()
    await client?.stop()
    await lone?.stop()
  })

  test("error: a route whose next hop's URL is not the ticket's is refused with InvalidRequestError, and nothing is sent there", async () => {
    const next = await strangerPeerId()
    const ticket = await signUploadTicket(metaKey, { nodes: [self.peerId, next], urls: [relay.httpUrl, 'http://127.0.0.1:9'] })
    const answer = await postUpload(relay.httpUrl, {
      ticket,
      route: [self, { peerId: next, multiaddrs: [], httpUrl: captureUrl }],
      body: uploadBody([await rawBlock()]),
    })
    expect(answer).toMatchObject({ status: 400, body: { error: { name: 'InvalidRequestError' } } })
    expect(captured).toBe(0)
  })

  test('error: a used upload ticket stores nothing more (UploadTicketUsedError), and its byte budget counts across parts (QuotaExceededError)', async () => {
    const ticket = await signUploadTicket(metaKey, { nodes: [self.peerId], urls: [relay.httpUrl], maxBytes: 200 * 1024 })
    expect((await postUpload(relay.httpUrl, { ticket, route: [self], body: uploadBody([await rawBlock()]) })).status).toBe(200)
    const again = await postUpload(relay.httpUrl, { ticket, route: [self], body: uploadBody([await rawBlock(100 * 1024)]) })
    expect(again).toMatchObject({ status: 409, body: { error: { name: 'UploadTicketUsedError' } } })

    const parts = await signUploadTicket(metaKey, { nodes: [self.peerId], urls: [relay.httpUrl], maxBytes: 200 * 1024 })
    const part = async (size: number) => {
      const res = await fetch(new URL('/v1/upload', relay.httpUrl), {
        method: 'POST',
        headers: {
          'content-type': 'application/vnd.konbini.frames',
          [TICKET_HEADER]: base64urlJson(parts),
          'x-konbini-route': base64urlJson([self]),
          [PART_HEADER]: '1',
        },
        body: uploadBody([await rawBlock(size)], null) as Uint8Array<ArrayBuffer>,
      })
      return { status: res.status, name: ((await res.json()) as { error?: { name: string } }).error?.name }
    }
    expect(await part(150 * 1024)).toEqual({ status: 200, name: undefined })
    expect(await part(150 * 1024)).toEqual({ status: 413, name: 'QuotaExceededError' })
  })

  test('error: a download ticket for root X serves no block of unrelated root Y, over HTTP or libp2p (TicketScopeError); its own root is served', async () => {
    const x = await rawBlock()
    const y = await rawBlock()
    for (const block of [x, y])
      expect(
        (
          await postUpload(relay.httpUrl, {
            ticket: await signUploadTicket(metaKey, { nodes: [self.peerId], urls: [relay.httpUrl] }),
            route: [self],
            body: uploadBody([block]),
          })
        ).status,
      ).toBe(200)
    const ticket = await signDownloadTicket(metaKey, { root: x.cid.toString(), providers: [self.peerId] })
    const foreign = await httpWant(ticket, [y.cid.toString()])
    expect(errorName(foreign)).toBe('TicketScopeError')
    expect(foreign.some((f) => f.kind === FrameKind.Block)).toBe(false)
    const viaLibp2p = await exchange(client, self, [
      { kind: FrameKind.Hello, json: ticket },
      { kind: FrameKind.Want, cids: [y.cid] },
    ])
    expect(errorName(viaLibp2p)).toBe('TicketScopeError')
    const own = await httpWant(ticket, [x.cid.toString()])
    expect(own.map((f) => f.kind)).toEqual([FrameKind.Block])
  })

  test("error: /v1/replicate without a trusted meta node's signature is refused (unsigned: InvalidRequestError, signed by a stranger: UntrustedMetaError); signed, it is accepted", async () => {
    const source = await strangerPeerId()
    const root = (await rawBlock()).cid.toString()
    const order = {
      upload: await signUploadTicket(metaKey, { nodes: [self.peerId], urls: [relay.httpUrl] }),
      // repair is the meta node's own download
      download: await signDownloadTicket(metaKey, { root, providers: [source], consumer: privateKeyToAccount(metaKey).address }),
      sources: [{ peerId: source, multiaddrs: [], httpUrl: captureUrl }],
    }
    const signedBy = async (key: Hex) => {
      const digest = canonicalDigest(order)
      return privateKeyToAccount(key).signTypedData(nodeStatementTypedData({ kind: 'replicate', peerId: self.peerId, digest }, CHAIN_ID))
    }
    expect(await postJson(relay.httpUrl, '/v1/replicate', order)).toMatchObject({ status: 400, body: { error: { name: 'InvalidRequestError' } } })
    expect(await postJson(relay.httpUrl, '/v1/replicate', { ...order, signature: await signedBy(otherKey) })).toMatchObject({
      status: 403,
      body: { error: { name: 'UntrustedMetaError' } },
    })
    expect(await postJson(relay.httpUrl, '/v1/replicate', { ...order, signature: await signedBy(metaKey) })).toMatchObject({ status: 202 })
  })
})
