import type { Heartbeat, NodeInfo, SignedHeartbeat } from '@konbini/protocol'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startIdentityServer } from './identity-server.ts'
import { newStranger, type Stranger, strangerHeartbeat } from './stranger-node.ts'
import { startTestNetwork, type TestNetwork } from './network.ts'
import { inBatches, nowSeconds, postForError } from './wire.ts'

/**
 * Registration attacked as a stranger would: before, any validly signed heartbeat registered a
 * live full node (any URL scheme, a URL that was another node's), 2,000 of them from one address
 * in 7 s, and one replayed byte for byte, or dated 1970, kept a dead node live forever.
 */
describe('a node earns its place: fresh, numbered heartbeats, a URL that proves the node', () => {
  let net: TestNetwork
  let server: Awaited<ReturnType<typeof startIdentityServer>>
  let ownUrl: string
  const self: Stranger[] = []

  const stranger = newStranger
  const heartbeat = (s: Stranger, httpUrl: string, over: Partial<Heartbeat> = {}) => strangerHeartbeat(s, httpUrl, net.file.metaAddresses ?? [], over)
  const post = (body: SignedHeartbeat) => postForError(net.file.metaUrls[0] as string, '/v1/nodes/heartbeat', body)
  const known = async (peerId: string): Promise<NodeInfo | undefined> =>
    ((await (await fetch(new URL('/v1/nodes', net.file.metaUrls[0]))).json()) as { nodes: NodeInfo[] }).nodes.find((n) => n.peerId === peerId)

  beforeAll(async () => {
    net = await startTestNetwork({ resources: 2 })
    // a stranger's own server, answering the identity challenge with its own key — honestly
    self.push(await stranger())
    server = await startIdentityServer((self[0] as Stranger).key)
    ownUrl = server.url
  }, 60_000)
  afterAll(async () => {
    server?.close()
    await net?.stop()
  })

  test('error: a heartbeat naming a URL that is not http(s) is refused with InvalidRequestError, nothing registered', async () => {
    const s = await stranger()
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'gopher://127.0.0.1:70/']) {
      expect(await post(await heartbeat(s, url)), url).toEqual({ status: 400, name: 'InvalidRequestError' })
    }
    expect(await known(s.peerId)).toBeUndefined()
  })

  test("error: a heartbeat naming a real node's URL under another peer id, or a URL nobody answers at, is refused with NodeUrlUnverifiedError", async () => {
    const s = await stranger()
    const real = net.file.nodes[0]?.httpUrl as string
    expect(await post(await heartbeat(s, real))).toEqual({ status: 403, name: 'NodeUrlUnverifiedError' })
    expect(await post(await heartbeat(s, 'http://127.0.0.1:9/'))).toEqual({ status: 403, name: 'NodeUrlUnverifiedError' })
    expect(await known(s.peerId)).toBeUndefined()
    // the real nodes are registered, their URLs verified by the same check
    for (const n of net.file.nodes) expect((await known(n.peerId))?.live, n.peerId).toBe(true)
  })

  test('error: a heartbeat replayed byte for byte is refused with HeartbeatReplayedError, one dated 1970 or an hour ahead with HeartbeatStaleError', async () => {
    const s = self[0] as Stranger
    const first = await heartbeat(s, ownUrl)
    expect(await post(first)).toEqual({ status: 200, name: undefined })
    const seen = (await known(s.peerId))?.lastSeen
    expect(seen).toBeDefined()
    expect(await post(first)).toEqual({ status: 409, name: 'HeartbeatReplayedError' })
    expect(await post(await heartbeat(s, ownUrl, { seq: first.body.seq - 1 }))).toEqual({ status: 409, name: 'HeartbeatReplayedError' })
    expect(await post(await heartbeat(s, ownUrl, { issuedAt: 0 }))).toEqual({ status: 400, name: 'HeartbeatStaleError' })
    expect(await post(await heartbeat(s, ownUrl, { issuedAt: nowSeconds() + 3600 }))).toEqual({ status: 400, name: 'HeartbeatStaleError' })
    // and a fresh, higher-numbered one is taken
    expect(await post(await heartbeat(s, ownUrl))).toEqual({ status: 200, name: undefined })
  })

  test('error: a flood of heartbeats from one source is throttled with RateLimitedError (429), and every process still answers', async () => {
    const signed = await Promise.all(Array.from({ length: 200 }, async () => heartbeat(await stranger(), ownUrl, { capacityBytes: 1 })))
    // 50 at a time: one source gets at most 64 connections, the rate limit is what this test meets
    const answers = await inBatches(signed.length, 50, (i) => post(signed[i] as SignedHeartbeat))
    const limited = answers.filter((a) => a.status === 429)
    expect(limited.length).toBeGreaterThan(100)
    expect(new Set(limited.map((a) => a.name))).toEqual(new Set(['RateLimitedError']))
    for (const n of net.file.nodes) expect((await fetch(`${n.httpUrl}/healthz`)).status, n.peerId).toBe(200)
  })
})
