import { randomBytes } from 'node:crypto'
import {
  BLOCKS_PROTOCOL,
  type DownloadTicket,
  downloadTicketTypedData,
  encodeLengthPrefixed,
  type Frame,
  FrameKind,
  type NodeEndpoint,
  NO_PAYER,
  TICKET_HEADER,
  type UploadTicket,
  uploadTicketTypedData,
} from '@konbini/protocol'
import { readFrames, sendFrame } from '@konbini/browser-node'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { privateKeyToAccount } from 'viem/accounts'

/** Test helpers that speak Konbini's wire formats by hand, so tests can craft what clients never send. */

type Hex = `0x${string}`
export const CHAIN_ID = 31337

export function randomHex32(): Hex {
  return `0x${randomBytes(32).toString('hex')}`
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

/** A peer id no running node has. */
export async function strangerPeerId(): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

/** A fresh raw block (random bytes) and its CID. */
export async function rawBlock(size = 1024): Promise<{ cid: CID; bytes: Uint8Array }> {
  const bytes = new Uint8Array(randomBytes(size))
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
}

/** Signs an upload ticket with `key`; `ticket.meta` defaults to the signer but can name anyone. */
export async function signUploadTicket(key: Hex, ticket: Partial<UploadTicket> & Pick<UploadTicket, 'nodes'>, chainId = CHAIN_ID) {
  const account = privateKeyToAccount(key)
  const full: UploadTicket = {
    id: randomHex32(),
    meta: account.address,
    owner: privateKeyToAccount(randomHex32()).address,
    payer: NO_PAYER,
    epoch: 0,
    maxBytes: 64 * 1024 * 1024,
    expiresAt: nowSeconds() + 600,
    // nobody listens there: a test that forwards names real URLs
    urls: ticket.nodes.map(() => 'http://127.0.0.1:9'),
    ...ticket,
  }
  return { ticket: full, signature: await account.signTypedData(uploadTicketTypedData(full, chainId)) }
}

/** Signs a download ticket with `key`; `ticket.meta` defaults to the signer. */
export async function signDownloadTicket(key: Hex, ticket: Partial<DownloadTicket> & Pick<DownloadTicket, 'providers' | 'root'>, chainId = CHAIN_ID) {
  const account = privateKeyToAccount(key)
  const full: DownloadTicket = {
    id: randomHex32(),
    meta: account.address,
    consumer: privateKeyToAccount(randomHex32()).address,
    payer: NO_PAYER,
    maxBytes: 64 * 1024 * 1024,
    epoch: 0,
    expiresAt: nowSeconds() + 600,
    ...ticket,
  }
  return { ticket: full, signature: await account.signTypedData(downloadTicketTypedData(full, chainId)) }
}

export function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')
}

/** An upload body: length-prefixed Block frames, then End (unless `root` is null). */
export function uploadBody(blocks: Array<{ cid: CID; bytes: Uint8Array }>, root: CID | null = blocks.at(-1)?.cid ?? null): Uint8Array {
  const frames: Frame[] = blocks.map(({ cid, bytes }) => ({ kind: FrameKind.Block, cid, bytes }))
  if (root !== null) frames.push({ kind: FrameKind.End, root })
  return Buffer.concat(frames.map(encodeLengthPrefixed))
}

export interface WireAnswer {
  status: number
  body: { error?: { name: string; message: string }; root?: string; stored?: string[] } & Record<string, unknown>
}

/** POSTs an upload to a node the way the client does, with an optional ticket and route. */
export async function postUpload(
  httpUrl: string,
  { ticket, route, body }: { ticket?: unknown; route?: NodeEndpoint[]; body: Uint8Array },
): Promise<WireAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/vnd.konbini.frames' }
  if (ticket !== undefined) headers[TICKET_HEADER] = base64urlJson(ticket)
  if (route !== undefined) headers['x-konbini-route'] = base64urlJson(route)
  const res = await fetch(new URL('/v1/upload', httpUrl), {
    method: 'POST',
    headers,
    body: body as Uint8Array<ArrayBuffer>,
    signal: AbortSignal.timeout(30_000),
  })
  return { status: res.status, body: (await res.json()) as WireAnswer['body'] }
}

/** POSTs JSON (or raw text) to a meta route and returns the status and the parsed answer. */
export async function postJson(url: string, path: string, body: unknown): Promise<WireAnswer> {
  const res = await fetch(new URL(path, url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  })
  return { status: res.status, body: (await res.json()) as WireAnswer['body'] }
}

/** POSTs JSON to `path` at `url`: the status and the named error of the answer (undefined when it succeeded). */
export async function postForError(url: string, path: string, body: unknown): Promise<{ status: number; name: string | undefined }> {
  const answer = await postJson(url, path, body)
  return { status: answer.status, name: answer.body.error?.name }
}

/** Opens `/konbini/blocks/1.0.0` to a node. */
export async function openBlocks(libp2p: Libp2p, endpoint: Pick<NodeEndpoint, 'peerId' | 'multiaddrs'>): Promise<Stream> {
  const addrs = endpoint.multiaddrs.map((a) => multiaddr(a.includes('/p2p/') ? a : `${a}/p2p/${endpoint.peerId}`))
  return libp2p.dialProtocol(addrs, BLOCKS_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
}

/**
 * Sends raw bytes and/or frames on a fresh block-exchange stream and collects the answer frames
 * until the node sends an Error frame, ends the stream, or `count` frames arrived.
 */
export async function exchange(
  libp2p: Libp2p,
  endpoint: Pick<NodeEndpoint, 'peerId' | 'multiaddrs'>,
  send: Array<Frame | Uint8Array>,
  count = Number.POSITIVE_INFINITY,
): Promise<Frame[]> {
  const stream = await openBlocks(libp2p, endpoint)
  const answers: Frame[] = []
  const timer = setTimeout(() => stream.abort(new Error('no answer within 10 s')), 10_000)
  try {
    for (const item of send) {
      if (item instanceof Uint8Array) {
        if (!stream.send(item)) await stream.onDrain()
      } else await sendFrame(stream, item)
    }
    for await (const frame of readFrames(stream)) {
      answers.push(frame)
      if (frame.kind === FrameKind.Error || answers.length >= count) break
    }
  } finally {
    clearTimeout(timer)
    stream.abort(new Error('test done'))
  }
  return answers
}

/** The error name of the node's Error frame, or a description of what came instead. */
export function errorName(frames: Frame[]): string {
  const last = frames.at(-1)
  return last?.kind === FrameKind.Error ? last.error.name : `no Error frame (got kinds ${frames.map((f) => f.kind).join(',') || 'none'})`
}

/** The CID of `bytes` as one raw block (a file under 1 MiB imports to exactly this). */
export async function rawCidOf(bytes: Uint8Array): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(bytes))
}

/**
 * Runs `count` calls of `fn`, at most `concurrency` at once: a flood from one source address,
 * kept under the relays' per-source connection cap (64) so what it meets is the limit under test.
 */
export async function inBatches<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = []
  for (let start = 0; start < count; start += concurrency) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(concurrency, count - start) }, (_, j) => fn(start + j)))))
  }
  return out
}
