import {
  blockFrameParts,
  DEVNET_CHAIN_ID,
  encodeLengthPrefixed,
  FrameKind,
  NO_PAYER,
  PART_HEADER,
  type PlacementRequest,
  type PlacementResponse,
  type Receipt,
  receiptTypedData,
  RemoteError,
  ReplicationIncompleteError,
  TICKET_HEADER,
  type UploadTicket,
} from '@konbini/protocol'
import type { ImportCandidate } from 'ipfs-unixfs-importer'
import type { CID } from 'multiformats/cid'
import { importToSink } from './import.ts'
import { base64urlJson, randomHex } from './encoding.ts'
import type { MetaClient } from './meta-client.ts'
import { signPlacement } from './owner.ts'
import type { TypedDataSigner } from './receipt-signer.ts'

export interface PutOptions {
  owner: string
  /** Shown in listings; a file's or the folder's own name. */
  name: string
  /** Total bytes of file content, for placement and the ticket's byte budget. */
  size: number
  replicas?: number
  region?: string
  /** Light peers may cache and serve it (default false: it stays on full nodes). */
  public?: boolean
  /** The owner's key (or a session key it granted): signs the placement and the receipts of a paid upload (each replica's received bytes). */
  signer: TypedDataSigner
  /** The chain id of the EIP-712 domain (default: the devnet's). */
  chainId?: number
  /** Called with the bytes of content handed to the network so far. */
  onProgress?: (sentBytes: number) => void
  signal?: AbortSignal
  /**
   * How the body travels: one streamed request (`stream`, Node) or requests of about 8 MiB each
   * (`parts`, browsers: Chromium streams request bodies only over HTTP/2). Default `stream`.
   */
  body?: 'stream' | 'parts'
}

export interface PutResult {
  root: string
  size: number
  holders: string[]
  ticketId: string
  /** Block bytes actually sent: less than the DAG when a resumed upload skipped what nodes had. */
  sentBytes: number
  /** Blocks every placed node already had, so they were not sent. */
  skippedBlocks: number
}

/** What `put` uploads: candidates, or a function giving them afresh (so a failed placement can be tried again elsewhere). */
export type PutSource = Iterable<ImportCandidate> | AsyncIterable<ImportCandidate> | (() => Iterable<ImportCandidate> | AsyncIterable<ImportCandidate>)

/** Placements one put tries: a pipeline that breaks at a node is placed again without that node. */
const MAX_PLACEMENTS = 3

/** A placement's pipeline broke at these nodes (dead, refusing, or storing nothing). */
class PipelineBroken {
  readonly failed: string[]
  readonly error: unknown
  constructor(failed: string[], error: unknown) {
    this.failed = failed
    this.error = error
  }
}

/**
 * Imports content (unixfs-v1-2025) and streams its blocks, each once, to the first placed node,
 * which pipelines them on to the others. Done when the meta node holds R proven reports. When
 * the pipeline breaks at a node (it refused, died, or stored nothing) and the source can be read
 * again (an array, or a function), the file is placed again avoiding that node, up to 3 times.
 */
export async function put(meta: MetaClient, source: PutSource, options: PutOptions): Promise<PutResult> {
  const reopen = typeof source === 'function' ? source : Array.isArray(source) ? () => source : undefined
  let candidates = typeof source === 'function' ? source() : source
  const avoid: string[] = []
  for (let attempt = 1; ; attempt++) {
    try {
      return await placeAndSend(meta, candidates, options, avoid)
    } catch (err) {
      if (!(err instanceof PipelineBroken)) throw err
      if (reopen === undefined || attempt >= MAX_PLACEMENTS) throw err.error
      avoid.push(...err.failed.filter((peer) => !avoid.includes(peer)))
      candidates = reopen()
    }
  }
}

