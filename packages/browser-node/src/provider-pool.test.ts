import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { encodeLengthPrefixed, FrameKind, type SignedDownloadTicket } from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterEach, describe, expect, test } from 'vitest'
import { ProviderPool } from './provider-pool.ts'

const MiB = 1024 * 1024
const servers: Server[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.closeAllConnections()
  for (const s of servers.splice(0)) s.close()
})

// the stand-ins do not check tickets: only its shape matters here
const ticket = { ticket: { id: `0x${'1'.repeat(64)}` }, signature: `0x${'2'.repeat(130)}` } as unknown as SignedDownloadTicket
const peer = (n: number) => `12D3KooW${String(n).repeat(44)}`

async function randomBlocks(count: number, size = MiB): Promise<Array<{ cid: CID; bytes: Uint8Array }>> {
  const out = []
  for (let i = 0; i < count; i++) {
    const bytes = new Uint8Array(size)
    for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, Math.min(size, at + 65536)))
    out.push({ cid: CID.create(1, 0x55, await sha256.digest(bytes)), bytes })
  }
  return out
}

interface StandIn {
  url: string
  /** Bytes of blocks written to clients. */
  sent: number
  /** Wants received. */
  asked: number
  /** Requests the client aborted before they were answered whole (cancels). */
  aborted: number
  /** Stops answering (requests stay open, nothing more is written) — a stalled provider. */
  stall(): void
}

/**
 * A provider speaking `POST /v1/blocks` over HTTP that sends each block `msPerBlock` after the
 * previous one, as a relay's egress cap does: a request aborted while a block waits sends nothing.
 */
