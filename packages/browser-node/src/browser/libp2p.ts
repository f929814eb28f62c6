import { BaseError } from '@konbini/protocol'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { type Identify, identify } from '@libp2p/identify'
import type { Connection, Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { webRTC } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

/**
 * Inbound connection limits for a tab. Viewers reach a donor tab through a relay, so every relayed
 * connection (and, on one machine or behind one NAT, every WebRTC one) comes from the same host:
 * libp2p's defaults (5 new connections per second per host, 10 being upgraded at once) refused
 * about 3 in 10 of ten viewers' dials to a popular donor. What a viewer may then ask is bounded
 * by the block exchange (a signed ticket per session, wants per second, the donor's egress cap);
 * these only bound handshakes.
 */
export const TAB_INBOUND_CONNECTIONS_PER_SECOND_PER_HOST = 64
export const TAB_MAX_INBOUND_UPGRADES = 64

/** A browser tab's libp2p node. */
export type BrowserLibp2p = Libp2p<{ identify: Identify }>

export interface BrowserLibp2pInit {
  /** Relay WebSocket multiaddrs ending in `/p2p/<relay id>`, e.g. `/ip4/127.0.0.1/tcp/7301/ws/p2p/12D3…`. */
  relays: string[]
  /** Reserve a relay slot and accept WebRTC from other tabs (default true). */
  listen?: boolean
  privateKey?: PrivateKey
  /**
   * Passed to every `RTCPeerConnection`. Default `{ iceServers: [] }`: no STUN/TURN, so nothing is
   * sent to public servers (tests run on a closed network); a deployment configures its own.
   */
  rtcConfiguration?: RTCConfiguration
  /** How long to wait for the relay reservation address when listening (default 10 s). */
  reservationTimeoutMs?: number
}

export class RelayReservationTimeoutError extends BaseError {
  override name = 'RelayReservationTimeoutError' as const
  constructor({ relays, timeoutMs }: { relays: string[]; timeoutMs: number }) {
    super(`No relay reservation within ${timeoutMs} ms; other peers cannot reach this tab.`, { details: `relays: ${relays.join(', ')}` })
  }
}

export class DirectDialFailedError extends BaseError {
  override name = 'DirectDialFailedError' as const
  constructor({ addr, attempts, cause }: { addr: string; attempts: number; cause: unknown }) {
    super(`No direct WebRTC connection to ${addr} after ${attempts} attempts.`, { cause })
  }
}

/** The circuit/WebRTC address other tabs dial: `…/p2p-circuit/webrtc/p2p/<self>`. */
export function webrtcAddress(libp2p: Libp2p): Multiaddr | undefined {
  return libp2p.getMultiaddrs().find((ma) => ma.toString().includes('/p2p-circuit/webrtc/p2p/'))
}

/**
 * Creates and starts a libp2p node for a browser tab: WebSockets to the relays, circuit relay v2
 * (client), WebRTC between tabs, Noise, Yamux, identify. When `listen` (default), it listens on
 * `/p2p-circuit` and `/webrtc`, dials the relays, and resolves only once its reservation address
 * (see {@link webrtcAddress}) is in `getMultiaddrs()`; otherwise it rejects with
 * `RelayReservationTimeoutError` (and stops the node).
 *
 * The connection gater allows every address, including `ws://` and loopback/private ones that a
 * browser's default gater refuses: needed for devnets and tests; relays are addresses we were
 * given, and tabs are dialed through them.
 *
 * @example
 * const node = await createBrowserLibp2p({ relays: ['/ip4/127.0.0.1/tcp/7301/ws/p2p/12D3…'] })
 * const myAddr = webrtcAddress(node) // give this to other tabs
 */
export async function createBrowserLibp2p(init: BrowserLibp2pInit): Promise<BrowserLibp2p> {
  const listen = init.listen ?? true
  const node = await createLibp2p({
    ...(init.privateKey ? { privateKey: init.privateKey } : {}),
    addresses: { listen: listen ? ['/p2p-circuit', '/webrtc'] : [] },
    transports: [webSockets(), circuitRelayTransport(), webRTC({ rtcConfiguration: init.rtcConfiguration ?? { iceServers: [] } })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    connectionManager: {
      inboundConnectionThreshold: TAB_INBOUND_CONNECTIONS_PER_SECOND_PER_HOST,
      maxIncomingPendingConnections: TAB_MAX_INBOUND_UPGRADES,
    },
    services: { identify: identify() },
  })
  try {
    const reserved = listen ? waitForReservation(node, init.reservationTimeoutMs ?? 10_000, init.relays) : undefined
    // a tab that cannot reach one relay still works through the others
    const dials = await Promise.allSettled(init.relays.map((relay) => node.dial(multiaddr(relay))))
    if (init.relays.length > 0 && dials.every((d) => d.status === 'rejected')) throw (dials[0] as PromiseRejectedResult).reason
    await reserved
    return node
  } catch (err) {
    await node.stop()
    throw err
  }
}

function waitForReservation(node: Libp2p, timeoutMs: number, relays: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (webrtcAddress(node) === undefined) return
      done()
      resolve()
    }
    const timer = setTimeout(() => {
      done()
      reject(new RelayReservationTimeoutError({ relays, timeoutMs }))
    }, timeoutMs)
    // `self:peer:update` is debounced by 1 s; the relay listener's `transport:listening` comes as
    // soon as the reservation is made (~1 s sooner)
    const done = () => {
      clearTimeout(timer)
      node.removeEventListener('self:peer:update', check)
      node.removeEventListener('transport:listening', check)
    }
    node.addEventListener('self:peer:update', check)
    node.addEventListener('transport:listening', check)
    check()
  })
}

