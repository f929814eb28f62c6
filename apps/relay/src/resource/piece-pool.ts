/** Slab size: above glibc's largest dynamic mmap threshold (32 MiB), so each slab is a mapping of its own, unmapped when freed. */
const SLAB_BYTES = 33 * 1024 * 1024
/** How often slabs are checked: one that stayed wholly idle for a whole period is freed. */
const SWEEP_MS = 2000

interface Slab {
  memory: ArrayBuffer
  /** A view of each piece, by index. */
  views: Buffer[]
  /** Views of the pieces not lent out. */
  idle: Buffer[]
  /** Offsets of the pieces lent out: a piece given back twice is pooled once. */
  lent: Set<number>
  /** Whether a piece was lent since the last sweep. */
  used: boolean
}

/**
 * Fixed-size buffers for streaming block reads, reused once the socket has taken their bytes.
 *
 * Why not a fresh buffer per read: each is memory outside the V8 heap that only a garbage
 * collection gives back, and malloc keeps what it got back for itself. Hundreds of concurrent
 * downloads allocate gigabytes of such buffers: V8 answers with back-to-back major collections, and
 * the memory stays resident after the load. Here pieces are cut from slabs mapped on their own;
 * the pieces in use are bounded by the reads in flight (one per response), and a slab wholly idle
 * for a sweep period is freed at once (`ArrayBuffer.prototype.transfer(0)` releases its memory),
 * so memory returns within seconds of the clients leaving, not at some later collection.
 */
export class PiecePool {
  readonly pieceBytes: number
  private readonly slabs: Slab[] = []
  private readonly slabOf = new WeakMap<ArrayBufferLike, Slab>()
  private sweeper: ReturnType<typeof setInterval> | undefined

  constructor({ pieceBytes }: { pieceBytes: number }) {
    this.pieceBytes = pieceBytes
  }

  /** A buffer of `pieceBytes` to read into; hand it (or a view of it) back with `give` once nothing reads it. */
  take(): Buffer {
    // the oldest slab first: newer slabs empty out and get freed
    let slab = this.slabs.find((s) => s.idle.length > 0)
    if (slab === undefined) slab = this.grow()
    slab.used = true
    const piece = slab.idle.pop() as Buffer
    slab.lent.add(piece.byteOffset)
    return piece
  }

  /** Returns a buffer from `take` (or a view of it) once its bytes are written. Bytes that are not the pool's are left alone. */
  give(bytes: Uint8Array): void {
    const slab = this.slabOf.get(bytes.buffer)
    if (slab === undefined) return
    const index = Math.floor(bytes.byteOffset / this.pieceBytes)
    if (!slab.lent.delete(index * this.pieceBytes)) return
    slab.idle.push(slab.views[index] as Buffer)
  }

  /** Bytes of slabs held now (tests, metrics). */
  get heldBytes(): number {
    return this.slabs.reduce((n, s) => n + s.memory.byteLength, 0)
  }

  private grow(): Slab {
    const pieces = Math.ceil(SLAB_BYTES / this.pieceBytes)
    const memory = new ArrayBuffer(pieces * this.pieceBytes)
    const views = Array.from({ length: pieces }, (_, i) => Buffer.from(memory, i * this.pieceBytes, this.pieceBytes))
    // lent from the start of the slab: the pages a light load touches are the first ones
    const slab: Slab = { memory, views, idle: [...views].reverse(), lent: new Set(), used: true }
    this.slabs.push(slab)
    this.slabOf.set(memory, slab)
    if (this.sweeper === undefined) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS)
      this.sweeper.unref()
    }
    return slab
  }

  private sweep(): void {
    for (const slab of [...this.slabs]) {
      if (slab.used || slab.lent.size > 0) {
        slab.used = false
        continue
      }
      this.slabs.splice(this.slabs.indexOf(slab), 1)
      slab.idle.length = 0
      slab.memory.transfer(0)
    }
    if (this.slabs.length === 0) {
      clearInterval(this.sweeper)
      this.sweeper = undefined
    }
  }
}
