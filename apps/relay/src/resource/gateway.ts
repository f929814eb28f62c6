import { BlockNotFoundError, InvalidRequestError } from '@konbini/protocol'
import { walkPath } from 'ipfs-unixfs-exporter'
import type { CID } from 'multiformats/cid'
import type { Handler } from '../http/router.ts'
import { type CarBlock, carStream, dagBlocks } from './car-stream.ts'
import type { DurableBlockstore } from './durable-blockstore.ts'
import type { ByteRateLimiter } from '@konbini/browser-node'
import { type GatewayRequest, immutableHeaders, parseGatewayPath, PathNotFoundError, sendNotModified } from './gateway-request.ts'
import { readableStore, sendDeserialized } from './gateway-unixfs.ts'
import type { RootAccess } from './root-access.ts'
import { sendBody } from './send-body.ts'

const RAW_TYPE = 'application/vnd.ipld.raw'
const CAR_TYPE = 'application/vnd.ipld.car'

/** Options of the gateway handler. */
export interface GatewayInit {
  blockstore: DurableBlockstore
  /** The operator's egress cap: every body byte passes through it. */
  egress: ByteRateLimiter
  /** The public path's rate limit, applied to requests without a ticket. */
  publicLimiter?: ByteRateLimiter
  /** False turns the public gateway off (its routes fall through to 404). Default true. */
  enabled?: boolean
  /**
   * Which roots are public here and which are denied: a request for anything else is refused
   * (403 NotPublicError, 451 ContentDeniedError). Absent, every block held is served (tests only).
   */
  access?: RootAccess
}

/**
 * The IPFS trustless gateway (`application/vnd.ipld.raw` blocks, `application/vnd.ipld.car` DAGs)
 * plus a deserialized UnixFS view (`/ipfs/{cid}/path` with HTTP Range) so `curl`, `<img>` and
 * `<video>` work. GET and HEAD only; everything is read from the local block store, nothing is
 * fetched from the network. Only public, non-denylisted roots are served (`access`): a private
 * root needs a ticket, on Konbini's block exchange.
 *
 * @example
 * const server = createServer(route([gatewayHandler({ blockstore, egress })]))
 */
export function gatewayHandler(init: GatewayInit): Handler {
  return async (req, res, url) => {
    if (init.enabled === false || (req.method !== 'GET' && req.method !== 'HEAD')) return false
    const path = parseGatewayPath(req, url)
    if (path === undefined) return false
    const format = negotiateFormat(req.headers.accept, url)
    // a path below the root stays inside its DAG, so the root decides
    init.access?.assertPublic(path.cid)
    const controller = new AbortController()
    const abort = () => controller.abort()
    res.once('close', abort)
    // all gateway requests take the public path for now: tickets ride Konbini's own protocol
    const limiters = [init.egress, init.publicLimiter]
    const g: GatewayRequest = { req, res, url, path, store: init.blockstore, limiters, signal: controller.signal }
    try {
      if (format === 'raw') await sendRaw(g)
      else if (format === 'car') await sendCar(g)
      else await sendDeserialized(g)
    } catch (err) {
      // the client went away: there is nobody to tell
      if (controller.signal.aborted && res.destroyed) return true
      throw err
    } finally {
      res.off('close', abort)
      controller.abort()
    }
    return true
  }
}

function negotiateFormat(accept: string | undefined, url: URL): 'raw' | 'car' | undefined {
  const format = url.searchParams.get('format')
  if (format !== null) {
    if (format === 'raw' || format === 'car') return format
    throw new InvalidRequestError({ reason: 'format must be raw or car (or absent for the file itself)' })
  }
  for (const range of (accept ?? '').split(',')) {
    const type = range.split(';', 1)[0]?.trim().toLowerCase()
    if (type === RAW_TYPE) return 'raw'
    if (type === CAR_TYPE) return 'car'
  }
  return undefined
}

async function sendRaw(g: GatewayRequest): Promise<void> {
  const { cid, segments } = g.path
  if (segments.length > 0) throw new InvalidRequestError({ reason: 'raw blocks are served at /ipfs/{cid} only, without a path' })
  const etag = `"${cid}.raw"`
  const size = g.req.method === 'HEAD' ? await g.store.size(cid) : undefined
  if (g.req.method === 'HEAD' && size === undefined) throw new BlockNotFoundError({ cid: cid.toString() })
  const bytes = g.req.method === 'HEAD' ? undefined : await g.store.getBytes(cid)
  if (sendNotModified(g, etag)) return
  g.res.writeHead(200, {
    ...immutableHeaders(etag),
    'content-type': RAW_TYPE,
    'content-length': bytes?.byteLength ?? size,
    'content-disposition': `attachment; filename="${cid}.bin"`,
  })
  if (bytes === undefined) return void g.res.end()
  await sendBody(g.res, [bytes], g.limiters, g.signal)
}

async function sendCar(g: GatewayRequest): Promise<void> {
  const { cid, segments } = g.path
  const scope = g.url.searchParams.get('dag-scope') ?? 'all'
  if (scope !== 'all' && scope !== 'entity' && scope !== 'block') throw new InvalidRequestError({ reason: 'dag-scope must be block, entity or all' })
  const { target, pathBlocks } = await resolveForCar(g)
  if (!(await g.store.has(target))) throw new BlockNotFoundError({ cid: target.toString() })
  const plain = segments.length === 0 && scope !== 'block'
  const etag = plain ? `"${cid}.car"` : undefined
  if (etag !== undefined && sendNotModified(g, etag)) return
  g.res.writeHead(200, {
    ...immutableHeaders(etag),
    'content-type': `${CAR_TYPE}; version=1; order=dfs; dups=n`,
    'content-disposition': `attachment; filename="${cid}.car"`,
  })
  if (g.req.method === 'HEAD') return void g.res.end()
  const read = (block: CID) => g.store.getBytes(block)
  const dag = dagBlocks(target, read, { scope: scope === 'block' ? 'block' : 'all', signal: g.signal })
  await sendBody(g.res, carStream([cid], concat(pathBlocks, dag)), g.limiters, g.signal)
}

/** Walks a content path, keeping the blocks it crossed: a CAR for a path carries them for verification. */
async function resolveForCar(g: GatewayRequest): Promise<{ target: CID; pathBlocks: CarBlock[] }> {
  const { cid, segments } = g.path
  if (segments.length === 0) return { target: cid, pathBlocks: [] }
  const pathBlocks: CarBlock[] = []
  const reader = readableStore(g.store)
  const recording = {
    async *get(block: CID, options?: { signal?: AbortSignal }) {
      for await (const bytes of reader.get(block, options)) {
        if (!pathBlocks.some((b) => b.cid.equals(block))) pathBlocks.push({ cid: block, bytes })
        yield bytes
      }
    },
  }
  let target: CID = cid
  try {
    for await (const entry of walkPath(`${cid}/${segments.join('/')}`, recording, { signal: g.signal })) target = entry.cid
  } catch (err) {
    if ((err as { name?: string } | null)?.name === 'NotFoundError') throw new PathNotFoundError({ cid: cid.toString(), path: segments.join('/') })
    throw err
  }
  return { target, pathBlocks: pathBlocks.filter((b) => !b.cid.equals(target)) }
}

async function* concat(first: CarBlock[], rest: AsyncIterable<CarBlock>): AsyncGenerator<CarBlock> {
  yield* first
  yield* rest
}
