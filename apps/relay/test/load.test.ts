import { appendFileSync } from 'node:fs'
import { createHash, randomUUID } from 'node:crypto'
import { type KonbiniClient, createKonbiniClient } from '@konbini/browser-node'
import { createNodeClientLibp2p } from '@konbini/browser-node/node'
import type { Libp2p } from '@libp2p/interface'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { percentile, randomContent, runLoops } from './load.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { readRss, sampleRss } from './rss.ts'

const MiB = 1024 * 1024
/** 60 s locally, 20 s in CI; KONBINI_LOAD_SECONDS overrides both. */
const SECONDS = Number(process.env.KONBINI_LOAD_SECONDS ?? (process.env.CI === 'true' ? 20 : 60))
const DOWNLOADS = Number(process.env.LOAD_DOWNLOADS ?? 100)
const UPLOADS = Number(process.env.LOAD_UPLOADS ?? 20)
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
 * A relay's peak RSS bound. Node's baseline with libp2p and the HTTP stack is ≈ 150–250 MiB; a
 * resource node under this load holds for each of ~100 block sessions a few 1 MiB blocks in flight
 * (send + Yamux window) and for each of ~20 pipelined uploads a few frames being verified, written
 * and forwarded: a few hundred MiB more at most. Far above that means something is buffered without bound.
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
    // the ticket limiter is per client IP and every loop here comes from 127.0.0.1: raise it well
    // past this load (≈ tens of tickets per second) so the run measures the relays, not the limiter
    metaEnv: { KONBINI_TICKET_RATE: '5000' },
    ...(process.env.LOAD_DEBUG && { resourceEnv: { DEBUG: 'libp2p:*:error' } }),
    ...(process.env.LOAD_PROF && { resourceEnv: { NODE_OPTIONS: '--cpu-prof --cpu-prof-dir=/tmp/prof' } }),
    log: (line) => {
      if (line.includes('"level":50')) relayErrors.push(line)
    },
  })
  if (process.env.LOAD_DEBUG)
    for (const n of net.devnet.nodes)
      n.child?.stderr?.on('data', (d: Buffer) => {
        const t = d.toString()
        if (/error/i.test(t)) appendFileSync('/tmp/relay-debug.log', `[${n.name}] ${t}`)
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
  const result = await client.put([{ path: name, content: content() }], { name, size, replicas: 3 })
  return { root: result.root, sha256: hash.digest('hex'), holders: result.holders }
}

/** Downloads a file through the multi-provider pool and returns the sha256 of its bytes. */
async function download(client: KonbiniClient, root: string): Promise<{ sha256: string; bytes: number; providerFailures: number }> {
  const d = await client.open(root)
  try {
    const entry = d.entry
    if (entry.type !== 'file' && entry.type !== 'raw') throw new Error(`${root} is a ${entry.type}, not a file`)
    const hash = createHash('sha256')
    let bytes = 0
    for await (const chunk of entry.content({ blockReadConcurrency: Math.min(d.readAhead, READ_AHEAD) })) {
      hash.update(chunk)
      bytes += chunk.byteLength
    }
    return { sha256: hash.digest('hex'), bytes, providerFailures: d.pool.stats().reduce((n, p) => n + p.failures, 0) }
  } finally {
    await d.finish()
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
      let downloadedBytes = 0
      let uploadedBytes = 0
      let providerFailures = 0
      const [downloads, uploads] = await Promise.all([
        runLoops(DOWNLOADS, deadline, async (loop) => {
          const seed = seeds[Math.floor(Math.random() * SEEDS)] as Seed
          const got = await download(clients[loop % CLIENTS] as KonbiniClient, seed.root)
          providerFailures += got.providerFailures
          if (got.bytes !== SEED_SIZE || got.sha256 !== seed.sha256) throw new Error(`download of ${seed.root} returned other bytes (${got.bytes} bytes)`)
          downloadedBytes += got.bytes
        }),
        runLoops(UPLOADS, deadline, async (loop) => {
          const size = MiB + Math.floor(Math.random() * 3 * MiB)
          const put = await upload(clients[loop % CLIENTS] as KonbiniClient, size)
          if (new Set(put.holders).size !== 3 || !put.holders.every((h) => peerIds.has(h)))
            throw new Error(`upload ${put.root} has holders ${put.holders.join(', ')}`)
          uploadedBytes += size
        }),
      ])
      const seconds = (performance.now() - started) / 1000
      const memory = rss.stop()

      const report = {
        seconds: Math.round(seconds * 10) / 10,
        downloads: {
          ok: downloads.ok,
          errors: downloads.errors,
          perSecond: Math.round((downloads.ok / seconds) * 10) / 10,
          MBps: Math.round(downloadedBytes / seconds / 1e5) / 10,
          p50ms: Math.round(percentile(downloads.millis, 50)),
          p99ms: Math.round(percentile(downloads.millis, 99)),
          fewestPerLoop: Math.min(...downloads.perLoop),
          providerFailures,
          samples: downloads.samples,
        },
        uploads: {
          ok: uploads.ok,
          errors: uploads.errors,
          perSecond: Math.round((uploads.ok / seconds) * 10) / 10,
          MBps: Math.round(uploadedBytes / seconds / 1e5) / 10,
          p50ms: Math.round(percentile(uploads.millis, 50)),
          p99ms: Math.round(percentile(uploads.millis, 99)),
          fewestPerLoop: Math.min(...uploads.perLoop),
          samples: uploads.samples,
        },
        rssMiB: memory,
        relayErrorLines: relayErrors.slice(0, 5),
      }
      process.stderr.write(`load report ${JSON.stringify(report, null, 2)}\n`)

      expect(downloads.errors, downloads.samples.join('\n')).toBe(0)
      expect(uploads.errors, uploads.samples.join('\n')).toBe(0)
      expect(relayErrors).toEqual([])
      // nothing stalled: every loop finished operations, and the totals are far from a standstill
      expect(Math.min(...downloads.perLoop)).toBeGreaterThan(0)
      expect(Math.min(...uploads.perLoop)).toBeGreaterThan(0)
      expect(downloads.ok).toBeGreaterThanOrEqual(SECONDS * 2)
      expect(uploads.ok).toBeGreaterThanOrEqual(SECONDS / 2)
      for (const name of Object.keys(pids)) {
        const m = memory[name]
        expect(m?.samples).toBeGreaterThanOrEqual(SECONDS / 2)
        expect(m?.peakMiB, `${name} peak RSS`).toBeLessThan(PEAK_RSS_MIB)
        // no steady growth: the last third of the run sits near the first third
        expect(m?.lastThirdMiB, `${name} RSS growth`).toBeLessThan((m?.firstThirdMiB ?? 0) * 1.5 + 64)
      }
      // the relays are still alive and answering after the run
      for (const pid of Object.values(pids)) expect(readRss(pid)).toBeGreaterThan(0)
    },
    (SECONDS + 180) * 1000,
  )
})
