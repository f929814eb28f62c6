import { close as closeFd, read as readFd } from 'node:fs'
import type { PiecePool } from './piece-pool.ts'

/** Part of a block opened for streaming (`DurableBlockstore.openRange`). */
export interface BlockRange {
  /** Calls back with the next piece, or with undefined past the end of the range (or of the file). One read at a time. */
  read(done: (err: unknown, piece?: Uint8Array) => void): void
  /** Closes the file (after a read in flight: a descriptor closed under a read may already be another file's). */
  close(): Promise<void>
}

/** A block file's descriptor, read from `start` to `end` into pooled pieces. */
export class FileRange implements BlockRange {
  private readonly fd: number
  private at: number
  private readonly end: number
  private readonly pieces: PiecePool
  private reading = false
  private closing: (() => void) | undefined
  private closed = false

  constructor(fd: number, start: number, end: number, pieces: PiecePool) {
    this.fd = fd
    this.at = start
    this.end = end
    this.pieces = pieces
  }

  read(done: (err: unknown, piece?: Uint8Array) => void): void {
    if (this.closed || this.at >= this.end) {
      done(null, undefined)
      return
    }
    const piece = this.pieces.take()
    this.reading = true
    readFd(this.fd, piece, 0, Math.min(piece.byteLength, this.end - this.at), this.at, (err, n) => {
      this.reading = false
      const closing = this.closing
      this.closing = undefined
      closing?.()
      if (err !== null || n === 0) {
        this.pieces.give(piece)
        this.at = this.end
        return done(err, undefined)
      }
      this.at += n
      done(null, n === piece.byteLength ? piece : piece.subarray(0, n))
    })
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    return new Promise((resolve) => {
      const close = () => closeFd(this.fd, () => resolve())
      if (this.reading) this.closing = close
      else close()
    })
  }
}
