/** What a `Range` request header asks of a body of known size. */
export type RangeResult = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' }

/**
 * Parses a single-range `Range: bytes=…` header (RFC 9110 §14.1.2) against a body of `size` bytes.
 * `end` is inclusive. Headers that are malformed, use another unit or ask for several ranges are
 * ignored (the whole body is sent), as RFC 9110 allows.
 *
 * @example
 * parseRange('bytes=-500', 1000) // { kind: 'partial', start: 500, end: 999 }
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'full' }
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (match === null) return { kind: 'full' }
  const [, first = '', last = ''] = match
  if (first === '' && last === '') return { kind: 'full' }
  if (first === '') {
    // suffix range: the last n bytes
    const n = Number(last)
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(first)
  if (!Number.isSafeInteger(start)) return { kind: 'unsatisfiable' }
  if (last !== '' && Number(last) < start) return { kind: 'full' }
  if (start >= size) return { kind: 'unsatisfiable' }
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  return { kind: 'partial', start, end }
}
