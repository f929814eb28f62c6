import { createCipheriv, createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { importToSink, rechunk } from './import.ts'

/**
 * kubo's deterministic test input (test/cli/testutils/random_deterministic.go):
 * the ChaCha20 keystream with key sha256(seed), zero nonce, counter 0.
 */
function kuboBytes(size: number, seed: string): Uint8Array {
  const key = createHash('sha256').update(seed, 'utf8').digest()
  return new Uint8Array(createCipheriv('chacha20', key, Buffer.alloc(16)).update(Buffer.alloc(size)))
}

/** kubo's createDeterministicFiles names: bytes of one stream mapped onto AlphabetEasy. */
function kuboNames(count: number, lastLength: number): string[] {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz01234567890-_'
  const stream = kuboBytes(1 << 20, 'hamt-unixfs-v1-2025')
  const names: string[] = []
  let at = 0
  for (let i = 0; i < count; i++) {
    const length = i === count - 1 ? lastLength : 11
    let name = ''
    for (let j = 0; j < length; j++) name += alphabet[(stream[at + j] as number) % 39]
    names.push(name)
    at += length
  }
  return names
}

async function* pieces(bytes: Uint8Array, size: number) {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size)
}

// Expected CIDs: kubo test/cli/cid_profiles_test.go (unixfsV12025), also listed in IPIP-499.
describe('unixfs-v1-2025 import matches kubo fixtures', () => {
  const blocks = new Map<string, Uint8Array>()
  const sink = (cid: { toString(): string }, bytes: Uint8Array) => void blocks.set(cid.toString(), bytes)

  it('default: small file', async () => {
    const root = await importToSink([{ content: new TextEncoder().encode('hello world') }], sink)
    expect(root.cid.toString()).toBe('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e')
  })

  it('behavior: a single-chunk file is one raw leaf', async () => {
    const root = await importToSink([{ content: kuboBytes(1048576, 'chunk-v1-seed') }], sink)
    expect(root.cid.toString()).toBe('bafkreiacndfy443ter6qr2tmbbdhadvxxheowwf75s6zehscklu6ezxmta')
  })

  it('behavior: one byte past a chunk, streamed in 64 KiB pieces through rechunk', async () => {
    const bytes = kuboBytes(1048577, 'chunk-v1-seed')
    const root = await importToSink([{ content: rechunk(pieces(bytes, 65536), 1 << 20) }], sink)
    expect(root.cid.toString()).toBe('bafybeigmix7t42i6jacydtquhet7srwvgpizfg7gjbq7627d35mjomtu64')
  })

  it('behavior: a flat directory exactly at the HAMT threshold', async () => {
    const files = kuboNames(4766, 21).map((name) => ({ path: `rootDir/${name}`, content: Uint8Array.of(120) }))
    const root = await importToSink(files, sink)
    expect(root.cid.toString()).toBe('bafybeic3h7rwruealwxkacabdy45jivq2crwz6bufb5ljwupn36gicplx4')
  })

  it('behavior: a directory one byte past the threshold becomes a HAMT', async () => {
    const files = kuboNames(4766, 22).map((name) => ({ path: `rootDir/${name}`, content: Uint8Array.of(120) }))
    const root = await importToSink(files, sink)
    expect(root.cid.toString()).toBe('bafybeiegvuterwurhdtkikfhbxcldohmxp566vpjdofhzmnhv6o4freidu')
    expect(root.unixfs?.type).toBe('hamt-sharded-directory')
  })
})
