import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { CarBlockIterator } from '@ipld/car'
import { MemoryBlockstore } from 'blockstore-core'
import { exporter } from 'ipfs-unixfs-exporter'
import { importBytes, importer } from 'ipfs-unixfs-importer'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type Handler, route } from '../http/router.ts'
import { DurableBlockstore } from './durable-blockstore.ts'
import { ByteRateLimiter } from '@konbini/browser-node'
import { gatewayHandler } from './gateway.ts'

const profile = { profile: 'unixfs-v1-2025' } as const
let dir: string
let store: DurableBlockstore
let server: Server
let port: number
const egress = new ByteRateLimiter(0)
const publicLimiter = new ByteRateLimiter(0)
const file = new Uint8Array(randomBytes(3 * 1024 * 1024 + 12_345))
let fileCid: CID
let fileBlocks: Set<string>
let folderCid: CID

/** Records the CIDs an import writes, so tests know a DAG's exact block set. */
function recorder(target: DurableBlockstore) {
  const cids = new Set<string>()
  const put = async (cid: CID, bytes: Uint8Array) => {
    cids.add(cid.toString())
    return target.put(cid, bytes)
  }
  return { cids, put }
}

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/** A request whose path is sent exactly as given (a URL string would have `..` folded away). */
function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

const errorName = (r: Reply) => (JSON.parse(r.body.toString()) as { error: { name: string } }).error.name

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'konbini-gateway-'))
  store = new DurableBlockstore(join(dir, 'blocks'))
  await store.open()
  const rec = recorder(store)
  fileCid = (await importBytes(file, rec, profile)).cid
  fileBlocks = rec.cids
  const entries = [
    { path: 'site/hello world.txt', content: new TextEncoder().encode('hello konbini\n') },
    { path: 'site/sub/data.json', content: new TextEncoder().encode('{"ok":true}') },
    { path: 'site/sub/blob.bin', content: new Uint8Array(randomBytes(5000)) },
  ]
  for await (const entry of importer(entries, store, profile)) if (entry.path === 'site') folderCid = entry.cid
  server = createServer(route([gatewayHandler({ blockstore: store, egress, publicLimiter })]))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})

