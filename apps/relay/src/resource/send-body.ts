import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import type { ByteRateLimiter } from '@konbini/browser-node'

/** Pieces the limiters see: small enough that a slow rate trickles rather than bursts. */
const PIECE = 256 * 1024

/**
 * Writes a body to `res` with backpressure: each piece first waits on every limiter (operator egress
 * cap, public-path rate), then waits for `drain` when the socket buffer is full. The source is pulled
 * only as fast as the client reads, so a response holds at most one chunk of the source plus the
 * socket's buffer. Rejects with an AbortError when `signal` aborts (client gone); the source
 * iterator is always closed. `release(chunk)` is called once a chunk's bytes are written (or will
 * never be): a pooled buffer goes back to its pool.
 */
export async function sendBody(
  res: ServerResponse,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  limiters: ReadonlyArray<ByteRateLimiter | undefined>,
  signal: AbortSignal,
  release?: (chunk: Uint8Array) => void,
): Promise<void> {
  const it = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : toAsync(source)
  let done = false
  try {
    for (;;) {
      const next = await it.next()
      if (next.done === true) {
        done = true
        break
      }
      const chunk = next.value
      let written = false
      try {
        for (let offset = 0; offset < chunk.byteLength; offset += PIECE) {
          const piece = chunk.subarray(offset, offset + PIECE)
          for (const limiter of limiters) await limiter?.take(piece.byteLength, signal)
          signal.throwIfAborted()
          const last = offset + PIECE >= chunk.byteLength
          // the socket reads the bytes until its write callback: only then may the chunk be reused
          const ok = res.write(piece, last && release ? () => release(chunk) : undefined)
          written = last
          if (!ok) await once(res, 'drain', { signal })
        }
      } finally {
        // never handed to the socket at all: reusable now (a chunk partly written is left to the GC)
        if (!written && chunk.byteLength <= PIECE) release?.(chunk)
      }
    }
  } finally {
    if (!done) await it.return?.()
  }
  res.end()
}

async function* toAsync(source: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* source
}
