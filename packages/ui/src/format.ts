const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const

/**
 * Formats a byte count with binary units, as storage sizes are usually read.
 * @example formatBytes(1536) // '1.5 KiB'
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—'
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024
    unit++
  }
  if (unit === 0) return `${value} B`
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${BYTE_UNITS[unit]}`
}

/**
 * Formats bytes per second as decimal megabytes per second, the unit network speeds are quoted in.
 * @example formatMBps(12_500_000) // '12.5 MB/s'
 */
export function formatMBps(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond < 0) return '—'
  const mb = bytesPerSecond / 1e6
  return `${mb >= 100 ? mb.toFixed(0) : mb.toFixed(mb >= 10 ? 1 : 2)} MB/s`
}

/**
 * Formats a ratio in [0, 1] as a percentage with one decimal.
 * @example formatPercent(0.9876) // '98.8%'
 */
export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return '—'
  return `${(Math.min(Math.max(ratio, 0), 1) * 100).toFixed(1)}%`
}

/**
 * Shortens a long identifier (peer id, CID, address) to its head and tail.
 * @example shortId('12D3KooWAbCdEfGhIjKlMnOp') // '12D3Ko…MnOp'
 */
export function shortId(id: string, head = 6, tail = 4): string {
  if (id.length <= head + tail + 1) return id
  return `${id.slice(0, head)}…${id.slice(-tail)}`
}

/**
 * Says how long ago a unix time (seconds) was, coarsely.
 * @example formatAge(1_700_000_000, 1_700_000_090) // '1 min ago'
 */
export function formatAge(unixSeconds: number, nowSeconds: number = Date.now() / 1000): string {
  const s = Math.max(0, Math.round(nowSeconds - unixSeconds))
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86_400)} d ago`
}
