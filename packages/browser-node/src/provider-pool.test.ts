import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { encodeLengthPrefixed, FrameKind, type SignedDownloadTicket } from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterEach, describe, expect, test } from 'vitest'
import { ProviderPool } from './provider-pool.ts'

const servers: Server[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.close()
})

/** A stand-in provider speaking `POST /v1/blocks`: answers each want-list with `answer`. */
async function provider(answer: (res: import('node:http').ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => answer(res))
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

// the stand-ins do not check tickets: only its shape matters here
const ticket = { ticket: { id: `0x${'1'.repeat(64)}` }, signature: `0x${'2'.repeat(130)}` } as unknown as SignedDownloadTicket
const peer = (n: number) => `12D3KooW${String(n).repeat(44)}`

describe('ProviderPool', () => {
  test('behavior: a block only slow at one provider and failed at the other is asked of the slow one again, not failed', async () => {
    const bytes = crypto.getRandomValues(new Uint8Array(1024))
    const cid = CID.create(1, 0x55, await sha256.digest(bytes))
    // slow: answers after many stall windows; dead: drops the connection
    const slow = await provider((res) => setTimeout(() => res.end(encodeLengthPrefixed({ kind: FrameKind.Block, cid, bytes })), 1200))
    const dead = await provider((res) => res.socket?.destroy())
    const pool = new ProviderPool({
      libp2p: {} as Libp2p,
      ticket,
      providers: [
        { peerId: peer(1), multiaddrs: [], httpUrl: slow },
        { peerId: peer(2), multiaddrs: [], httpUrl: dead },
      ],
      stallMs: 100,
    })
    try {
      expect(await pool.get(cid)).toEqual(bytes)
      const [slowStats, deadStats] = pool.stats()
      expect(slowStats?.blocks).toBe(1)
      expect(deadStats?.dead).toBe(true)
    } finally {
      pool.close()
    }
  })
})
