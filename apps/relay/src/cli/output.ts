import { BaseError, isErrorNamed } from '@konbini/protocol'

/** Prints a command's result: one JSON document with --json, else the human text. */
export function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`)
}

/** One clear sentence for any error, never a stack trace. */
export function describeError(err: unknown): string {
  if (err instanceof BaseError || (err instanceof Error && err.name !== 'Error' && err.name !== 'TypeError')) return err.message
  if (isErrorNamed(err, 'ZodError')) return 'The answer from the network did not have the expected shape.'
  const code = (err as { code?: string })?.code
  if (code === 'ENOENT') return `No such file or folder: ${(err as { path?: string }).path ?? ''}`.trim()
  if (code === 'EACCES') return `Permission denied: ${(err as { path?: string }).path ?? ''}`.trim()
  if (code === 'ECONNREFUSED') return 'Could not reach the node (connection refused). Is the network running (npm start)?'
  return err instanceof Error ? err.message : String(err)
}

/** A progress bar on stderr, only in a terminal. */
export function progressBar(label: string, total: number, enabled: boolean) {
  const tty = enabled && process.stderr.isTTY === true
  const started = performance.now()
  let done = 0
  let lastDraw = 0
  const draw = (final = false) => {
    const now = performance.now()
    if (!tty || (!final && now - lastDraw < 100)) return
    lastDraw = now
    const fraction = total > 0 ? Math.min(1, done / total) : 1
    const width = 30
    const filled = Math.round(fraction * width)
    const mbps = done / 1024 / 1024 / Math.max((now - started) / 1000, 0.001)
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${mbps.toFixed(1)} MiB/s`)
  }
  return {
    add(bytes: number) {
      done += bytes
      draw()
    },
    set(bytes: number) {
      done = bytes
      draw()
    },
    finish() {
      draw(true)
      if (tty) process.stderr.write('\n')
    },
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}
