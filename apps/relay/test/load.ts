import { randomBytes } from 'node:crypto'

/** Fresh random bytes in pieces of at most `piece` (1 MiB: the import chunk), never the whole file at once. */
export async function* randomContent(size: number, piece = 1024 * 1024): AsyncGenerator<Uint8Array> {
  for (let left = size; left > 0; left -= piece) yield randomBytes(Math.min(left, piece))
}

export interface LoopTally {
  ok: number
  errors: number
  /** The first few failures, as `name: message`, for the report. */
  samples: string[]
  /** Completed operations per loop: a loop that never finished one was stuck. */
  perLoop: number[]
  /** Milliseconds per completed operation. */
  millis: number[]
}

/**
 * Runs `count` loops, each calling `op(loop, iteration)` again and again until `deadline`
 * (performance.now() milliseconds); resolves once every loop has finished its last operation.
 * An operation that throws counts as an error and the loop goes on.
 */
export async function runLoops(count: number, deadline: number, op: (loop: number, iteration: number) => Promise<void>): Promise<LoopTally> {
  const tally: LoopTally = { ok: 0, errors: 0, samples: [], perLoop: new Array(count).fill(0), millis: [] }
  await Promise.all(
    Array.from({ length: count }, async (_, loop) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const started = performance.now()
        try {
          await op(loop, i)
          tally.ok++
          tally.perLoop[loop] = (tally.perLoop[loop] ?? 0) + 1
          tally.millis.push(performance.now() - started)
        } catch (err) {
          tally.errors++
          const e = err as Error
          if (tally.samples.length < 5) tally.samples.push(`${e.name}: ${e.message}`)
        }
      }
    }),
  )
  return tally
}

/** The p-th percentile (0–100) of some numbers, 0 when there are none. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}
