import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DurableBlockstore } from './durable-blockstore.ts'
import type { PieceSource } from './send-body.ts'
import { unixfsFileBytes } from './unixfs-file-bytes.ts'

let dir: string
let store: DurableBlockstore

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'konbini-unixfs-bytes-'))
  store = new DurableBlockstore(join(dir, 'blocks'))
  await store.open()
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function putRaw(bytes: Uint8Array): Promise<CID> {
  const cid = CID.createV1(raw.code, await sha256.digest(bytes))
  return store.put(cid, bytes)
}

/** A file node linking `leaves` with the sizes it declares for them (true or not). */
async function putFile(leaves: CID[], declared: number[]): Promise<CID> {
  const bytes = dagPb.encode(
    dagPb.prepare({ Data: new UnixFS({ type: 'file', blockSizes: declared.map(BigInt) }).marshal(), Links: leaves.map((Hash) => ({ Hash })) }),
  )
  return store.put(CID.createV1(dagPb.code, await sha256.digest(bytes)), bytes)
}

/** Everything a source yields, and the error it ended with. */
async function drain(source: PieceSource): Promise<{ bytes: Buffer; err: unknown }> {
  const chunks: Uint8Array[] = []
  for (;;) {
    const next = await new Promise<{ err: unknown; piece?: Uint8Array }>((resolve) => source.read((err, piece) => resolve({ err, piece })))
    if (next.err != null || next.piece === undefined) {
      await source.close()
      return { bytes: Buffer.concat(chunks.map((c) => Buffer.from(c))), err: next.err ?? undefined }
    }
    // copy: the piece goes back to the pool
    chunks.push(Buffer.from(next.piece))
    store.pieces.give(next.piece)
  }
}

describe('unixfsFileBytes', () => {
  test('behavior: a range across leaves is read piece by piece, exactly', async () => {
    const a = new Uint8Array(randomBytes(300_000))
    const b = new Uint8Array(randomBytes(200_000))
    const root = await putFile([await putRaw(a), await putRaw(b)], [a.byteLength, b.byteLength])
    const whole = Buffer.concat([a, b])
    const { bytes, err } = await drain(unixfsFileBytes(store, root, 250_000, 100_000))
    expect(err).toBeUndefined()
    expect(Buffer.compare(bytes, whole.subarray(250_000, 350_000))).toBe(0)
  })

  test('error: a leaf shorter than its node declares ends the bytes with UnsupportedCidError', async () => {
    const short = new Uint8Array(randomBytes(500))
    const root = await putFile([await putRaw(new Uint8Array(1000)), await putRaw(short)], [1000, 1000])
    const { bytes, err } = await drain(unixfsFileBytes(store, root, 0, 2000))
    expect(bytes.byteLength).toBe(1500)
    expect((err as Error).name).toBe('UnsupportedCidError')
  })

  test('behavior: a leaf longer than its node declares is cut at the declared size', async () => {
    const long = new Uint8Array(randomBytes(1500))
    const root = await putFile([await putRaw(long)], [1000])
    const { bytes, err } = await drain(unixfsFileBytes(store, root, 0, 1000))
    expect(err).toBeUndefined()
    expect(Buffer.compare(bytes, Buffer.from(long.subarray(0, 1000)))).toBe(0)
  })
})
