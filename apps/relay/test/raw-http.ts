import { request } from 'node:http'
import { connect, type Socket } from 'node:net'

/** An HTTP/1.1 answer read off a raw socket. */
export interface RawAnswer {
  status: number
  headers: Record<string, string>
  body: string
}

/**
 * One TCP connection driven by hand, for what clients never do on their own: headers or a body a
 * byte at a time, a second request on a connection whose first body was refused. `next()` resolves
 * with the next whole answer (Content-Length framed), or 'closed' when the server closed first.
 */
export class RawConnection {
  readonly socket: Socket
  /** Resolves with the milliseconds from connect to close, whoever closed. */
  readonly closed: Promise<number>
  private buffer = Buffer.alloc(0)
  private ended = false
  private waiter: (() => void) | undefined

  constructor(port: number, localAddress = '127.0.0.1') {
    const started = performance.now()
    this.socket = connect({ port, host: '127.0.0.1', localAddress })
    this.socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d])
      this.waiter?.()
    })
    this.socket.on('error', () => {})
    this.closed = new Promise((resolve) =>
      this.socket.once('close', () => {
        this.ended = true
        this.waiter?.()
        resolve(performance.now() - started)
      }),
    )
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.socket.connecting) return resolve()
      this.socket.once('connect', () => resolve())
      this.socket.once('error', reject)
    })
  }

  /** Writes, resolving once the bytes were handed to the kernel (false: the socket is gone). */
  write(data: string | Uint8Array): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) return resolve(false)
      this.socket.write(data, (err) => resolve(err == null))
    })
  }

  async next(): Promise<RawAnswer | 'closed'> {
    for (;;) {
      const answer = this.take()
      if (answer !== undefined) return answer
      if (this.ended) return 'closed'
      await new Promise<void>((resolve) => {
        this.waiter = resolve
      })
      this.waiter = undefined
    }
  }

  destroy(): void {
    this.socket.destroy()
  }

  private take(): RawAnswer | undefined {
    const end = this.buffer.indexOf('\r\n\r\n')
    if (end < 0) return undefined
    const [statusLine = '', ...lines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n')
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    const length = Number(headers['content-length'] ?? 0)
    if (this.buffer.byteLength < end + 4 + length) return undefined
    const body = this.buffer.subarray(end + 4, end + 4 + length).toString('utf8')
    this.buffer = this.buffer.subarray(end + 4 + length)
    return { status: Number(statusLine.split(' ')[1]), headers, body }
  }
}

/** GET over a fresh connection from `localAddress`; resolves with the status and the parsed JSON (or text) body. */
export function getFrom(url: string, localAddress: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let body: unknown = text
        try {
          body = JSON.parse(text)
        } catch {}
        resolve({ status: res.statusCode ?? 0, body })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}