async function standIn(blocks: ReadonlyArray<{ cid: CID; bytes: Uint8Array }>, msPerBlock: number): Promise<StandIn> {
  const byCid = new Map(blocks.map((b) => [b.cid.toString(), b]))
  let stalled = false
  let queue = Promise.resolve()
  const state: StandIn = {
    url: '',
    sent: 0,
    asked: 0,
    aborted: 0,
    stall: () => {
      stalled = true
    },
  }
  const server = createServer((req, res) => {
    const body: Buffer[] = []
    req.on('data', (c: Buffer) => body.push(c))
    req.on('end', () => {
      const { cids } = JSON.parse(Buffer.concat(body).toString()) as { cids: string[] }
      state.asked += cids.length
      res.on('close', () => {
        if (!res.writableFinished) state.aborted++
      })
      res.writeHead(200)
      // one sender for the whole provider, in arrival order: its rate is shared by every request
      queue = queue.then(async () => {
        for (const key of cids) {
          await new Promise((resolve) => setTimeout(resolve, msPerBlock))
          if (res.destroyed || stalled) return
          const block = byCid.get(key)
          if (block === undefined) {
            res.write(encodeLengthPrefixed({ kind: FrameKind.DontHave, cid: CID.parse(key) }))
            continue
          }
          state.sent += block.bytes.byteLength
          res.write(encodeLengthPrefixed({ kind: FrameKind.Block, cid: block.cid, bytes: block.bytes }))
        }
        if (!stalled) res.end()
      })
    })
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return state
}

/** Reads `blocks` in order through the pool with `readAhead` wants outstanding, as the UnixFS exporter does. */
async function readAll(pool: ProviderPool, blocks: ReadonlyArray<{ cid: CID; bytes: Uint8Array }>, readAhead: number, onRead?: (i: number) => void) {
  const pending: Array<Promise<Uint8Array>> = []
  let next = 0
  const ask = () => {
    while (next < blocks.length && pending.length < readAhead) pending.push(pool.get((blocks[next++] as { cid: CID }).cid))
  }
  ask()
  for (let i = 0; i < blocks.length; i++) {
    const bytes = await (pending.shift() as Promise<Uint8Array>)
    expect(bytes.byteLength).toBe(blocks[i]?.bytes.byteLength)
    onRead?.(i)
    ask()
  }
}

const blocksOf = (pool: ProviderPool) => Object.fromEntries(pool.stats().map((s) => [s.peerId, s.blocks]))

describe('ProviderPool', () => {
  test('behavior: a block only slow at one provider and failed at the other is asked of the slow one again, not failed', async () => {
    const [block] = await randomBlocks(1, 1024)
    const slow = await standIn([block as { cid: CID; bytes: Uint8Array }], 1200)
    const dead = createServer((req) => req.socket.destroy())
    servers.push(dead)
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve))
    const pool = new ProviderPool({
      libp2p: {} as Libp2p,
      ticket,
      providers: [
        { peerId: peer(1), multiaddrs: [], httpUrl: slow.url },
        { peerId: peer(2), multiaddrs: [], httpUrl: `http://127.0.0.1:${(dead.address() as AddressInfo).port}` },
      ],
    })
    try {
      expect(await pool.get(block?.cid as CID)).toEqual(block?.bytes)
      const [slowStats, deadStats] = pool.stats()
      expect(slowStats?.blocks).toBe(1)
      expect(deadStats?.dead).toBe(true)
    } finally {
      pool.close()
    }
  })

  test('behavior: a provider 20× slower gets little work, and blocks it was asked for and not yet sent are cancelled, not sent twice', async () => {
    const blocks = await randomBlocks(24)
    const fast = await standIn(blocks, 10)
    // like a relay capped at 1 MiB/s: each block leaves a second after the previous one
    const slow = await standIn(blocks, 1000)
    const pool = new ProviderPool({
      libp2p: {} as Libp2p,
      ticket,
      providers: [
        { peerId: peer(1), multiaddrs: [], httpUrl: slow.url },
        { peerId: peer(2), multiaddrs: [], httpUrl: fast.url },
      ],
    })
    try {
      await readAll(pool, blocks, 24)
      const byPeer = blocksOf(pool)
      expect(byPeer[peer(2)]).toBeGreaterThan(3 * (byPeer[peer(1)] ?? 0))
      // the slow one was asked (small work first), and its wants were cancelled before the download ended
      expect(slow.asked).toBeGreaterThan(0)
      expect(slow.aborted).toBeGreaterThan(0)
      // what both providers sent, against the file: cancelled wants never left the slow one (a
      // block or two may still cross twice: hedged while the fast one was starved of CPU, or
      // cancelled after the slow one had started sending it)
      expect(fast.sent + slow.sent).toBeLessThanOrEqual(26 * MiB)
    } finally {
      pool.close()
    }
  })

  test('behavior: a light peer is preferred to an equally fast full node', async () => {
    const blocks = await randomBlocks(24)
    const relay = await standIn(blocks, 20)
    const donor = await standIn(blocks, 20)
    const pool = new ProviderPool({
      libp2p: {} as Libp2p,
      ticket,
      providers: [
        { peerId: peer(1), multiaddrs: [], httpUrl: relay.url, kind: 'full' },
        // a light peer reached over the same HTTP stand-in: only its kind differs
        { peerId: peer(2), multiaddrs: [], httpUrl: donor.url, kind: 'light' },
      ],
    })
    try {
      await readAll(pool, blocks, 4)
      const byPeer = blocksOf(pool)
      // the full node takes only wants the donor would deliver later than the full node alone would have
      expect(byPeer[peer(2)]).toBeGreaterThan(byPeer[peer(1)] ?? 0)
    } finally {
      pool.close()
    }
  })

  test('behavior: a provider that stalls mid-download (connection open, nothing sent) loses its work to the others; the download completes', async () => {
    const blocks = await randomBlocks(32)
    const providers = await Promise.all([standIn(blocks, 15), standIn(blocks, 15), standIn(blocks, 15)])
    const pool = new ProviderPool({
      libp2p: {} as Libp2p,
      ticket,
      providers: providers.map((p, i) => ({ peerId: peer(i + 1), multiaddrs: [], httpUrl: p.url, kind: 'light' as const })),
    })
    let writtenAtStall = 0
    try {
      await readAll(pool, blocks, 16, (i) => {
        if (i === 8) {
          providers[0]?.stall()
          writtenAtStall = providers[0]?.sent ?? 0
        }
      })
      const after = blocksOf(pool)
      // the stalled one delivered nothing more than it had written before it stalled
      expect((after[peer(1)] ?? 0) * MiB).toBeLessThanOrEqual(writtenAtStall)
      expect(writtenAtStall).toBeLessThan(24 * MiB)
      expect((after[peer(2)] ?? 0) + (after[peer(3)] ?? 0)).toBeGreaterThanOrEqual(32 - (after[peer(1)] ?? 0))
      expect(Object.values(after).reduce((n, b) => n + b, 0)).toBe(32)
    } finally {
      pool.close()
    }
  })

  test('behavior: a declared egress cap never buys work: a slow peer claiming 1 TB/s gets what its measured rate earns, one claiming 1 B/s still serves alone', async () => {
    const blocks = await randomBlocks(24)
    const honest = await standIn(blocks, 10)
    const liar = await standIn(blocks, 300)
    const pool = new ProviderPool({
      libp2p: {} as Libp2p,
      ticket,
      providers: [
        { peerId: peer(1), multiaddrs: [], httpUrl: liar.url, kind: 'light', egressCapBps: 1e12 },
        { peerId: peer(2), multiaddrs: [], httpUrl: honest.url, kind: 'light' },
      ],
    })
    try {
      await readAll(pool, blocks, 16)
      const byPeer = blocksOf(pool)
      expect(byPeer[peer(2)]).toBeGreaterThan(3 * (byPeer[peer(1)] ?? 0))
    } finally {
      pool.close()
    }
    // a cap of 1 B/s makes its plan a block per 12 days: alone, it is still asked, and the download completes
    const alone = await standIn(blocks.slice(0, 4), 10)
    const lonely = new ProviderPool({
      libp2p: {} as Libp2p,
      ticket,
      providers: [{ peerId: peer(3), multiaddrs: [], httpUrl: alone.url, kind: 'light', egressCapBps: 1 }],
    })
    try {
      await readAll(lonely, blocks.slice(0, 4), 4)
      expect(blocksOf(lonely)[peer(3)]).toBe(4)
    } finally {
      lonely.close()
    }
  })

  test("error: a block no provider has fails with the providers' answer", async () => {
    const [block] = await randomBlocks(1, 1024)
    const empty = await standIn([], 1)
    const pool = new ProviderPool({ libp2p: {} as Libp2p, ticket, providers: [{ peerId: peer(1), multiaddrs: [], httpUrl: empty.url }] })
    try {
      await expect(pool.get(block?.cid as CID)).rejects.toMatchObject({ name: 'BlockNotFoundError' })
    } finally {
      pool.close()
    }
  })
})
