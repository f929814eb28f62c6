import { createHash, randomUUID } from 'node:crypto'
import { createKonbiniClient, type KonbiniClient } from '@konbini/browser-node'
import { createNodeClientLibp2p } from '@konbini/browser-node/node'
import type { Libp2p } from '@libp2p/interface'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type LoopTally, percentile, randomContent, runLoops } from './load.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { readRss, sampleRss } from './rss.ts'

const MiB = 1024 * 1024
/** 60 s locally, 20 s in CI; KONBINI_LOAD_SECONDS overrides both. */
const SECONDS = Number(process.env.KONBINI_LOAD_SECONDS ?? (process.env.CI === 'true' ? 20 : 60))
const DOWNLOADS = 100
/** Download loops forced onto the libp2p block exchange; the others take the default path (HTTP to full nodes). */
const LIBP2P_DOWNLOADS = 25
const UPLOADS = 20
const SEEDS = 4
const SEED_SIZE = 8 * MiB
/** Client libp2p nodes (and accounts) shared by the loops: many users in one process. */
const CLIENTS = 4
/**
 * Blocks one download reads ahead. Capped below the client's default (36) so the 100 downloads in
 * this one process hold at most 100 × 4 MiB; the relays see the same bytes either way.
 */
const READ_AHEAD = 4
/**
 * A relay's peak RSS bound. An idle resource node sits at ≈ 250 MiB (Node, libp2p, HTTP, pino).
 * Under this load it holds at most a block or two (1 MiB each) per open block session (~100: one
 * per download it serves, HTTP or libp2p) plus, per pipelined upload (~20), the frames being
 * verified, written (4 in flight) and forwarded: ≈ 250 + 100 × 2 + 20 × 6 ≈ 570 MiB, and V8 does
 * not hand freed buffers back at once. Measured peaks here are 400–460 MiB; 768 MiB leaves room
 * for a slower machine and still fails if anything is buffered per request without bound.
 */
const PEAK_RSS_MIB = 768

interface Seed {
  root: string
  sha256: string
}

let net: TestNetwork
let libp2ps: Libp2p[] = []
let clients: KonbiniClient[] = []
const relayErrors: string[] = []

beforeAll(async () => {
  net = await startTestNetwork({
    resources: 3,
    // the ticket limiter is per client IP and every loop here comes from 127.0.0.1 (≈ 15 tickets/s
    // at this load, bursts at the start): raise it so the run measures the relays, not the limiter
    metaEnv: { KONBINI_TICKET_RATE: '5000', KONBINI_HTTP_CONNECTIONS_PER_ADDRESS: '1024' },
    // likewise every client connects from 127.0.0.1: raise the per-source connection cap
    resourceEnv: { KONBINI_HTTP_CONNECTIONS_PER_ADDRESS: '1024' },
    log: (line) => {
      if (line.includes('"level":50')) relayErrors.push(line)
    },
  })
  libp2ps = await Promise.all(Array.from({ length: CLIENTS }, () => createNodeClientLibp2p()))
  clients = libp2ps.map((libp2p) => createKonbiniClient({ metaUrls: net.file.metaUrls, account: privateKeyToAccount(generatePrivateKey()), libp2p }))
})

afterAll(async () => {
  await Promise.all(libp2ps.map((l) => l.stop()))
  await net?.stop()
})

/** Uploads `size` fresh random bytes with R=3, hashing them on the way (the bytes are never held whole). */
async function upload(client: KonbiniClient, size: number): Promise<Seed & { holders: string[] }> {
  const hash = createHash('sha256')
  async function* content() {
    for await (const piece of randomContent(size)) {
      hash.update(piece)
      yield piece
    }
  }
  // a unique name: an unfinished upload of the same name and size may be resumed instead
  const name = `load-${randomUUID()}.bin`
  // public: any of the test's clients downloads it
  const result = await client.put([{ path: name, content: content() }], { name, size, replicas: 3, public: true })
  return { root: result.root, sha256: hash.digest('hex'), holders: result.holders }
}

/** Downloads a file through the multi-provider pool and returns the sha256 of its bytes (streamed, never held whole). */
async function download(client: KonbiniClient, root: string, transport: 'auto' | 'libp2p'): Promise<{ sha256: string; bytes: number; stalls: number }> {
  const d = await client.open(root, { transport })
  try {
    const entry = d.entry
    if (entry.type !== 'file' && entry.type !== 'raw') throw new Error(`${root} is a ${entry.type}, not a file`)
    const hash = createHash('sha256')
    let bytes = 0
    for await (const chunk of entry.content({ blockReadConcurrency: Math.min(d.readAhead, READ_AHEAD) })) {
      hash.update(chunk)
      bytes += chunk.byteLength
    }
    return { sha256: hash.digest('hex'), bytes, stalls: d.pool.stats().reduce((n, p) => n + p.failures, 0) }
  } finally {
    await d.finish()
  }
}

