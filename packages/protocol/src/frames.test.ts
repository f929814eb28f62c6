import { varint } from 'multiformats'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, test } from 'vitest'
import { blockFrameParts, decodeFrame, encodeFrame, encodeLengthPrefixed, type Frame, FrameKind, FrameReader } from './frames.ts'
import { MAX_MESSAGE_SIZE, MAX_WANTLIST_SIZE } from './ids.ts'

async function rawCid(text: string): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(text)))
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

/** Catches what `fn` throws so a test can assert its name. */
function thrown(fn: () => unknown): { name?: string; message?: string } {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a throw')
}

/** One frame of every kind, with distinct CIDs and payloads. */
async function everyKind(): Promise<Frame[]> {
  const [a, b, c] = await Promise.all([rawCid('a'), rawCid('b'), rawCid('c')])
  return [
    { kind: FrameKind.Hello, json: { ticket: { id: '0x01', nodes: ['p1', 'p2'] }, signature: '0xab' } },
    { kind: FrameKind.Want, cids: [a, b, c] },
    { kind: FrameKind.Block, cid: a, bytes: new TextEncoder().encode('a') },
    { kind: FrameKind.DontHave, cid: b },
    { kind: FrameKind.Error, error: { name: 'TicketExpiredError', message: 'Ticket 0x01 has expired.' } },
    { kind: FrameKind.End, root: c },
    { kind: FrameKind.Cancel, cids: [b, c] },
  ]
}

/** Compares decoded frames by value (CIDs as strings, bytes as arrays). */
function plain(frame: Frame): unknown {
  return JSON.parse(JSON.stringify(frame, (_k, v) => (v instanceof CID ? v.toString() : v instanceof Uint8Array ? [...v] : v)))
}

