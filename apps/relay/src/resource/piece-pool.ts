/**
 * Fixed-size buffers for streaming block reads, reused once the socket has taken their bytes.
 *
 * Why not a fresh buffer per read: every allocation is memory outside the V8 heap that only a
 * garbage collection gives back. Hundreds of concurrent downloads allocate gigabytes of such
 * buffers; V8 answers with back-to-back major collections during the load, and whatever is
 * garbage when the load stops stays resident until some later collection. Here the buffers in
 * use are bounded by the reads in flight, at most `keep` idle ones are kept, and the others are
 * freed the moment they come back (`ArrayBuffer.prototype.transfer(0)` detaches and frees its
 * memory at once), so memory returns with the clients rather than with the next GC.
 */
export class PiecePool {
  readonly pieceBytes: number
  private readonly keep: number
  private readonly idle: Buffer[] = []
  /** Buffers handed out and not yet given back, by their memory: a buffer given twice is pooled once. */
  private readonly lent = new WeakMap<ArrayBufferLike, Buffer>()

  constructor({ pieceBytes, keep }: { pieceBytes: number; keep: number }) {
    this.pieceBytes = pieceBytes
    this.keep = keep
  }

  /** A buffer of `pieceBytes` to read into; hand it (or a view of it) back with `give` once written. */
  take(): Buffer {
    const buffer = this.idle.pop() ?? Buffer.from(new ArrayBuffer(this.pieceBytes))
    this.lent.set(buffer.buffer, buffer)
    return buffer
  }

  /**
   * Returns a buffer from `take` (or any view of one) once nothing reads it any more — after the
   * socket's write callback. Bytes that are not the pool's are left alone.
   */
  give(bytes: Uint8Array): void {
    const buffer = this.lent.get(bytes.buffer)
    if (buffer === undefined) return
    this.lent.delete(bytes.buffer)
    if (this.idle.length < this.keep) this.idle.push(buffer)
    else (buffer.buffer as ArrayBuffer).transfer(0)
  }

  /** Idle buffers held (tests). */
  get idleCount(): number {
    return this.idle.length
  }
}
