import { request } from 'node:http'
import { createKonbiniClient, MetaClient, signOwnerRequest, signPlacement } from '@konbini/browser-node'
import { createNodeClientLibp2p } from '@konbini/browser-node/node'
import { DEVNET_CHAIN_ID, type PlacementRequest } from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { inBatches } from './wire.ts'

/**
 * Placements attacked as a stranger would: before, a placement naming owner A needed no
 * signature from A, so B planted `planted-by-B.exe` in A's file list and, by sending unsigned
 * placements naming A, kept A's ticket bucket empty (429 five times in a row).
 */
describe('owners sign what is theirs: placements', () => {
  let net: TestNetwork
  let libp2p: Libp2p
  const alice = privateKeyToAccount(generatePrivateKey())
  const bob = privateKeyToAccount(generatePrivateKey())
  const meta = () => new MetaClient({ urls: net.file.metaUrls })
  /** POSTs a placement from `from` (another loopback address stands for another machine). */
  const post = (body: unknown, from = '127.0.0.1'): Promise<{ status: number; name: string | undefined }> =>
    new Promise((resolve, reject) => {
      const req = request(
        new URL('/v1/uploads', net.file.metaUrls[0]),
        { method: 'POST', localAddress: from, headers: { 'content-type': 'application/json' } },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => {
            text += chunk
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, name: (JSON.parse(text) as { error?: { name: string } }).error?.name }))
        },
      )
      req.on('error', reject)
      req.end(JSON.stringify(body))
    })
  const aliceFiles = async () => (await meta().post('ls', await signOwnerRequest(alice, 'ls', '', DEVNET_CHAIN_ID))).files.map((f) => f.name)

  beforeAll(async () => {
    net = await startTestNetwork({ resources: 3 })
    libp2p = await createNodeClientLibp2p()
  }, 60_000)
  afterAll(async () => {
    await libp2p?.stop()
    await net?.stop()
  })

  test("error: a placement naming Alice, unsigned or signed by Bob, is refused; Alice's list stays hers and her bucket full", async () => {
    const planted: PlacementRequest = { owner: alice.address, name: 'planted-by-B.exe', size: 1000 }
    // more than a bucket's burst (2 × KONBINI_TICKET_RATE, 100) of each, from Bob's machine (55 at a time: under the per-source connection cap)
    const unsigned = await inBatches(110, 55, () => post(planted, '127.0.0.2'))
    expect(new Set(unsigned.map((a) => `${a.status} ${a.name}`))).toEqual(new Set(['400 InvalidRequestError']))
    const signedByBob = await signPlacement(bob, planted, DEVNET_CHAIN_ID)
    const byBob = await inBatches(110, 55, () => post(signedByBob, '127.0.0.2'))
    expect(byBob.filter((a) => a.status === 200)).toEqual([])
    expect(byBob.filter((a) => a.status === 401).length).toBeGreaterThan(0)
    // nor can Bob claim to sign for Alice with an owner request naming her
    const forged = await signPlacement(bob, { ...planted, owner: bob.address }, DEVNET_CHAIN_ID)
    expect(await post({ placement: planted, auth: { ...forged.auth, request: { ...forged.auth.request, owner: alice.address } } })).toEqual({
      status: 401,
      name: 'SignatureInvalidError',
    })
    // Alice's own upload goes through at once: her bucket was never touched
    const client = createKonbiniClient({ metaUrls: net.file.metaUrls, account: alice, libp2p })
    await client.put([{ path: 'mine.txt', content: new TextEncoder().encode('mine') }], { name: 'mine.txt', size: 4 })
    expect(await aliceFiles()).toEqual(['mine.txt'])
  }, 60_000)

  test('error: a signed placement replayed, or altered after signing (public flipped, size changed), is refused with SignatureInvalidError; a retry with its requestId gets the same ticket', async () => {
    const request: PlacementRequest = { owner: alice.address, name: 'private.bin', size: 1000, public: false }
    const signed = await signPlacement(alice, request, DEVNET_CHAIN_ID)
    expect((await post(signed)).status).toBe(200)
    expect(await post(signed)).toEqual({ status: 401, name: 'SignatureInvalidError' })
    const fresh = await signPlacement(alice, { ...request, name: 'other.bin' }, DEVNET_CHAIN_ID)
    expect(await post({ ...fresh, placement: { ...fresh.placement, public: true } })).toEqual({ status: 401, name: 'SignatureInvalidError' })
    expect(await post({ ...fresh, placement: { ...fresh.placement, size: 10 ** 12 } })).toEqual({ status: 401, name: 'SignatureInvalidError' })
    const idempotent = await signPlacement(alice, { ...request, name: 'again.bin', requestId: 'ab'.repeat(8) }, DEVNET_CHAIN_ID)
    const first = await meta().post('placement', idempotent)
    const retried = await meta().post('placement', idempotent)
    expect(retried.upload.ticket.id).toBe(first.upload.ticket.id)
  }, 60_000)
})