describe('frames', () => {
  test('default', async () => {
    for (const frame of await everyKind()) {
      expect(plain(decodeFrame(encodeFrame(frame)))).toEqual(plain(frame))
    }
  })

  test('behavior: a Want frame of exactly MAX_WANTLIST_SIZE CIDs round-trips', async () => {
    const cids = await Promise.all(Array.from({ length: MAX_WANTLIST_SIZE }, (_, i) => rawCid(`cid ${i}`)))
    const frame = decodeFrame(encodeFrame({ kind: FrameKind.Want, cids }))
    expect(frame.kind === FrameKind.Want && frame.cids.map(String)).toEqual(cids.map(String))
  })

  test('behavior: FrameReader reassembles frames split at every byte boundary', async () => {
    const frames = await everyKind()
    const stream = concat(frames.map(encodeLengthPrefixed))
    const expected = frames.map(plain)
    for (let cut = 0; cut <= stream.byteLength; cut++) {
      const reader = new FrameReader()
      const bodies = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))]
      expect(bodies.map((b) => plain(decodeFrame(b)))).toEqual(expected)
      expect(reader.empty).toBe(true)
    }
    const reader = new FrameReader()
    const bodies: Uint8Array[] = []
    for (let i = 0; i < stream.byteLength; i++) {
      bodies.push(...reader.push(stream.subarray(i, i + 1)))
      if (i < stream.byteLength - 1) expect(bodies.length).toBeLessThan(frames.length)
    }
    expect(bodies.map((b) => plain(decodeFrame(b)))).toEqual(expected)
    expect(reader.empty).toBe(true)
  })

  test('behavior: FrameReader keeps a partial frame pending', async () => {
    const bytes = encodeLengthPrefixed((await everyKind())[2] as Frame)
    const reader = new FrameReader()
    expect(reader.push(bytes.subarray(0, bytes.byteLength - 1))).toEqual([])
    expect(reader.empty).toBe(false)
    expect(reader.push(bytes.subarray(bytes.byteLength - 1))).toHaveLength(1)
    expect(reader.empty).toBe(true)
  })

  test('error: FrameReader refuses a length over its max from the length prefix alone', () => {
    const reader = new FrameReader(100)
    // only the prefix arrives: the reader must not wait for (or buffer) the 101 bytes it announces
    const head = varint.encodeTo(101, new Uint8Array(varint.encodingLength(101)))
    expect(thrown(() => reader.push(head)).name).toBe('MessageTooLargeError')
    const big = varint.encodeTo(MAX_MESSAGE_SIZE + 1, new Uint8Array(varint.encodingLength(MAX_MESSAGE_SIZE + 1)))
    expect(thrown(() => new FrameReader().push(big)).name).toBe('MessageTooLargeError')
    // exactly at the max is fine: it waits for the body
    expect(new FrameReader(100).push(varint.encodeTo(100, new Uint8Array(1)))).toEqual([])
  })

  test('error: FrameReader refuses an empty frame and a runaway length prefix', () => {
    expect(thrown(() => new FrameReader().push(new Uint8Array([0]))).name).toBe('InvalidMessageError')
    expect(thrown(() => new FrameReader().push(new Uint8Array(10).fill(0xff))).name).toBe('InvalidMessageError')
  })

  test('error: decodeFrame refuses unknown kinds and an empty body', () => {
    expect(thrown(() => decodeFrame(new Uint8Array([0x7f, 1, 2]))).name).toBe('InvalidMessageError')
    expect(thrown(() => decodeFrame(new Uint8Array([0x00]))).name).toBe('InvalidMessageError')
    expect(thrown(() => decodeFrame(new Uint8Array(0))).name).toBe('InvalidMessageError')
  })

  test('error: decodeFrame refuses truncated and garbage CIDs', async () => {
    const cid = await rawCid('x')
    const withCid: Frame[] = [
      { kind: FrameKind.Block, cid, bytes: new Uint8Array(0) },
      { kind: FrameKind.DontHave, cid },
      { kind: FrameKind.End, root: cid },
      { kind: FrameKind.Want, cids: [cid] },
    ]
    for (const frame of withCid) {
      const { kind } = frame
      const whole = encodeFrame(frame)
      // cut inside the CID: its length prefix promises more than the frame holds
      expect(thrown(() => decodeFrame(whole.subarray(0, 10))).name).toBe('InvalidMessageError')
      // a CID length prefix that never ends
      expect(thrown(() => decodeFrame(new Uint8Array([kind, 0xff]))).name).toBe('InvalidMessageError')
    }
    const garbage = new Uint8Array([FrameKind.DontHave, 4, 0xde, 0xad, 0xbe, 0xef])
    expect(thrown(() => decodeFrame(garbage)).name).toBe('InvalidCidError')
    const tooLong = new Uint8Array([FrameKind.End, ...varint.encodeTo(200, new Uint8Array(2)), ...new Uint8Array(200)])
    expect(thrown(() => decodeFrame(tooLong)).name).toBe('InvalidMessageError')
  })

  test('error: Hello and Error payloads must be JSON', () => {
    const bad = new TextEncoder().encode('{not json')
    expect(thrown(() => decodeFrame(new Uint8Array([FrameKind.Hello, ...bad]))).name).toBe('InvalidMessageError')
    expect(thrown(() => decodeFrame(new Uint8Array([FrameKind.Error, ...bad]))).name).toBe('InvalidMessageError')
  })

  test('error: want-lists over MAX_WANTLIST_SIZE are refused both ways', async () => {
    const cid = await rawCid('w')
    const cids = Array.from({ length: MAX_WANTLIST_SIZE + 1 }, () => cid)
    expect(thrown(() => encodeFrame({ kind: FrameKind.Want, cids })).name).toBe('WantListTooLargeError')
    const body = concat([new Uint8Array([FrameKind.Want]), ...cids.map((c) => concat([new Uint8Array([c.bytes.byteLength]), c.bytes]))])
    expect(thrown(() => decodeFrame(body)).name).toBe('WantListTooLargeError')
  })

  test('error: decodeFrame refuses a body over MAX_MESSAGE_SIZE', () => {
    const body = new Uint8Array(MAX_MESSAGE_SIZE + 1)
    body[0] = FrameKind.Block
    expect(thrown(() => decodeFrame(body)).name).toBe('MessageTooLargeError')
  })
})

describe('blockFrameParts', () => {
  test('behavior: the two parts, joined, are the length-prefixed Block frame', async () => {
    const bytes = new Uint8Array(300_000).map((_, i) => i % 251)
    const cid = CID.createV1(0x55, await sha256.digest(bytes))
    const [head, body] = blockFrameParts(cid, bytes)
    expect(body).toBe(bytes)
    const joined = new Uint8Array([...head, ...body])
    expect(joined).toEqual(encodeLengthPrefixed({ kind: FrameKind.Block, cid, bytes }))
    const [frame] = new FrameReader().push(joined)
    const decoded = decodeFrame(frame as Uint8Array)
    expect(decoded.kind === FrameKind.Block && decoded.cid.equals(cid) && decoded.bytes.byteLength).toBe(300_000)
  })
})
