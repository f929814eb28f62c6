import {
  blockFrameParts,
  encodeLengthPrefixed,
  FrameKind,
  type PlacementResponse,
  RemoteError,
  ReplicationIncompleteError,
  TICKET_HEADER,
} from '@konbini/protocol'
import type { ImportCandidate } from 'ipfs-unixfs-importer'
import type { CID } from 'multiformats/cid'
import { importToSink } from './import.ts'
import { base64urlJson, randomHex } from './encoding.ts'
import type { MetaClient } from './meta-client.ts'

export interface PutOptions {
  owner: string
  /** Shown in listings; a file's or the folder's own name. */
  name: string
  /** Total bytes of file content, for placement and the ticket's byte budget. */
  size: number
  replicas?: number
  region?: string
  /** Called with the bytes of content handed to the network so far. */
  onProgress?: (sentBytes: number) => void
  signal?: AbortSignal
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

/**
 * Imports content (unixfs-v1-2025) and streams its blocks, each once, to the first placed node,
 * which pipelines them on to the others. Done when the meta node holds R durable reports.
 */
export async function put(meta: MetaClient, source: Iterable<ImportCandidate> | AsyncIterable<ImportCandidate>, options: PutOptions): Promise<PutResult> {
  const placement = await meta.post('placement', {
    owner: options.owner,
    name: options.name,
    size: options.size,
    requestId: randomHex(16),
    ...(options.replicas !== undefined && { replicas: options.replicas }),
    ...(options.region !== undefined && { region: options.region }),
  })
  const first = placement.nodes[0]
  if (first === undefined) throw new ReplicationIncompleteError({ wanted: 1, got: 0 })
  const body = blockFrameStream(source, options, placement.resumed ? missingOnSomeNode(placement) : undefined)
  const res = await fetch(new URL('/v1/upload', first.httpUrl), {
    method: 'POST',
    headers: uploadHeaders(placement),
    body: body.stream,
    signal: options.signal ?? null,
    // @ts-expect-error `duplex` is required for streamed bodies (fetch spec), missing from lib.dom
    duplex: 'half',
  })
  const answer = (await res.json().catch(() => ({}))) as { stored?: string[]; error?: { name: string; message: string } }
  if (body.failure) throw body.failure
  if (!res.ok) throw new RemoteError(answer.error?.name ?? 'RemoteError', answer.error?.message ?? `upload answered ${res.status}`, res.status)
  // the pipeline broke (a node died): fail now; putting the same file again resumes on these nodes
  const replicas = placement.upload.ticket.nodes.length
  if ((answer.stored?.length ?? 0) < replicas) throw new ReplicationIncompleteError({ wanted: replicas, got: answer.stored?.length ?? 0 })
  const ticketId = placement.upload.ticket.id
  // long-poll in slices shorter than the client's own timeout, for up to a minute
  let status = await meta.get('uploadStatus', { ticketId }, '?wait=10')
  for (const deadline = Date.now() + 60_000; !status.complete && Date.now() < deadline; ) {
    status = await meta.get('uploadStatus', { ticketId }, '?wait=10')
  }
  const root = (await body.root).toString()
  if (!status.complete) throw new ReplicationIncompleteError({ wanted: status.replicas, got: status.holders.length })
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
  const stream = new ReadableStream<Uint8Array>(
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
            for (const part of blockFrameParts(cid, bytes)) controller.enqueue(part)
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
            controller.enqueue(encodeLengthPrefixed({ kind: FrameKind.End, root: entry.cid }))
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
    stream,
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
