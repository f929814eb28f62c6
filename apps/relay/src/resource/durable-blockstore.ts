import { randomBytes } from 'node:crypto'
import { open as openFd } from 'node:fs'
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { BlockNotFoundError } from '@konbini/protocol'
import { CID } from 'multiformats/cid'
import { base32 } from 'multiformats/bases/base32'
import { type BlockRange, FileRange } from './file-range.ts'
import { PiecePool } from './piece-pool.ts'

/**
 * Bytes one streaming read takes from a block file at a time (`openRange`), and so what one response
 * holds. Larger pieces make fewer JS objects per byte (at hundreds of clients, per-piece garbage is
 * what makes V8 grow its young generation); smaller ones hold less per client.
 */
const READ_PIECE = 128 * 1024

/**
 * A filesystem block store whose `put` resolves only once the block is durable:
 * write a temp file in the block's own directory, fsync it, rename it into place,
 * fsync the directory. A crash at any point leaves either no block or a whole one.
 */
export class DurableBlockstore {
  readonly root: string
  private readonly knownDirs = new Set<string>()
  /** Bytes of block data held, kept current by put and delete. */
  used = 0
  /** The buffers `openRange` reads into. */
  readonly pieces = new PiecePool({ pieceBytes: READ_PIECE })

  constructor(root: string) {
    this.root = root
  }

  /** Creates the store and removes temp files a crash may have left. */
  async open(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 })
    for (const shard of await readdir(this.root)) {
      const dir = join(this.root, shard)
      for (const name of await readdir(dir).catch(() => [])) {
        if (name.startsWith('.tmp-')) await unlink(join(dir, name)).catch(() => {})
      }
    }
    this.used = await this.measure()
  }

  private locate(cid: CID): { dir: string; file: string } {
    const key = cid.toV1().toString(base32)
    const dir = join(this.root, key.slice(-3, -1))
    return { dir, file: join(dir, key) }
  }

  async has(cid: CID): Promise<boolean> {
    return stat(this.locate(cid).file).then(
      () => true,
      () => false,
    )
  }

  /** Stores a block durably; a block already present is not written again. */
  async put(cid: CID, bytes: Uint8Array): Promise<CID> {
    await this.putMany([{ cid, bytes }])
    return cid
  }

  /**
   * Stores blocks durably with one round of syncs (group commit): every temp file is written
   * and fsynced (in parallel), then renamed, then each directory touched is fsynced once. Each
   * block goes write → fsync → rename → directory fsync before this resolves.
   */
  async putMany(blocks: ReadonlyArray<{ cid: CID; bytes: Uint8Array }>): Promise<void> {
    const fresh: Array<{ dir: string; file: string; temp: string; size: number }> = []
    await Promise.all(
      blocks.map(async ({ cid, bytes }) => {
        if (await this.has(cid)) return
        const { dir, file } = this.locate(cid)
        await this.ensureDir(dir)
        fresh.push({ dir, file, temp: await writeSynced(dir, bytes), size: bytes.byteLength })
      }),
    )
    await Promise.all(fresh.map((f) => rename(f.temp, f.file)))
    await Promise.all([...new Set(fresh.map((f) => f.dir))].map(fsyncDir))
    for (const f of fresh) this.used += f.size
  }

  async *get(cid: CID): AsyncGenerator<Uint8Array> {
    yield await this.getBytes(cid)
  }

  async getBytes(cid: CID): Promise<Uint8Array> {
    try {
      const buffer = await readFile(this.locate(cid).file)
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    } catch {
      throw new BlockNotFoundError({ cid: cid.toString() })
    }
  }

  /**
   * Opens bytes [start, end) of a block to be read one piece at a time as the consumer pulls (a file
   * shorter than `end` just ends early): a reader holds one piece, never the whole block, however
   * many readers there are; the kernel's read-ahead keeps sequential reads fast. Pieces come from
   * `pieces`: hand each back with `pieces.give` once its bytes are written, or drop it. The caller
   * must `close` it. A plain descriptor and callbacks: a FileHandle costs several promises per
   * read, and at hundreds of clients that garbage is what grows V8's heap.
   */
  openRange(cid: CID, start: number, end: number): Promise<BlockRange> {
    return new Promise((resolve, reject) => {
      openFd(this.locate(cid).file, 'r', (err, fd) => {
        if (err !== null) reject(new BlockNotFoundError({ cid: cid.toString() }))
        else resolve(new FileRange(fd, start, end, this.pieces))
      })
    })
  }

  async size(cid: CID): Promise<number | undefined> {
    return stat(this.locate(cid).file).then(
      (s) => s.size,
      () => undefined,
    )
  }

  async delete(cid: CID): Promise<void> {
    const { dir, file } = this.locate(cid)
    this.used -= (await this.size(cid)) ?? 0
    await rm(file, { force: true })
    await fsyncDir(dir).catch(() => {})
  }

  /** Every stored CID (as CIDv1). */
  async *cids(): AsyncGenerator<CID> {
    for (const shard of await readdir(this.root)) {
      for (const name of await readdir(join(this.root, shard)).catch(() => [])) {
        if (name.startsWith('.tmp-')) continue
        try {
          yield CID.parse(name, base32)
        } catch {}
      }
    }
  }

  /** Bytes stored, by walking the store (at open; `used` is kept current after). */
  private async measure(): Promise<number> {
    let total = 0
    for (const shard of await readdir(this.root)) {
      for (const name of await readdir(join(this.root, shard)).catch(() => [])) {
        total += await stat(join(this.root, shard, name)).then(
          (s) => s.size,
          () => 0,
        )
      }
    }
    return total
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await fsyncDir(this.root)
    this.knownDirs.add(dir)
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Writes bytes to a new temp file in `dir` and fsyncs it; returns its path. */
async function writeSynced(dir: string, bytes: Uint8Array): Promise<string> {
  const temp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`)
  const handle = await open(temp, 'w', 0o600)
  try {
    await handle.writeFile(bytes)
    await handle.sync()
  } finally {
    await handle.close()
  }
  return temp
}
