import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { MetaClient, put, signPlacement } from '@konbini/browser-node'
import { DEVNET_CHAIN_ID, type PlacementResponse } from '@konbini/protocol'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { readCpuSeconds } from './cpu.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { getFrom, type RawAnswer, RawConnection } from './raw-http.ts'
import { readRss, sampleRss } from './rss.ts'
import { postJson, postUpload, rawBlock, uploadBody } from './wire.ts'

/**
 * What a stranger can make a relay process spend, measured on real processes: memory per gateway
 * client, connections that trickle, long-polls, refused bodies.
 */

const MiB = 1024 * 1024
const FILE_SIZE = 16 * MiB
const CLIENTS = 300
const ADDRESSES = 30
/** The meta node's settings here: slow clients are cut within seconds instead of a minute. */
const META_ENV = {
  KONBINI_HTTP_HEADERS_TIMEOUT_MS: '2000',
  KONBINI_HTTP_IDLE_TIMEOUT_MS: '3000',
  KONBINI_HTTP_MIN_BODY_BPS: '1024',
  KONBINI_UPLOAD_WAITERS_PER_ADDRESS: '10',
}
/** Every timeout above, with room for a slow machine: a trickling connection must be closed by then. */
const CLOSED_WITHIN_MS = 20_000
/** How long the long-polls on an upload that never completes wait: the window their CPU is measured over. */
const NEVER_WAIT_SECONDS = 15

let net: TestNetwork
let metaUrl: string
let metaPort: number
let nodeUrl: string

beforeAll(async () => {
  net = await startTestNetwork({
    resources: 1,
    metaEnv: META_ENV,
    // the public path's rate cap (8 MiB/s by default) would make 300 × 16 MiB take ten minutes
    resourceEnv: { KONBINI_PUBLIC_BPS: String(4 * 1024 ** 3) },
  })
  metaUrl = net.file.metaUrls[0] as string
  metaPort = Number(new URL(metaUrl).port)
  nodeUrl = net.file.nodes[0]?.httpUrl as string
})

afterAll(async () => {
  await net?.stop()
})

const pidOf = (p: { ready?: { pid: number } }) => p.ready?.pid as number

