import { appendFile, readFile, rename, writeFile } from 'node:fs/promises'

/** One line of the log: an owner's upload ticket sent these blocks; the mark lasts until `expiresAt`. */
interface Line {
  owner: string
  cids: string[]
  expiresAt: number
}

/**
 * Which blocks each owner's upload tickets really sent to this node, until those tickets expire.
 * An upload may end on a root only with blocks its owner sent (or a public root's), and a resumed
 * upload is told it may skip only those: naming someone else's private root claims nothing and
 * learns nothing. Kept in memory and appended to a log beside the block store, so a node restarted
 * mid-upload still lets the upload resume (a mark lost in a crash only means the block is sent again).
 */
export class SentBlocks {
  private readonly file: string
  private readonly sent = new Map<string, Map<string, number>>()
  private writing: Promise<void> = Promise.resolve()
  private recorded = 0

  constructor(file: string) {
    this.file = file
  }

  /** Reads the log back, keeping the marks not yet expired (and rewrites it with only those). */
  async open(): Promise<void> {
    const text = await readFile(this.file, 'utf8').catch(() => '')
    const now = nowSeconds()
    for (const row of text.split('\n')) {
      if (row === '') continue
      try {
        const line = JSON.parse(row) as Line
        if (line.expiresAt >= now) this.mark(line)
      } catch {
        // a line cut short by a crash: its blocks are simply sent again
      }
    }
    const kept = [...this.sent].map(([owner, blocks]) => ({ owner, cids: [...blocks.keys()], expiresAt: Math.max(...blocks.values()) }))
    await writeFile(`${this.file}.tmp`, kept.map((l) => `${JSON.stringify(l)}\n`).join(''), { mode: 0o600 })
    await rename(`${this.file}.tmp`, this.file)
  }

  /** Marks blocks (durable already) as sent by `owner`'s ticket, until it expires. */
  record(owner: string, cids: readonly string[], expiresAt: number): Promise<void> {
    if (cids.length === 0) return this.writing
    const line: Line = { owner: owner.toLowerCase(), cids: [...cids], expiresAt }
    this.prune()
    this.mark(line)
    this.writing = this.writing.then(() => appendFile(this.file, `${JSON.stringify(line)}\n`, { mode: 0o600 })).catch(() => {})
    return this.writing
  }

  /** Whether an unexpired ticket of this owner sent the block here. */
  sentBy(owner: string, cid: string): boolean {
    const expiresAt = this.sent.get(owner.toLowerCase())?.get(cid)
    return expiresAt !== undefined && expiresAt >= nowSeconds()
  }

  private mark({ owner, cids, expiresAt }: Line): void {
    let blocks = this.sent.get(owner)
    if (blocks === undefined) {
      blocks = new Map()
      this.sent.set(owner, blocks)
    }
    for (const cid of cids) blocks.set(cid, Math.max(blocks.get(cid) ?? 0, expiresAt))
  }

  /** Forgets expired marks every 1,000 records (the log is compacted at the next start). */
  private prune(): void {
    if (++this.recorded % 1000 !== 0) return
    const now = nowSeconds()
    for (const [owner, blocks] of this.sent) {
      for (const [cid, expiresAt] of blocks) if (expiresAt < now) blocks.delete(cid)
      if (blocks.size === 0) this.sent.delete(owner)
    }
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
