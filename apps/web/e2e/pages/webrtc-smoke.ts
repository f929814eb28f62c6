// Smoke page: two tabs, one relay reservation, one direct WebRTC connection, 8 MiB over a custom
// protocol. Driven from apps/web/e2e/webrtc.test.ts through `window.smoke`.
import type { Connection, Stream } from '@libp2p/interface'
// the package's `browser` export condition (bundled with conditions ['browser'])
import { type BrowserLibp2p, createBrowserLibp2p, dialDirect, isDirect, webrtcAddress } from '@konbini/browser-node'

const PROTOCOL = '/konbini-e2e/smoke/1.0.0'
const CHUNK = 64 * 1024

export interface Received {
  bytes: number
  sha256: string
  /** Whether the stream arrived on a direct (unlimited WebRTC) connection. */
  direct: boolean
}

let node: BrowserLibp2p | undefined
let received: PromiseWithResolvers<Received> = Promise.withResolvers()

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')
}

async function readAll(stream: Stream): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let length = 0
  for await (const chunk of stream) {
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
    parts.push(bytes)
    length += bytes.byteLength
  }
  const all = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    all.set(part, offset)
    offset += part.byteLength
  }
  return all
}

function connectionInfo(conn: Connection) {
  return { direct: isDirect(conn), multiplexer: conn.multiplexer, limited: conn.limits != null, remoteAddr: conn.remoteAddr.toString(), status: conn.status }
}

const smoke = {
  /** Starts the tab's node; with `listen`, resolves once other tabs can dial `addr`. */
  async start(relays: string[], listen = true) {
    const started = performance.now()
    node = await createBrowserLibp2p({ relays, listen })
    // receives one upload per call of recv(): hashes it, answers with the hash, closes
    await node.handle(PROTOCOL, async (stream, connection) => {
      const bytes = await readAll(stream)
      const result = { bytes: bytes.byteLength, sha256: await sha256(bytes), direct: isDirect(connection) }
      stream.send(new TextEncoder().encode(result.sha256))
      await stream.close()
      received.resolve(result)
    })
    return { peerId: node.peerId.toString(), addr: webrtcAddress(node)?.toString(), ms: performance.now() - started }
  },

  /** Dials another tab's circuit/webrtc address and returns the (direct) connection's data. */
  async dial(addr: string) {
    if (!node) throw new Error('start() first')
    const started = performance.now()
    const conn = await dialDirect(node, addr, { signal: AbortSignal.timeout(30_000) })
    return { ...connectionInfo(conn), ms: performance.now() - started }
  },

  /** Every connection this tab has, as data. */
  connections() {
    return node?.getConnections().map(connectionInfo) ?? []
  },

  /** Sends `size` random bytes to `peerId` over the direct connection; returns what was sent and the receiver's answer. */
  async send(peerId: string, size: number) {
    if (!node) throw new Error('start() first')
    const conn = node.getConnections().find((c) => c.remotePeer.toString() === peerId && isDirect(c))
    if (!conn) throw new Error(`no direct connection to ${peerId}`)
    const data = new Uint8Array(size)
    for (let offset = 0; offset < size; offset += 65536) crypto.getRandomValues(data.subarray(offset, offset + 65536))
    const started = performance.now()
    const stream = await conn.newStream(PROTOCOL)
    const opened = performance.now()
    for (let offset = 0; offset < size; offset += CHUNK) {
      if (!stream.send(data.subarray(offset, offset + CHUNK))) await stream.onDrain()
    }
    await stream.close()
    const closed = performance.now()
    const answer = new TextDecoder().decode(await readAll(stream))
    const end = performance.now()
    return {
      bytes: size,
      sha256: await sha256(data),
      answer,
      ms: end - started,
      phases: { openMs: opened - started, sendMs: closed - opened, answerMs: end - closed },
    }
  },

  /** Resolves with what the handler received last (once it has). */
  async recv(): Promise<Received> {
    const result = await received.promise
    received = Promise.withResolvers()
    return result
  },

  async stop() {
    await node?.stop()
    node = undefined
  },
}

export type Smoke = typeof smoke
;(globalThis as unknown as { smoke: Smoke }).smoke = smoke
