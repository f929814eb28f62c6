import { BaseError, BlockNotFoundError, RAW_CODEC, UnsupportedCidError } from '@konbini/protocol'
import type { CID } from 'multiformats/cid'
import { exporter, type ReadableStorage, type UnixFSDirectory, type UnixFSEntry } from 'ipfs-unixfs-exporter'
import type { DurableBlockstore } from './durable-blockstore.ts'
import { contentTypeFor, type GatewayRequest, immutableHeaders, PathNotFoundError, sendNotModified } from './gateway-request.ts'
import { parseRange } from './range.ts'
import { sendBody } from './send-body.ts'
import { IDENTITY, unixfsFileBytes } from './unixfs-file-bytes.ts'

/** A folder listing names at most this many entries. */
const MAX_LISTING = 1000

class RangeNotSatisfiableError extends BaseError {
  override name = 'RangeNotSatisfiableError' as const
  override readonly status = 416
  constructor({ size }: { size: number }) {
    super(`The requested range is outside the ${size}-byte file.`)
  }
}

/** A block reader for the exporter that stops as soon as the request is aborted. */
export function readableStore(store: DurableBlockstore): ReadableStorage {
  return {
    async *get(cid: CID, options?: { signal?: AbortSignal }) {
      options?.signal?.throwIfAborted()
      yield await store.getBytes(cid)
    },
  }
}

/** Resolves `/ipfs/{cid}/a/b` with the UnixFS exporter, turning its errors into named ones. */
export async function resolveEntry(g: GatewayRequest): Promise<UnixFSEntry> {
  const { cid, segments } = g.path
  const target = segments.length === 0 ? cid : `${cid}/${segments.join('/')}`
  try {
    return await exporter(target, readableStore(g.store), { signal: g.signal })
  } catch (err) {
    const name = (err as { name?: string } | null)?.name
    if (name === 'NotFoundError') throw new PathNotFoundError({ cid: cid.toString(), path: segments.join('/') })
    if (name === 'NotUnixFSError' || name === 'NoResolverError')
      throw new UnsupportedCidError({ cid: cid.toString(), reason: 'it is not a UnixFS file or folder' })
    throw err
  }
}

/** A file as it is served: no block of it is held (the exporter's entry may hold a whole raw block). */
interface ServedFile {
  cid: CID
  size: number
  /** The bytes of an identity CID: they are the CID itself. */
  inline?: (offset: number, length: number) => AsyncIterable<Uint8Array>
}

/** Serves a UnixFS file's bytes (with single-range support) or a folder's JSON listing. */
export async function sendDeserialized(g: GatewayRequest): Promise<void> {
  const found = await findServed(g)
  if ('type' in found) return sendListing(g, found)
  return sendFile(g, found)
}

async function findServed(g: GatewayRequest): Promise<UnixFSDirectory | ServedFile> {
  const { cid, segments } = g.path
  // a raw block is its own file: its size is all the headers need, the bytes stream later
  if (segments.length === 0 && cid.code === RAW_CODEC && cid.multihash.code !== IDENTITY) {
    const size = await g.store.size(cid)
    if (size === undefined) throw new BlockNotFoundError({ cid: cid.toString() })
    return { cid, size }
  }
  const entry = await resolveEntry(g)
  if (entry.type === 'directory') return entry
  if (entry.type === 'identity') return { cid: entry.cid, size: Number(entry.size), inline: (offset, length) => entry.content({ offset, length }) }
  if (entry.type !== 'file' && entry.type !== 'raw') throw new UnsupportedCidError({ cid: entry.cid.toString(), reason: 'it is not a UnixFS file or folder' })
  return { cid: entry.cid, size: Number(entry.size) }
}

async function sendFile(g: GatewayRequest, file: ServedFile): Promise<void> {
  const { size } = file
  const etag = `"${file.cid}"`
  if (sendNotModified(g, etag)) return
  const range = parseRange(g.req.headers.range, size)
  const headers = {
    ...immutableHeaders(etag),
    'accept-ranges': 'bytes',
    'content-type': contentTypeFor(g.path.segments.at(-1)),
    'content-security-policy': 'sandbox',
  }
  if (range.kind === 'unsatisfiable') {
    g.res.setHeader('content-range', `bytes */${size}`)
    throw new RangeNotSatisfiableError({ size })
  }
  const start = range.kind === 'partial' ? range.start : 0
  const length = range.kind === 'partial' ? range.end - range.start + 1 : size
  if (range.kind === 'partial') {
    g.res.writeHead(206, { ...headers, 'content-length': length, 'content-range': `bytes ${start}-${range.end}/${size}` })
  } else {
    g.res.writeHead(200, { ...headers, 'content-length': length })
  }
  if (g.req.method === 'HEAD') return void g.res.end()
  const bytes = file.inline?.(start, length) ?? unixfsFileBytes(g.store, file.cid, start, length, g.signal)
  await sendBody(g.res, bytes, g.limiters, g.signal, (chunk) => g.store.pieces.give(chunk))
}

async function sendListing(g: GatewayRequest, dir: UnixFSDirectory): Promise<void> {
  const links = []
  for await (const link of dir.entries({ signal: g.signal, length: MAX_LISTING + 1 })) links.push(link)
  const truncated = links.length > MAX_LISTING
  const entries = []
  // the type and true size of an entry live in its own root block
  for (let i = 0; i < Math.min(links.length, MAX_LISTING); i += 16) {
    const batch = links.slice(i, Math.min(i + 16, MAX_LISTING))
    entries.push(
      ...(await Promise.all(
        batch.map(async (link) => {
          const child = link.cid.code === RAW_CODEC ? undefined : await exporter(link.cid, readableStore(g.store), { signal: g.signal })
          const type = child?.type === 'directory' ? 'directory' : 'file'
          const size = child === undefined || child.type === 'directory' ? link.size : child.size
          return { name: link.name, cid: link.cid.toString(), size: Number(size), type }
        }),
      )),
    )
  }
  const body = Buffer.from(JSON.stringify(truncated ? { entries, truncated } : { entries }))
  g.res.writeHead(200, {
    ...immutableHeaders(`"${dir.cid}.dir"`),
    'content-type': 'application/json; charset=utf-8',
    'content-length': body.byteLength,
  })
  if (g.req.method === 'HEAD') return void g.res.end()
  await sendBody(g.res, [body], g.limiters, g.signal)
}