/** Resolves with `promise`'s value, or 'timeout' after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

/** Reads a gateway URL from `localAddress` over a connection of its own, comparing every byte with `expected` as it arrives. */
function readWhole(url: string, localAddress: string, expected: Buffer): Promise<{ status: number; bytes: number; same: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, agent: false }, (res) => {
      let bytes = 0
      let same = true
      res.on('data', (chunk: Buffer) => {
        same &&= bytes + chunk.byteLength <= expected.byteLength && chunk.equals(expected.subarray(bytes, bytes + chunk.byteLength))
        bytes += chunk.byteLength
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, same }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** An owner's signed placement for one replica; no data is sent. */
async function place(owner: ReturnType<typeof privateKeyToAccount>, name: string, size: number): Promise<PlacementResponse> {
  const answer = await postJson(metaUrl, '/v1/uploads', await signPlacement(owner, { owner: owner.address, name, size, replicas: 1 }, DEVNET_CHAIN_ID))
  if (answer.status !== 200) throw new Error(`placement failed: ${JSON.stringify(answer.body)}`)
  return answer.body as unknown as PlacementResponse
}

/** The median of a second of RSS samples: one reading may land just before or after a collection. */
async function medianRss(pid: number): Promise<number> {
  const rss = sampleRss({ pid }, 100)
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const series = [...((await rss.stop()).pid?.series ?? [])].sort((a, b) => a - b)
  return (series[series.length >> 1] ?? Number.NaN) * MiB
}

/** The named error of a raw answer (undefined when its body is not one). */
function errorOf(answer: RawAnswer | 'closed' | 'timeout'): { status: number; name: string | undefined } | string {
  if (typeof answer === 'string') return answer
  try {
    return { status: answer.status, name: (JSON.parse(answer.body) as { error?: { name?: string } }).error?.name }
  } catch {
    return { status: answer.status, name: undefined }
  }
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)
}

describe('resource bounds: what strangers can make a relay process spend', () => {
  test('behavior: 300 gateway clients from 30 addresses each read a 16 MiB public file in full while the node holds no memory per client', async () => {
    const content = randomBytes(FILE_SIZE)
    const owner = privateKeyToAccount(generatePrivateKey())
    const name = `bounds-${randomBytes(4).toString('hex')}.bin`
    const { root } = await put(new MetaClient({ urls: [metaUrl] }), [{ path: name, content }], {
      owner: owner.address,
      signer: owner,
      name,
      size: FILE_SIZE,
      replicas: 1,
      public: true,
    })
    const url = `${nodeUrl}/ipfs/${root}`
    // the node learns which roots are public at its next heartbeat
    await expect.poll(async () => (await fetch(url, { method: 'HEAD' })).status, { timeout: 30_000, interval: 250 }).toBe(200)
    // one whole read first: lazily loaded code and first-use caches are not the clients' cost
    expect(await readWhole(url, '127.0.0.1', content)).toEqual({ status: 200, bytes: FILE_SIZE, same: true })

    const pid = pidOf(net.devnet.nodes[0] as { ready?: { pid: number } })
    const idle = await medianRss(pid)
    const rss = sampleRss({ node: pid }, 100)
    const reads = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        readWhole(url, `127.0.1.${1 + (i % ADDRESSES)}`, content).catch((err: Error) => ({ status: 0, bytes: 0, same: false, err: err.message })),
      ),
    )
    const during = (await rss.stop()).node
    const failed = reads.filter((r) => r.status !== 200 || r.bytes !== FILE_SIZE || !r.same)
    const idleMiB = idle / MiB
    console.log(JSON.stringify({ idleMiB: Math.round(idleMiB), peakMiB: during?.peakMiB, lastThirdMiB: during?.lastThirdMiB, failed: failed.length }))
    expect.soft(failed.slice(0, 3)).toEqual([])
    expect.soft(during?.peakMiB).toBeLessThanOrEqual(idleMiB * 1.5)
    // and it comes back once they have left (V8 and malloc hand memory back in their own time)
    let after = Number.POSITIVE_INFINITY
    await expect
      .poll(
        () => {
          after = (readRss(pid) as number) / MiB
          return after
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBeLessThanOrEqual(idleMiB * 1.2)
    console.log(JSON.stringify({ afterMiB: Math.round(after) }))
  }, 150_000)

  test('error: 600 connections trickling their headers or body are closed by the timeouts while other requests are served', async () => {
    const headers = Array.from({ length: 300 }, (_, i) => new RawConnection(metaPort, `127.0.2.${1 + (i % 12)}`))
    const bodies = Array.from({ length: 300 }, (_, i) => new RawConnection(metaPort, `127.0.2.${1 + (i % 12)}`))
    await Promise.all([...headers, ...bodies].map((c) => c.connected()))
    for (const c of headers) void c.write('GET /healthz HTTP/1.1\r\nhost: x\r\n')
    for (const c of bodies) void c.write('POST /v1/files/ls HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n')
    // a byte a second each: every one of them keeps an idle timer from firing
    const trickle = setInterval(() => {
      for (const c of headers) void c.write('x')
      for (const c of bodies) void c.write(' ')
    }, 1000)
    try {
      // one address may hold 64 connections (they trickle too); the 65th is refused before its request is read
      const held = Array.from({ length: 64 }, () => new RawConnection(metaPort, '127.0.2.200'))
      await Promise.all(held.map((c) => c.connected()))
      for (const c of held) void c.write('GET /healthz HTTP/1.1\r\nhost: x\r\n')
      // the server counts a connection when it accepts it: the last one's answer to a whole request proves all are counted
      const last = held.at(-1) as RawConnection
      await last.write('\r\n')
      expect.soft(errorOf(await within(last.next(), 10_000))).toMatchObject({ status: 200 })
      const extra = new RawConnection(metaPort, '127.0.2.200')
      await extra.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n')
      expect.soft(errorOf(await within(extra.next(), 10_000))).toEqual({ status: 503, name: 'TooManyConnectionsError' })

      // a stranger's ordinary requests are served meanwhile
      expect((await getFrom(`${metaUrl}/healthz`, '127.0.2.250')).status).toBe(200)
      expect((await fetch(`${metaUrl}/v1/nodes`)).status).toBe(200)

      const closed = await Promise.all([...headers, ...bodies, ...held.slice(0, -1)].map((c) => within(c.closed, CLOSED_WITHIN_MS)))
      expect.soft(closed.slice(0, 300).filter((ms) => ms === 'timeout').length, 'slow headers left open').toBe(0)
      expect.soft(closed.slice(300, 600).filter((ms) => ms === 'timeout').length, 'slow bodies left open').toBe(0)
      expect.soft(closed.slice(600).filter((ms) => ms === 'timeout').length, 'slow headers at the capped address left open').toBe(0)
    } finally {
      clearInterval(trickle)
      for (const c of [...headers, ...bodies]) c.destroy()
    }
  }, 60_000)

  test('behavior: 500 upload-status long-polls cost the meta node almost no CPU, each gets its answer or its timeout, and an address past its cap gets 429', async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const never = await place(owner, 'never.bin', 1024)
    const soon = await place(owner, 'soon.bin', 1024)
    const polls = Array.from({ length: 500 }, (_, i) => {
      const ticket = i % 2 === 0 ? never : soon
      const wait = ticket === never ? NEVER_WAIT_SECONDS : 30
      const started = performance.now()
      return getFrom(`${metaUrl}/v1/uploads/${ticket.upload.ticket.id}?wait=${wait}`, `127.0.3.${1 + (i % 50)}`).then(
        (r) => ({ ...r, seconds: (performance.now() - started) / 1000 }),
        (err: Error) => ({ status: 0, body: err.message as unknown, seconds: (performance.now() - started) / 1000 }),
      )
    })
    // all 500 are waiting (a soft failure here still lets the CPU be measured while they wait)
    await vi
      .waitFor(async () => expect(await metric(metaUrl, 'konbini_upload_waiters')).toBe(500), { timeout: 6000, interval: 200 })
      .catch((err: Error) => expect.soft(err.message, 'all 500 long-polls waiting').toBe(''))

    // every one of these addresses waits 10 times already (127.0.3.2 on `soon`, for 30 s)
    const over = await getFrom(`${metaUrl}/v1/uploads/${soon.upload.ticket.id}?wait=1`, '127.0.3.2')
    expect.soft({ status: over.status, name: (over.body as { error?: { name: string } }).error?.name }).toEqual({ status: 429, name: 'RateLimitedError' })

    // from now until the first wait runs out, the meta node only holds 500 waiting requests
    const pid = pidOf(net.devnet.metas[0] as { ready?: { pid: number } })
    const cpuBefore = readCpuSeconds(pid)
    const startedAt = performance.now()
    const neverPolls = polls.filter((_, i) => i % 2 === 0)
    await Promise.race(neverPolls)
    const cpuShare = (readCpuSeconds(pid) - cpuBefore) / ((performance.now() - startedAt) / 1000)
    console.log(JSON.stringify({ longPollCpuShare: Math.round(cpuShare * 1000) / 1000 }))
    expect.soft(cpuShare).toBeLessThan(0.1)

    const timedOut = await Promise.all(neverPolls)
    const wrong = timedOut.filter((r) => r.status !== 200 || (r.body as { complete: boolean }).complete !== false)
    expect(wrong.length, JSON.stringify(wrong[0])).toBe(0)

    // the storage report that completes `soon` answers its 250 waiters long before their 30 s
    const block = await rawBlock(1024)
    const stored = await postUpload(soon.nodes[0]?.httpUrl as string, { ticket: soon.upload, route: soon.nodes, body: uploadBody([block]) })
    expect(stored.status, JSON.stringify(stored.body)).toBe(200)
    const answered = await Promise.all(polls.filter((_, i) => i % 2 === 1))
    expect(answered.filter((r) => r.status !== 200 || (r.body as { complete: boolean; root: string }).root !== block.cid.toString()).length).toBe(0)
    expect(answered.filter((r) => !(r.body as { complete: boolean }).complete || r.seconds >= 29).length).toBe(0)
  }, 90_000)

  test('error: a refused body on a keep-alive connection gets its 413, then the connection serves the next request or closes', async () => {
    // over the JSON limit but small enough to drain: the connection carries on
    const small = new RawConnection(metaPort)
    await small.connected()
    await small.write(`POST /v1/files/ls HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${MiB}\r\n\r\n`)
    void small.write(Buffer.alloc(MiB, 0x20))
    expect(errorOf(await within(small.next(), 10_000))).toEqual({ status: 413, name: 'MessageTooLargeError' })
    await small.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n')
    const next = await within(small.next(), 10_000)
    // answered, or closed: anything but a hang
    expect.soft(next === 'closed' ? 'closed' : errorOf(next)).toSatisfy((r) => r === 'closed' || (typeof r === 'object' && r.status === 200))
    small.destroy()

    // a body too big to drain: the answer says connection: close, and the connection is closed
    const big = new RawConnection(metaPort)
    await big.connected()
    await big.write(`POST /v1/files/ls HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${1024 * MiB}\r\n\r\n`)
    const zeros = Buffer.alloc(64 * 1024, 0x20)
    let sending = true
    void (async () => {
      while (sending && (await big.write(zeros))) {}
    })()
    const answer = await within(big.next(), 10_000)
    sending = false
    expect
      .soft(typeof answer === 'string' ? answer : { status: answer.status, connection: answer.headers.connection })
      .toEqual({ status: 413, connection: 'close' })
    expect(await within(big.closed, 10_000)).not.toBe('timeout')
  }, 60_000)
})
