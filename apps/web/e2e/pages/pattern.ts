/** Advances xorshift32 state `x` over `words`, filling them; returns the next state. */
function fillXorshift(words: Uint32Array, x: number): number {
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    words[i] = x
  }
  return x
}

/**
 * Deterministic test bytes, the same in Node and in a page: xorshift32 words from a seed. Lets a
 * test compare a page's result with the Node client's for the same bytes without shipping them.
 */
export function patternBytes(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const words = new Uint32Array(Math.ceil(size / 4))
  fillXorshift(words, seed >>> 0 || 1)
  return new Uint8Array(words.buffer, 0, size)
}

/**
 * The same bytes as {@link patternBytes}`(size, seed)`, in chunks of `chunkBytes` (a multiple of 4):
 * for files too big to hold at once.
 */
export function* patternChunks(size: number, seed: number, chunkBytes = 4 * 1024 * 1024): Generator<Uint8Array> {
  if (chunkBytes % 4 !== 0) throw new RangeError('chunkBytes must be a multiple of 4')
  let x = seed >>> 0 || 1
  for (let offset = 0; offset < size; offset += chunkBytes) {
    const length = Math.min(chunkBytes, size - offset)
    const words = new Uint32Array(Math.ceil(length / 4))
    x = fillXorshift(words, x)
    yield new Uint8Array(words.buffer, 0, length)
  }
}