async function placeAndSend(
  meta: MetaClient,
  source: Iterable<ImportCandidate> | AsyncIterable<ImportCandidate>,
  options: PutOptions,
  avoid: readonly string[],
): Promise<PutResult> {
  const request: PlacementRequest = {
    owner: options.owner,
    name: options.name,
    size: options.size,
    requestId: randomHex(16),
    ...(options.replicas !== undefined && { replicas: options.replicas }),
    ...(options.region !== undefined && { region: options.region }),
    ...(options.public !== undefined && { public: options.public }),
    ...(avoid.length > 0 && { avoid: avoid.slice(-16) }),
  }
  const placement = await meta.post('placement', await signPlacement(options.signer, request, options.chainId ?? DEVNET_CHAIN_ID))
  const first = placement.nodes[0]
  if (first === undefined) throw new ReplicationIncompleteError({ wanted: 1, got: 0 })
  const body = blockFrameStream(source, options, placement.resumed ? missingOnSomeNode(placement) : undefined)
  const url = new URL('/v1/upload', first.httpUrl)
  const send = options.body === 'parts' ? sendInParts : sendStreamed
  const answer = await send(url, uploadHeaders(placement), body.frames, options.signal).catch((err) => {
    if (body.failure !== undefined || options.signal?.aborted) throw body.failure ?? err
    throw new PipelineBroken([first.peerId], err)
  })
  if (body.failure) throw body.failure
  // the pipeline broke (a node died, refused, or stored nothing): place again without the nodes that did not store
  const nodes = placement.upload.ticket.nodes
  const replicas = nodes.length
  if (answer.stored.length < replicas) {
    const error = new ReplicationIncompleteError({ wanted: replicas, got: answer.stored.length })
    throw new PipelineBroken(
      nodes.filter((peer) => !answer.stored.includes(peer)),
      error,
    )
  }
  const ticketId = placement.upload.ticket.id
  // long-poll in slices shorter than the client's own timeout, for up to a minute
  let status = await meta.get('uploadStatus', { ticketId }, '?wait=10')
  for (const deadline = Date.now() + 60_000; !status.complete && Date.now() < deadline; ) {
    status = await meta.get('uploadStatus', { ticketId }, '?wait=10')
  }
  const root = (await body.root).toString()
  if (!status.complete) throw new ReplicationIncompleteError({ wanted: status.replicas, got: status.holders.length })
  await receiptUpload(meta, placement.upload.ticket, status.holders, body.sentBytes, options)
  return { root, size: options.size, holders: status.holders, ticketId, sentBytes: body.sentBytes, skippedBlocks: body.skippedBlocks }
}

/** Headers that carry the ticket and the pipeline route to the first node. */
export function uploadHeaders(placement: PlacementResponse): Record<string, string> {
  return {
    'content-type': 'application/vnd.konbini.frames',
    [TICKET_HEADER]: base64urlJson(placement.upload),
    'x-konbini-route': base64urlJson(placement.nodes),
  }
}

type UploadAnswer = { stored: string[] }

async function postFrames(url: URL, headers: Record<string, string>, body: BodyInit, signal: AbortSignal | undefined): Promise<UploadAnswer> {
  const init: RequestInit & { duplex?: 'half' } = { method: 'POST', headers, body, signal: signal ?? null }
  if (body instanceof ReadableStream) init.duplex = 'half'
  const res = await fetch(url, init)
  const answer = (await res.json().catch(() => ({}))) as { stored?: string[]; error?: { name: string; message: string } }
  if (!res.ok) throw new RemoteError(answer.error?.name ?? 'RemoteError', answer.error?.message ?? `upload answered ${res.status}`, res.status)
  return { stored: answer.stored ?? [] }
}

/** The whole upload as one streamed request body. */
function sendStreamed(url: URL, headers: Record<string, string>, frames: ReadableStream<Uint8Array[]>, signal?: AbortSignal): Promise<UploadAnswer> {
  const flat = frames.pipeThrough(
    new TransformStream<Uint8Array[], Uint8Array>({
      transform(parts, controller) {
        for (const part of parts) controller.enqueue(part)
      },
    }),
  )
  return postFrames(url, headers, flat, signal)
}

/** Bytes of frames per request when uploading in parts. */
const PART_BYTES = 8 * 1024 * 1024
/** Part requests in flight at once: one uploads while the next fills. */
const PARTS_IN_FLIGHT = 4

/** The upload as requests of whole frames (~8 MiB each); the last one carries the End frame. */
async function sendInParts(url: URL, headers: Record<string, string>, frames: ReadableStream<Uint8Array[]>, signal?: AbortSignal): Promise<UploadAnswer> {
  const reader = frames.getReader()
  const inFlight = new Set<Promise<UploadAnswer>>()
  let stored: string[] | undefined
  const track = (p: Promise<UploadAnswer>) => {
    const tracked = p.then((answer) => {
      inFlight.delete(tracked)
      // a node missing from a part's answer broke the pipeline: the final answer will say so
      stored = stored === undefined ? answer.stored : stored.filter((peer) => answer.stored.includes(peer))
      return answer
    })
    inFlight.add(tracked)
  }
  let pending: Uint8Array[] = []
  let bytes = 0
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    pending.push(...value)
    bytes += value.reduce((n, part) => n + part.byteLength, 0)
    if (bytes < PART_BYTES) continue
    while (inFlight.size >= PARTS_IN_FLIGHT) await Promise.race(inFlight)
    track(postFrames(url, { ...headers, [PART_HEADER]: '1' }, new Blob(pending as BlobPart[]), signal))
    pending = []
    bytes = 0
  }
  await Promise.all(inFlight)
  const last = await postFrames(url, headers, new Blob(pending as BlobPart[]), signal)
  return { stored: stored === undefined ? last.stored : last.stored.filter((peer) => stored?.includes(peer)) }
}

