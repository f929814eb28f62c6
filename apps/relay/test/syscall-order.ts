import { basename, dirname } from 'node:path'

/** One traced system call (from `strace -f -ttt -y -s N`). */
export interface Syscall {
  time: number
  call: string
  /** Path of the first argument's file descriptor (strace -y), if any. */
  fdPath: string | undefined
  line: string
}

const LINE = /^(\d+)\s+(\d+\.\d+)\s+(\w+)\((.*)$/
const RESUMED = /^(\d+)\s+(\d+\.\d+)\s+<\.\.\. (\w+) resumed>(.*)$/

/**
 * Parses strace output. A call split across threads ("<unfinished ...>" then "<... resumed>") is
 * joined: its text from both halves, its time when it returned.
 */
export function parseStrace(text: string): Syscall[] {
  const calls: Syscall[] = []
  const pending = new Map<string, string>()
  for (const line of text.split('\n')) {
    const resumed = RESUMED.exec(line)
    if (resumed) {
      const [, pid, time, call, rest] = resumed as unknown as [string, string, string, string, string]
      const start = pending.get(pid) ?? ''
      pending.delete(pid)
      const args = `${start}${rest}`
      calls.push({ time: Number(time), call, fdPath: /^\d+<([^>]*)>/.exec(args)?.[1], line: `${call}(${args}` })
      continue
    }
    const match = LINE.exec(line)
    if (!match) continue
    const [, pid, time, call, rest] = match as unknown as [string, string, string, string, string]
    if (rest.endsWith('<unfinished ...>')) {
      pending.set(pid, rest.slice(0, -'<unfinished ...>'.length))
      continue
    }
    calls.push({ time: Number(time), call, fdPath: /^\d+<([^>]*)>/.exec(rest)?.[1], line })
  }
  return calls
}

/** What the trace shows for one block that reached its final name. */
export interface BlockWrite {
  block: string
  temp: string
  written: number | undefined
  fileSynced: number | undefined
  renamed: number
  dirSynced: number | undefined
}

/**
 * For every rename of a temp file into the block store, finds its last data write, the fsync
 * of the temp file, and the first fsync of the block's directory after the rename.
 */
export function blockWrites(calls: Syscall[], storeRoot: string): BlockWrite[] {
  const out: BlockWrite[] = []
  for (const c of calls) {
    if (!/^rename/.test(c.call) || !/= 0\s*$/.test(c.line)) continue
    const paths = [...c.line.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string)
    const [temp, block] = paths.slice(-2) as [string, string]
    if (!block?.startsWith(storeRoot) || !basename(temp).startsWith('.tmp-')) continue
    const before = calls.filter((x) => x.time <= c.time && x.fdPath === temp)
    out.push({
      block,
      temp,
      written: before.filter((x) => /^p?write/.test(x.call)).at(-1)?.time,
      fileSynced: before.filter((x) => /^f(data)?sync$/.test(x.call)).at(-1)?.time,
      renamed: c.time,
      dirSynced: calls.find((x) => x.time >= c.time && /^f(data)?sync$/.test(x.call) && x.fdPath === dirname(block))?.time,
    })
  }
  return out
}

/** Time of the first socket write whose data contains `marker` (e.g. the storage report request). */
export function firstSocketWrite(calls: Syscall[], marker: string): number | undefined {
  return calls.find((c) => /^(write|writev|sendto|sendmsg)$/.test(c.call) && c.fdPath?.startsWith('socket:') && c.line.includes(marker))?.time
}

/** Problems with the durable-write order (empty when every block went write → fsync → rename → dir fsync → ack). */
export function orderProblems(writes: BlockWrite[], ackTime: number): string[] {
  const problems: string[] = []
  for (const w of writes) {
    const name = basename(w.block)
    if (w.written === undefined) problems.push(`${name}: no data write traced`)
    if (w.fileSynced === undefined || (w.written !== undefined && w.fileSynced < w.written)) problems.push(`${name}: temp file not fsynced after its write`)
    if (w.dirSynced === undefined) problems.push(`${name}: directory not fsynced after the rename`)
    if (w.dirSynced !== undefined && w.dirSynced > ackTime) problems.push(`${name}: acknowledged before the directory fsync`)
    if (w.renamed > ackTime) problems.push(`${name}: acknowledged before the rename`)
  }
  return problems
}