afterAll(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

describe('gatewayHandler', () => {
  test('default', async () => {
    const before = [egress.total, publicLimiter.total]
    const r = await get(`/ipfs/${fileCid}`)
    expect(r.status).toBe(200)
    expect(Buffer.compare(r.body, file)).toBe(0)
    expect(r.headers['content-length']).toBe(String(file.byteLength))
    expect(r.headers['accept-ranges']).toBe('bytes')
    expect(r.headers['content-type']).toBe('application/octet-stream')
    expect(r.headers.etag).toBe(`"${fileCid}"`)
    expect(r.headers['cache-control']).toBe('public, max-age=29030400, immutable')
    // every body byte went through the egress cap and the public limiter
    expect(egress.total - (before[0] ?? 0)).toBe(file.byteLength)
    expect(publicLimiter.total - (before[1] ?? 0)).toBe(file.byteLength)
  })

  test('behavior: a range across a chunk boundary returns exactly those bytes', async () => {
    const r = await get(`/ipfs/${fileCid}`, { range: 'bytes=1000-1048676' })
    expect(r.status).toBe(206)
    expect(r.headers['content-range']).toBe(`bytes 1000-1048676/${file.byteLength}`)
    expect(r.headers['content-length']).toBe(String(1048676 - 1000 + 1))
    expect(Buffer.compare(r.body, file.subarray(1000, 1048677))).toBe(0)
  })

  test('behavior: suffix and open-ended ranges', async () => {
    const suffix = await get(`/ipfs/${fileCid}`, { range: 'bytes=-500' })
    expect(suffix.status).toBe(206)
    expect(suffix.headers['content-range']).toBe(`bytes ${file.byteLength - 500}-${file.byteLength - 1}/${file.byteLength}`)
    expect(Buffer.compare(suffix.body, file.subarray(file.byteLength - 500))).toBe(0)
    const whole = await get(`/ipfs/${fileCid}`, { range: `bytes=-${file.byteLength + 10}` })
    expect(whole.status).toBe(206)
    expect(Buffer.compare(whole.body, file)).toBe(0)
    const open = await get(`/ipfs/${fileCid}`, { range: 'bytes=2097150-' })
    expect(open.status).toBe(206)
    expect(Buffer.compare(open.body, file.subarray(2097150))).toBe(0)
  })

  test('behavior: unsatisfiable ranges answer 416', async () => {
    for (const range of [`bytes=${file.byteLength}-`, 'bytes=-0']) {
      const r = await get(`/ipfs/${fileCid}`, { range })
      expect(r.status).toBe(416)
      expect(r.headers['content-range']).toBe(`bytes */${file.byteLength}`)
      expect(errorName(r)).toBe('RangeNotSatisfiableError')
    }
  })

  test('behavior: HEAD sends headers without a body', async () => {
    const r = await get(`/ipfs/${fileCid}`, {}, 'HEAD')
    expect(r.status).toBe(200)
    expect(r.headers['content-length']).toBe(String(file.byteLength))
    expect(r.body.byteLength).toBe(0)
    const partial = await get(`/ipfs/${fileCid}`, { range: 'bytes=10-19' }, 'HEAD')
    expect(partial.status).toBe(206)
    expect(partial.headers['content-length']).toBe('10')
    const car = await get(`/ipfs/${fileCid}?format=car`, {}, 'HEAD')
    expect(car.status).toBe(200)
    expect(car.body.byteLength).toBe(0)
  })

  test('behavior: the CAR passes a stock reader, block by block, and re-exports the file', async () => {
    for (const [path, headers] of [
      [`/ipfs/${fileCid}?format=car`, {}],
      [`/ipfs/${fileCid}`, { accept: 'application/vnd.ipld.car' }],
    ] as const) {
      const r = await get(path, headers)
      expect(r.status).toBe(200)
      expect(r.headers['content-type']?.startsWith('application/vnd.ipld.car; version=1')).toBe(true)
      const reader = await CarBlockIterator.fromBytes(r.body)
      expect((await reader.getRoots()).map(String)).toEqual([fileCid.toString()])
      const memory = new MemoryBlockstore()
      const order: string[] = []
      for await (const { cid, bytes } of reader) {
        expect((await sha256.digest(bytes)).digest).toEqual(cid.multihash.digest)
        order.push(cid.toString())
        await memory.put(cid, bytes)
      }
      expect(new Set(order)).toEqual(fileBlocks)
      expect(order.length).toBe(fileBlocks.size)
      // depth-first: the root, then its links in order
      const root = dagPb.decode(await store.getBytes(fileCid))
      expect(order).toEqual([fileCid.toString(), ...root.Links.map((l) => l.Hash.toString())])
      const entry = await exporter(fileCid, memory)
      if (entry.type !== 'file') throw new Error('expected a file')
      const chunks: Uint8Array[] = []
      for await (const chunk of entry.content()) chunks.push(chunk)
      expect(Buffer.compare(Buffer.concat(chunks), file)).toBe(0)
    }
  })

  test('behavior: a raw block hashes to its CID', async () => {
    const root = await get(`/ipfs/${fileCid}`, { accept: 'application/vnd.ipld.raw' })
    expect(root.status).toBe(200)
    expect(root.headers['content-type']).toBe('application/vnd.ipld.raw')
    expect(root.headers['x-content-type-options']).toBe('nosniff')
    expect(root.headers.etag).toBe(`"${fileCid}.raw"`)
    expect((await sha256.digest(root.body)).digest).toEqual(fileCid.multihash.digest)
    const leaf = dagPb.decode(root.body).Links[1]?.Hash as CID
    const r = await get(`/ipfs/${leaf}?format=raw`)
    expect(r.body.byteLength).toBe(1024 * 1024)
    expect((await sha256.digest(r.body)).digest).toEqual(leaf.multihash.digest)
  })

  test('behavior: a folder lists its entries and paths walk into it', async () => {
    const listing = await get(`/ipfs/${folderCid}`)
    expect(listing.status).toBe(200)
    const { entries } = JSON.parse(listing.body.toString()) as { entries: Array<{ name: string; type: string; size: number }> }
    expect(entries.map((e) => [e.name, e.type]).sort()).toEqual([
      ['hello world.txt', 'file'],
      ['sub', 'directory'],
    ])
    expect(entries.find((e) => e.name === 'hello world.txt')?.size).toBe(14)
    const text = await get(`/ipfs/${folderCid}/hello%20world.txt`)
    expect(text.status).toBe(200)
    expect(text.body.toString()).toBe('hello konbini\n')
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8')
    const json = await get(`/ipfs/${folderCid}/sub/data.json`, { range: 'bytes=1-4' })
    expect(json.status).toBe(206)
    expect(json.body.toString()).toBe('"ok"')
    // a CAR of a path carries the folder blocks it crossed, then the file
    const car = await get(`/ipfs/${folderCid}/sub/data.json?format=car`)
    const blocks: CID[] = []
    for await (const { cid } of await CarBlockIterator.fromBytes(car.body)) blocks.push(cid)
    expect(blocks).toHaveLength(3)
    expect(blocks[0]?.equals(folderCid)).toBe(true)
  })

  test('error: malformed, unsupported and unknown CIDs', async () => {
    const bad = await get('/ipfs/not-a-cid')
    expect(bad.status).toBe(400)
    expect(errorName(bad)).toBe('InvalidCidError')
    const identity = CID.parse('bafkqaaa')
    const unsupported = await get(`/ipfs/${identity}`)
    expect(unsupported.status).toBe(400)
    expect(errorName(unsupported)).toBe('UnsupportedCidError')
    const unknown = CID.createV1(raw.code, await sha256.digest(randomBytes(32)))
    for (const query of ['', '?format=raw', '?format=car']) {
      const r = await get(`/ipfs/${unknown}${query}`)
      expect(r.status).toBe(404)
      expect(errorName(r)).toBe('BlockNotFoundError')
    }
    const missing = await get(`/ipfs/${folderCid}/nope.txt`)
    expect(missing.status).toBe(404)
    expect(errorName(missing)).toBe('PathNotFoundError')
    const format = await get(`/ipfs/${fileCid}?format=tar`)
    expect(format.status).toBe(400)
  })

  test('error: path traversal and control characters are refused, and the server still answers', async () => {
    for (const path of ['/../../etc/passwd', '/%2e%2e/x', '/sub%2F..%2F..', '/..%5C..', '/a%00b', '/%ZZ', '/sub//data.json']) {
      const r = await get(`/ipfs/${folderCid}${path}`)
      expect(r.status, path).toBe(400)
    }
    expect((await get(`/ipfs/${folderCid}/sub/data.json`)).body.toString()).toBe('{"ok":true}')
  })

  test('error: a block missing mid-DAG cuts the response, and the server still answers', async () => {
    const broken = await importBytes(new Uint8Array(randomBytes(2 * 1024 * 1024 + 100)), store, profile)
    const leaf = dagPb.decode(await store.getBytes(broken.cid)).Links[1]?.Hash as CID
    await store.delete(leaf)
    for (const query of ['', '?format=car']) {
      const outcome = await get(`/ipfs/${broken.cid}${query}`).then(
        (r) => ({ status: r.status, short: r.body.byteLength < 2 * 1024 * 1024 }),
        () => 'cut',
      )
      // either the socket is reset mid-body or the body comes up short: never a clean full 200
      expect(outcome === 'cut' || (typeof outcome === 'object' && outcome.short), query).toBe(true)
    }
    expect((await get(`/ipfs/${fileCid}?format=raw`)).status).toBe(200)
  })

  test('error: a client that leaves mid-stream ends the request cleanly', { timeout: 15_000 }, async () => {
    const slow = new ByteRateLimiter(512 * 1024)
    const done: Array<Promise<boolean>> = []
    const handler = gatewayHandler({ blockstore: store, egress, publicLimiter: slow })
    const tracked: Handler = (req, res, url) => {
      const settled = Promise.resolve(handler(req, res, url))
      done.push(settled)
      return settled
    }
    const local = createServer(route([tracked]))
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve))
    const localPort = (local.address() as AddressInfo).port
    for (const query of ['', '?format=car']) {
      await new Promise<void>((resolve, reject) => {
        const req = request(`http://127.0.0.1:${localPort}/ipfs/${fileCid}${query}`, (res) => {
          res.once('data', () => {
            req.destroy()
            resolve()
          })
        })
        req.on('error', () => {})
        req.on('close', resolve)
        req.setTimeout(10_000, () => reject(new Error('no first byte')))
        req.end()
      })
    }
    // the handlers settle (no promise left hanging on a limiter or a blocked CAR writer)
    const results = await Promise.all(done)
    expect(results).toEqual([true, true])
    local.closeAllConnections()
    await new Promise((resolve) => local.close(resolve))
  })
})
