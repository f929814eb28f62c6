import { encodeLengthPrefixed, FrameKind, type PlacementResponse, RemoteError, ReplicationIncompleteError, TICKET_HEADER } from '@konbini/protocol'
import type { ImportCandidate } from 'ipfs-unixfs-importer'
import type { CID } from 'multiformats/cid'
import { importToSink } from './import.ts'
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
    ...(options.replicas !== undefined && { replicas: options.replicas }),
    ...(options.region !== undefined && { region: options.region }),
  })
  const first = placement.nodes[0]
  if (first === undefined) throw new ReplicationIncompleteError({ wanted: 1, got: 0 })
  const body = blockFrameStream(source, options)
  const res = await fetch(new URL('/v1/upload', first.httpUrl), {
    method: 'POST',
    headers: uploadHeaders(placement),
    body: body.stream,
    signal: options.signal ?? null,
    // @ts-expect-error `duplex` is required for streamed bodies (fetch spec), missing from lib.dom
    duplex: 'half',
  })
  const answer = (await res.json().catch(() => ({}))) as { root?: string; error?: { name: string; message: string } }
  if (body.failure) throw body.failure
  if (!res.ok) throw new RemoteError(answer.error?.name ?? 'RemoteError', answer.error?.message ?? `upload answered ${res.status}`, res.status)
  const ticketId = placement.upload.ticket.id
  const status = await meta.get('uploadStatus', { ticketId }, '?wait=30')
  const root = (await body.root).toString()
  if (!status.complete) throw new ReplicationIncompleteError({ wanted: status.replicas, got: status.holders.length })
  return { root, size: options.size, holders: status.holders, ticketId }
}

/** Headers that carry the ticket and the pipeline route to the first node. */
export function uploadHeaders(placement: PlacementResponse): Record<string, string> {
  const encode = (value: unknown) => base64url(new TextEncoder().encode(JSON.stringify(value)))
  return {
    'content-type': 'application/vnd.konbini.frames',
    [TICKET_HEADER]: encode(placement.upload),
    'x-konbini-route': encode(placement.nodes),
  }
}

/** The upload body: a pull-driven stream of block frames, ending with the root. Backpressure reaches the importer. */
function blockFrameStream(source: Iterable<ImportCandidate> | AsyncIterable<ImportCandidate>, options: PutOptions) {
  let resolveRoot: (cid: CID) => void = () => {}
  const root = new Promise<CID>((resolve) => {
    resolveRoot = resolve
  })
  // the importer writes several blocks at once: every waiting writer is woken on each pull
  let waiters: Array<() => void> = []
  let sent = 0
  const state: { failure: Error | undefined } = { failure: undefined }
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const sink = async (cid: CID, bytes: Uint8Array) => {
          controller.enqueue(encodeLengthPrefixed({ kind: FrameKind.Block, cid, bytes }))
          if (cid.code === 0x55) {
            sent += bytes.byteLength
            options.onProgress?.(sent)
          }
          while ((controller.desiredSize ?? 1) <= 0) await new Promise<void>((r) => waiters.push(r))
        }
        importToSink(source, sink)
          .then((entry) => {
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
    { highWaterMark: 8 },
  )
  return {
    stream,
    root,
    get failure() {
      return state.failure
    },
  }
}

function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
