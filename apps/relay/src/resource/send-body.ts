import type { ServerResponse } from 'node:http'
import type { ByteRateLimiter } from '@konbini/browser-node'

/** Pieces the limiters see: small enough that a slow rate trickles rather than bursts. */
const PIECE = 256 * 1024

/** A body pulled one piece at a time by callback (no promise per piece: see `sendBody`). */
export interface PieceSource {
  /** Calls back with the next piece, or with undefined at the end. Not called again before it answered. */
  read(done: (err: unknown, piece?: Uint8Array) => void): void
  /** Called once, at the end or when the response stops early: frees what the source holds. */
  close(): Promise<void>
}

/**
 * Writes a body to `res` with backpressure: each piece first waits on every limiter (operator egress
 * cap, public-path rate), then for `drain` when the socket buffer is full. The source is pulled only
 * as fast as the client reads, so a response holds one piece of the source plus the socket's buffer.
 * Rejects with an AbortError when `signal` aborts or the response closes first (client gone); the
 * source is always closed. `release(chunk)` is called once a chunk's bytes are written, or at once
 * if it never reached the socket: a pooled buffer goes back to its pool.
 *
 * Written with callbacks and listeners set once per response rather than `await` per piece: at
 * hundreds of concurrent downloads, the per-piece promises and listeners were the garbage that made
 * V8 grow its young generation for good.
 */
export function sendBody(
  res: ServerResponse,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | PieceSource,
  limiters: ReadonlyArray<ByteRateLimiter | undefined>,
  signal: AbortSignal,
  release?: (chunk: Uint8Array) => void,
): Promise<void> {
  const pieces = Symbol.asyncIterator in source || Symbol.iterator in source ? fromIterable(source) : source
  return new Promise((resolve, reject) => {
    new BodyPump({ res, source: pieces, limiters, signal, release, resolve, reject }).pull()
  })
}

interface PumpInit {
  res: ServerResponse
  source: PieceSource
  limiters: ReadonlyArray<ByteRateLimiter | undefined>
  signal: AbortSignal
  release: ((chunk: Uint8Array) => void) | undefined
  resolve: () => void
  reject: (err: unknown) => void
}

class BodyPump {
  private readonly res: ServerResponse
  private readonly source: PieceSource
  private readonly signal: AbortSignal
  private readonly release: ((chunk: Uint8Array) => void) | undefined
  private readonly resolve: () => void
  private readonly reject: (err: unknown) => void
  private readonly active: ByteRateLimiter[]
  private chunk: Uint8Array | undefined
  private offset = 0
  private waitingForDrain = false
  private finished = false
  /** Chunks of the writes Node has not called back yet, oldest first (a ring: nothing allocated per write). */
  private written: Array<Uint8Array | undefined> = new Array(4)
  private head = 0
  private count = 0

  constructor(init: PumpInit) {
    this.res = init.res
    this.source = init.source
    this.signal = init.signal
    this.release = init.release
    this.resolve = init.resolve
    this.reject = init.reject
    this.active = init.limiters.filter((l): l is ByteRateLimiter => l !== undefined)
    this.res.on('drain', this.onDrain)
    this.res.on('close', this.onClose)
  }

  pull(): void {
    if (this.finished) return
    this.source.read(this.onChunk)
  }

  private readonly onChunk = (err: unknown, chunk?: Uint8Array): void => {
    if (this.finished) {
      if (chunk !== undefined) this.release?.(chunk)
      return
    }
    if ((err !== null && err !== undefined) || chunk === undefined) {
      this.finish(err ?? undefined)
      return
    }
    this.chunk = chunk
    this.offset = 0
    this.limit(0)
  }

  /** Waits on limiters[from…] for the next piece; an unlimited limiter only counts, at once. */
  private limit(from: number): void {
    const bytes = Math.min(PIECE, (this.chunk as Uint8Array).byteLength - this.offset)
    for (let i = from; i < this.active.length; i++) {
      const limiter = this.active[i] as ByteRateLimiter
      const turn = limiter.take(bytes, this.signal)
      if (limiter.bytesPerSecond > 0) {
        turn.then(() => this.limit(i + 1), this.onRefused)
        return
      }
    }
    this.write()
  }

  private readonly onRefused = (err: unknown): void => {
    // never handed to the socket: reusable now (a chunk partly written is left to the GC)
    if (this.offset === 0 && this.chunk !== undefined) this.release?.(this.chunk)
    this.finish(err)
  }

  private write(): void {
    const chunk = this.chunk as Uint8Array
    if (this.finished || this.signal.aborted) {
      this.onRefused(this.signal.reason ?? gone())
      return
    }
    const piece = chunk.byteLength <= PIECE ? chunk : chunk.subarray(this.offset, this.offset + PIECE)
    this.offset += piece.byteLength
    const last = this.offset >= chunk.byteLength
    let ok: boolean
    if (this.release === undefined) ok = this.res.write(piece)
    else {
      this.queue(last ? chunk : undefined)
      // the socket reads the bytes until its write callback: only then may the chunk be reused
      ok = this.res.write(piece, this.onWritten)
    }
    if (!ok) this.waitingForDrain = true
    else this.next()
  }

  private next(): void {
    if (this.offset < (this.chunk as Uint8Array).byteLength) this.limit(0)
    else this.pull()
  }

  private readonly onDrain = (): void => {
    if (!this.waitingForDrain || this.finished) return
    this.waitingForDrain = false
    this.next()
  }

  private readonly onClose = (): void => {
    if (!this.finished) this.finish(this.signal.reason ?? gone())
  }

  private queue(chunk: Uint8Array | undefined): void {
    if (this.count === this.written.length) {
      this.written = [...this.written.slice(this.head), ...this.written.slice(0, this.head), ...new Array<undefined>(this.count)]
      this.head = 0
    }
    this.written[(this.head + this.count++) % this.written.length] = chunk
  }

  private readonly onWritten = (): void => {
    if (this.count === 0) return
    const chunk = this.written[this.head]
    this.written[this.head] = undefined
    this.head = (this.head + 1) % this.written.length
    this.count--
    if (chunk !== undefined) this.release?.(chunk)
  }

  private finish(err?: unknown): void {
    if (this.finished) return
    this.finished = true
    this.res.off('drain', this.onDrain)
    this.res.off('close', this.onClose)
    this.source.close().then(
      () => {
        if (err !== undefined) return this.reject(err)
        this.res.end()
        this.resolve()
      },
      (closeErr: unknown) => this.reject(err ?? closeErr),
    )
  }
}

function gone(): DOMException {
  return new DOMException('The client went away.', 'AbortError')
}

/** Any iterable as a piece source: a promise per chunk, fine for bodies of a few chunks or blocks. */
function fromIterable(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): PieceSource {
  const it = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : toAsync(source)
  let done = false
  return {
    read(callback) {
      it.next().then(
        (next) => {
          done = next.done === true
          callback(null, done ? undefined : next.value)
        },
        (err: unknown) => {
          done = true
          callback(err)
        },
      )
    },
    async close() {
      if (!done) await it.return?.()
    },
  }
}

async function* toAsync(source: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* source
}