/** Decides, for a batch of blocks, which must be sent (true) and which every placed node has. */
type SendFilter = (cids: CID[]) => Promise<boolean[]>

/** Blocks asked about at once when resuming. */
const HAVE_BATCH = 32

/** For a resumed upload: asks every placed node which blocks it already holds durably. */
function missingOnSomeNode(placement: PlacementResponse): SendFilter {
  const headers = uploadHeaders(placement)
  return async (cids) => {
    const answers = await Promise.all(
      placement.nodes.map(async (node) => {
        const res = await fetch(new URL('/v1/blocks/have', node.httpUrl), {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ cids: cids.map(String) }),
        }).catch(() => undefined)
        if (!res?.ok) return cids.map(() => false)
        return ((await res.json()) as { have: boolean[] }).have
      }),
    )
    return cids.map((_, i) => answers.some((have) => !have[i]))
  }
}

/**
 * The upload body: a pull-driven stream of block frames, ending with the root. Backpressure
 * reaches the importer. With a filter, blocks are held in batches and only those some node
 * lacks are sent.
 */
function blockFrameStream(source: Iterable<ImportCandidate> | AsyncIterable<ImportCandidate>, options: PutOptions, filter?: SendFilter) {
  let resolveRoot: (cid: CID) => void = () => {}
  const root = new Promise<CID>((resolve) => {
    resolveRoot = resolve
  })
  // the importer writes several blocks at once: every waiting writer is woken on each pull
  let waiters: Array<() => void> = []
  let content = 0
  const state = { failure: undefined as Error | undefined, sentBytes: 0, skippedBlocks: 0 }
  const frames = new ReadableStream<Uint8Array[]>(
    {
      start(controller) {
        let batch: Array<{ cid: CID; bytes: Uint8Array }> = []
        const send = async (blocks: Array<{ cid: CID; bytes: Uint8Array }>) => {
          const wanted = filter ? await filter(blocks.map((b) => b.cid)) : blocks.map(() => true)
          blocks.forEach(({ cid, bytes }, i) => {
            if (cid.code === 0x55) content += bytes.byteLength
            if (!wanted[i]) {
              state.skippedBlocks++
              return
            }
            state.sentBytes += bytes.byteLength
            controller.enqueue([...blockFrameParts(cid, bytes)])
          })
          options.onProgress?.(content)
          while ((controller.desiredSize ?? 1) <= 0) await new Promise<void>((r) => waiters.push(r))
        }
        const sink = async (cid: CID, bytes: Uint8Array) => {
          if (!filter) return send([{ cid, bytes }])
          batch.push({ cid, bytes })
          if (batch.length < HAVE_BATCH) return
          const full = batch
          batch = []
          await send(full)
        }
        importToSink(source, sink)
          .then(async (entry) => {
            if (batch.length > 0) await send(batch)
            controller.enqueue([encodeLengthPrefixed({ kind: FrameKind.End, root: entry.cid })])
            controller.close()
            resolveRoot(entry.cid)
          })
          .catch((err: Error) => {
            state.failure = err
            controller.error(err)
          })
      },
      pull() {
        const woken = waiters
        waiters = []
        for (const wake of woken) wake()
      },
    },
    { highWaterMark: 16 },
  )
  return {
    frames,
    root,
    get failure() {
      return state.failure
    },
    get sentBytes() {
      return state.sentBytes
    },
    get skippedBlocks() {
      return state.skippedBlocks
    },
  }
}

/**
 * A paid upload's receipts: the owner signs, for each replica that stored the upload, the block
 * bytes it sent into the pipeline, and hands them to the meta node (uploads are paid traffic).
 */
async function receiptUpload(meta: MetaClient, ticket: UploadTicket, holders: readonly string[], sentBytes: number, options: PutOptions): Promise<void> {
  const { signer } = options
  if (ticket.payer.toLowerCase() === NO_PAYER || sentBytes === 0) return
  const bytes = Math.min(sentBytes, ticket.maxBytes)
  const receipts = await Promise.all(
    holders
      .filter((peerId) => ticket.nodes.includes(peerId))
      .map(async (provider) => {
        const receipt: Receipt = { ticket: ticket.id, consumer: ticket.owner, provider, epoch: ticket.epoch, bytes }
        return { receipt, signature: await signer.signTypedData(receiptTypedData(receipt, options.chainId)) }
      }),
  )
  // the upload itself succeeded: a refused hand-in (its epoch closed during a long upload) leaves it unpaid, not failed
  if (receipts.length > 0) await meta.post('receipts', { receipts }).catch(() => {})
}
