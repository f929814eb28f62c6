import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { HttpLimits } from '../config.ts'

/** What the HTTP server is told at construction: Node enforces the headers deadline itself. */
export function slowClientServerOptions(limits: Pick<HttpLimits, 'headersTimeoutMs'>): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    // a total-request deadline would cut long uploads; bodies are bounded by progress instead (below)
    requestTimeout: 0,
    // how often Node checks headers deadlines: the default (30 s) would let slow headers live 50 % longer
    connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(limits.headersTimeoutMs / 4))),
  }
}

interface InFlight {
  req: IncomingMessage
  res: ServerResponse
  socket: Socket
  /** Start of the current body window, and the socket's bytes read then. */
  since: number
  bytesAtSince: number
}

export interface SlowClientGuard {
  stop(): void
}

/**
 * Closes connections on which the client, not the relay, stalls:
 * - headers: Node's `headersTimeout` (see `slowClientServerOptions`);
 * - a request body must bring `minBodyBps` on average over each `idleTimeoutMs` window while the
 *   relay is reading it (a trickle of a byte every few seconds never trips an idle timer);
 * - idle: `idleTimeoutMs` without a byte moving while the client owes the next step — the rest of
 *   its body, reading the response it asked for (bytes queued for it do not leave), or its next
 *   request on a kept-alive connection.
 * Time the relay itself takes does not count: a body it pauses (its pipeline is slow), a response
 * waiting on a rate limiter, a long-poll or the disk, a client that reads everything as fast as
 * it comes. So a slow but moving download is never cut, and a huge upload at full speed neither.
 */
export function guardSlowClients(server: Server, limits: HttpLimits, onClosed?: (why: 'body' | 'idle') => void): SlowClientGuard {
  const inFlight = new WeakMap<Socket, InFlight>()
  const bodies = new Set<InFlight>()
  const windowMs = limits.idleTimeoutMs
  const minBytes = (limits.minBodyBps * windowMs) / 1000

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket
    const flight = { req, res, socket, since: performance.now(), bytesAtSince: socket.bytesRead }
    inFlight.set(socket, flight)
    if (!req.complete && minBytes > 0) bodies.add(flight)
  })

  server.setTimeout(limits.idleTimeoutMs)
  server.on('timeout', (socket: Socket) => {
    const flight = inFlight.get(socket)
    if (flight !== undefined && relayIsWaiting(flight)) {
      socket.setTimeout(limits.idleTimeoutMs)
      return
    }
    onClosed?.('idle')
    socket.destroy()
  })

  // one sweep for all bodies: its cost grows with open bodies, never with their bytes
  const sweep = setInterval(
    () => {
      const now = performance.now()
      for (const flight of bodies) {
        const { req, socket } = flight
        if (req.complete || socket.destroyed) {
          bodies.delete(flight)
          continue
        }
        if (relayHoldsBody(flight)) {
          restartWindow(flight, now)
          continue
        }
        if (now - flight.since < windowMs) continue
        if (socket.bytesRead - flight.bytesAtSince < minBytes) {
          bodies.delete(flight)
          onClosed?.('body')
          socket.destroy()
        } else restartWindow(flight, now)
      }
    },
    Math.min(1000, Math.max(50, Math.floor(windowMs / 4))),
  )
  sweep.unref()
  return { stop: () => clearInterval(sweep) }
}

function restartWindow(flight: InFlight, now: number): void {
  flight.since = now
  flight.bytesAtSince = flight.socket.bytesRead
}

/** The relay is not reading the body: its buffer is full (the socket is paused) or holds bytes nobody took yet. */
function relayHoldsBody({ req, socket }: InFlight): boolean {
  return socket.isPaused() || req.readableLength > 0
}

/** Whether an idle connection is idle because of the relay (keep it) rather than the client (close it). */
function relayIsWaiting(flight: InFlight): boolean {
  const { req, res, socket } = flight
  if (!req.complete) return relayHoldsBody(flight)
  if (res.writableFinished) return false
  // bytes queued for a client that took none of them for a whole timeout: the client stalls
  return socket.writableLength === 0 && res.writableLength === 0
}