/** True for a direct WebRTC connection (not a limited, relayed one). The dialer's `remoteAddr` still shows the circuit path. */
export function isDirect(conn: Connection): boolean {
  return conn.multiplexer === '/webrtc' && conn.limits == null
}

/** An open direct WebRTC connection to `peerId`, if there is one. */
export function directConnection(libp2p: Libp2p, peerId: PeerId | string): Connection | undefined {
  const id = peerId.toString()
  return libp2p.getConnections().find((c) => c.remotePeer.toString() === id && c.status === 'open' && isDirect(c))
}

export interface DialDirectOptions {
  signal?: AbortSignal
  /** Attempts before giving up (default 4). */
  attempts?: number
  /**
   * The first attempt's timeout (default 5 s; a good dial takes well under 1 s on a quiet
   * machine); each later attempt gets twice the one before, as a loaded machine (one core, many
   * tabs) can need several seconds.
   */
  attemptTimeoutMs?: number
}

/**
 * Dials a peer's `…/p2p-circuit/webrtc/p2p/<peer>` address and resolves with the direct WebRTC
 * connection, waiting for it when the dial first returns the limited relayed one. Each attempt is
 * short and retried, since a WebRTC dial can hang (STACK.md, @libp2p/webrtc init-channel race).
 * Rejects with `DirectDialFailedError`, or the abort reason when `signal` aborts.
 *
 * @example
 * const conn = await dialDirect(node, '/ip4/…/p2p-circuit/webrtc/p2p/12D3…', { signal: AbortSignal.timeout(20_000) })
 * const stream = await conn.newStream('/my/proto/1.0.0')
 */
export async function dialDirect(libp2p: Libp2p, addr: Multiaddr | string, options: DialDirectOptions = {}): Promise<Connection> {
  const ma = typeof addr === 'string' ? multiaddr(addr) : addr
  const peer = ma.getComponents().findLast((c) => c.name === 'p2p')?.value
  if (peer === undefined) throw new TypeError(`${ma.toString()} names no peer (/p2p/<id>)`)
  const attempts = options.attempts ?? 4
  let lastError: unknown
  for (let i = 0; i < attempts; i++) {
    options.signal?.throwIfAborted()
    const existing = directConnection(libp2p, peer)
    if (existing) return existing
    const attempt = new AbortController()
    const timeout = (options.attemptTimeoutMs ?? 5000) * 2 ** i
    const signal = AbortSignal.any([attempt.signal, AbortSignal.timeout(timeout), ...(options.signal ? [options.signal] : [])])
    const direct = waitForDirect(libp2p, peer, signal)
    direct.catch(() => {})
    try {
      const conn = await libp2p.dial(ma, { signal })
      if (isDirect(conn)) return conn
      return await direct
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason
      lastError = err
    } finally {
      attempt.abort()
    }
  }
  throw new DirectDialFailedError({ addr: ma.toString(), attempts, cause: lastError })
}

function waitForDirect(libp2p: Libp2p, peer: string, signal: AbortSignal): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const onOpen = (event: CustomEvent<Connection>) => {
      if (event.detail.remotePeer.toString() !== peer || !isDirect(event.detail)) return
      done()
      resolve(event.detail)
    }
    const onAbort = () => {
      done()
      reject(signal.reason)
    }
    const done = () => {
      libp2p.removeEventListener('connection:open', onOpen)
      signal.removeEventListener('abort', onAbort)
    }
    if (signal.aborted) return reject(signal.reason)
    libp2p.addEventListener('connection:open', onOpen)
    signal.addEventListener('abort', onAbort)
  })
}