function summary(tally: LoopTally, seconds: number, bytes: number) {
  return {
    ok: tally.ok,
    errors: tally.errors,
    perSecond: Math.round((tally.ok / seconds) * 10) / 10,
    MBps: Math.round(bytes / seconds / 1e5) / 10,
    p50ms: Math.round(percentile(tally.millis, 50)),
    p99ms: Math.round(percentile(tally.millis, 99)),
    fewestPerLoop: Math.min(...tally.perLoop),
    samples: tally.samples,
  }
}

describe(`load: 1 meta + 3 resource processes, ${DOWNLOADS} downloads and ${UPLOADS} uploads for ${SECONDS} s`, () => {
  test(
    'behavior: every download and upload succeeds and relay memory stays bounded',
    async () => {
      const peerIds = new Set(net.file.nodes.map((n) => n.peerId))
      const seeds: Seed[] = []
      for (let i = 0; i < SEEDS; i++) {
        const seed = await upload(clients[i % CLIENTS] as KonbiniClient, SEED_SIZE)
        expect(new Set(seed.holders)).toEqual(peerIds)
        seeds.push(seed)
      }

      const pids = Object.fromEntries(net.devnet.nodes.map((n) => [n.name, n.ready?.pid as number]))
      const rss = sampleRss({ ...pids, meta: net.devnet.metas[0]?.ready?.pid as number, test: process.pid })
      const started = performance.now()
      const deadline = started + SECONDS * 1000
      const bytes = { http: 0, libp2p: 0, uploaded: 0 }
      let stalls = 0
      const downloadLoop = (transport: 'auto' | 'libp2p') => async (loop: number) => {
        const seed = seeds[Math.floor(Math.random() * SEEDS)] as Seed
        const got = await download(clients[loop % CLIENTS] as KonbiniClient, seed.root, transport)
        stalls += got.stalls
        if (got.bytes !== SEED_SIZE || got.sha256 !== seed.sha256) throw new Error(`download of ${seed.root} returned other bytes (${got.bytes} bytes)`)
        bytes[transport === 'libp2p' ? 'libp2p' : 'http'] += got.bytes
      }
      const [http, libp2p, uploads] = await Promise.all([
        runLoops(DOWNLOADS - LIBP2P_DOWNLOADS, deadline, downloadLoop('auto')),
        runLoops(LIBP2P_DOWNLOADS, deadline, downloadLoop('libp2p')),
        runLoops(UPLOADS, deadline, async (loop) => {
          const size = MiB + Math.floor(Math.random() * 3 * MiB)
          const put = await upload(clients[loop % CLIENTS] as KonbiniClient, size)
          if (new Set(put.holders).size !== 3 || !put.holders.every((h) => peerIds.has(h)))
            throw new Error(`upload ${put.root} has holders ${put.holders.join(', ')}`)
          bytes.uploaded += size
        }),
      ])
      const seconds = (performance.now() - started) / 1000
      const memory = await rss.stop()

      const report = {
        seconds: Math.round(seconds * 10) / 10,
        downloadsHttp: summary(http, seconds, bytes.http),
        downloadsLibp2p: summary(libp2p, seconds, bytes.libp2p),
        downloadStallsReasked: stalls,
        uploads: summary(uploads, seconds, bytes.uploaded),
        rssMiB: Object.fromEntries(Object.entries(memory).map(([name, { series, ...m }]) => [name, m])),
        relayErrorLines: relayErrors.slice(0, 5),
      }
      process.stderr.write(`load report ${JSON.stringify(report, null, 2)}\n`)
      for (const [name, m] of Object.entries(memory)) process.stderr.write(`rss MiB ${name}: ${m.series.join(' ')}\n`)

      for (const tally of [http, libp2p, uploads]) expect(tally.errors, tally.samples.join('\n')).toBe(0)
      expect(relayErrors).toEqual([])
      // nothing stalled: every loop finished operations, and the totals are far from a standstill
      // (measured here: ≈ 10 downloads/s and 3 uploads/s; these floors are 5× lower)
      for (const tally of [http, libp2p, uploads]) expect(Math.min(...tally.perLoop)).toBeGreaterThan(0)
      expect(http.ok + libp2p.ok).toBeGreaterThanOrEqual(SECONDS * 2)
      expect(uploads.ok).toBeGreaterThanOrEqual(SECONDS / 2)
      for (const name of Object.keys(pids)) {
        const m = memory[name]
        expect(m?.samples).toBeGreaterThanOrEqual(SECONDS * 0.9)
        expect(m?.peakMiB, `${name} peak RSS`).toBeLessThan(PEAK_RSS_MIB)
        // no steady growth: the last third of the run sits near the first third
        expect(m?.lastThirdMiB, `${name} RSS growth`).toBeLessThan((m?.firstThirdMiB ?? 0) * 1.5 + 64)
      }
      // the relays are still alive after the run
      for (const pid of Object.values(pids)) expect(readRss(pid)).toBeGreaterThan(0)
    },
    (SECONDS + 180) * 1000,
  )
})
