import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import { addressKey } from './address-key.ts'
import { TooManyConnectionsError } from './errors.ts'

/** Caps on open connections: per source address (IPv6: per /64) and in all. */
export interface ConnectionCapsInit {
  perAddress: number
  total: number
  /** Called once per refused connection (metrics). */
  onRefused?: (scope: 'address' | 'total') => void
}

export interface ConnectionCaps {
  /** True for a connection that was refused: its requests, if any get parsed, must not be served. */
  isRefused(socket: Socket | null | undefined): boolean
  /** Connections open and counted now. */
  readonly open: number
}

/**
 * How long a refused connection stays open after its 503 was written: the client gets to read the
 * answer before the close (closing at once, with its request unread, would send a reset instead).
 */
const REFUSE_LINGER_MS = 1000
/** Refused connections lingering at once; past this a refusal is a plain close, so a flood holds no more sockets. */
const MAX_LINGERING = 256

/**
 * Counts connections as they are accepted and refuses those over a cap before any byte of their
 * request is read or parsed: a canned `503 TooManyConnectionsError` with `connection: close`, then
 * the socket is closed. Refusing costs one small write and, for a bounded number of connections, a
 * one-second timer.
 *
 * @example
 * const caps = capConnections(server, { perAddress: 64, total: 4096 })
 */
export function capConnections(server: Server, init: ConnectionCapsInit): ConnectionCaps {
  const perKey = new Map<string, number>()
  const refused = new WeakSet<Socket>()
  let open = 0
  let lingering = 0
  const answers = { address: cannedAnswer('address'), total: cannedAnswer('total') }

  const refuse = (socket: Socket, scope: 'address' | 'total') => {
    refused.add(socket)
    init.onRefused?.(scope)
    // stop reading: the parser never sees a request, so no handler runs for it
    socket.pause()
    if (lingering >= MAX_LINGERING) return void socket.destroy()
    lingering++
    socket.end(answers[scope])
    const timer = setTimeout(() => socket.destroy(), REFUSE_LINGER_MS)
    timer.unref()
    socket.once('close', () => {
      clearTimeout(timer)
      lingering--
    })
  }

  server.on('connection', (socket: Socket) => {
    const key = addressKey(socket.remoteAddress)
    const count = perKey.get(key) ?? 0
    if (open >= init.total) return refuse(socket, 'total')
    if (count >= init.perAddress) return refuse(socket, 'address')
    perKey.set(key, count + 1)
    open++
    socket.once('close', () => {
      open--
      const left = (perKey.get(key) ?? 1) - 1
      if (left > 0) perKey.set(key, left)
      else perKey.delete(key)
    })
  })

  return {
    isRefused: (socket) => socket != null && refused.has(socket),
    get open() {
      return open
    },
  }
}

/** The whole HTTP response a refused connection gets, written before its request is read. */
function cannedAnswer(scope: 'address' | 'total'): Buffer {
  const body = JSON.stringify(new TooManyConnectionsError({ scope }).toJSON())
  return Buffer.from(
    'HTTP/1.1 503 Service Unavailable\r\n' +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'retry-after: 1\r\n' +
      'connection: close\r\n\r\n' +
      body,
  )
}
