import { CID } from 'multiformats/cid'
import { varint } from 'multiformats'
import { InvalidCidError, InvalidMessageError, MessageTooLargeError, WantListTooLargeError } from './errors.ts'
import { MAX_MESSAGE_SIZE, MAX_WANTLIST_SIZE } from './ids.ts'

/**
 * Frames of Konbini's block exchange (`/konbini/blocks/1.0.0`) and of the upload body.
 * Each frame is `varint(length) · kind byte · payload`.
 */
export const FrameKind = {
  /** client → provider: JSON signed download ticket, first frame of a session */
  Hello: 0x01,
  /** client → provider: varint-prefixed CIDs */
  Want: 0x02,
  /** either way: varint-prefixed CID, then the block bytes */
  Block: 0x03,
  /** provider → client: varint-prefixed CID the provider lacks */
  DontHave: 0x04,
  /** provider → client: JSON `{ name, message }`; the session ends */
  Error: 0x05,
  /** uploader → node: the root CID; no more blocks follow */
  End: 0x06,
  /**
   * client → provider: varint-prefixed CIDs the client no longer wants (another provider sent
   * them first); the provider drops those it has not started sending. No answer.
   */
  Cancel: 0x07,
  /**
   * client → provider: JSON signed cumulative traffic receipt for this session's ticket (Proof
   * of Traffic). No answer; a provider stops serving a paid ticket whose unsigned tail passes
   * `MAX_UNSIGNED_BYTES`.
   */
  Receipt: 0x08,
} as const
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind]

export type Frame =
  | { kind: typeof FrameKind.Hello; json: unknown }
  | { kind: typeof FrameKind.Receipt; json: unknown }
  | { kind: typeof FrameKind.Want; cids: CID[] }
  | { kind: typeof FrameKind.Cancel; cids: CID[] }
  | { kind: typeof FrameKind.Block; cid: CID; bytes: Uint8Array }
  | { kind: typeof FrameKind.DontHave; cid: CID }
  | { kind: typeof FrameKind.Error; error: { name: string; message: string } }
  | { kind: typeof FrameKind.End; root: CID }

const text = new TextEncoder()
const untext = new TextDecoder()

function withKind(kind: number, parts: Uint8Array[]): Uint8Array {
  const size = 1 + parts.reduce((n, p) => n + p.byteLength, 0)
  const out = new Uint8Array(size)
  out[0] = kind
  let at = 1
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

function prefixed(bytes: Uint8Array): Uint8Array[] {
  return [varint.encodeTo(bytes.byteLength, new Uint8Array(varint.encodingLength(bytes.byteLength))), bytes]
}

/** Encodes one frame body (without the outer length prefix). */
export function encodeFrame(frame: Frame): Uint8Array {
  switch (frame.kind) {
    case FrameKind.Hello:
    case FrameKind.Receipt:
      return withKind(frame.kind, [text.encode(JSON.stringify(frame.json))])
    case FrameKind.Error:
      return withKind(frame.kind, [text.encode(JSON.stringify(frame.error))])
    case FrameKind.Want:
    case FrameKind.Cancel:
      if (frame.cids.length > MAX_WANTLIST_SIZE) throw new WantListTooLargeError({ size: frame.cids.length, max: MAX_WANTLIST_SIZE })
      return withKind(
        frame.kind,
        frame.cids.flatMap((c) => prefixed(c.bytes)),
      )
    case FrameKind.Block:
      return withKind(frame.kind, [...prefixed(frame.cid.bytes), frame.bytes])
    case FrameKind.DontHave:
      return withKind(frame.kind, prefixed(frame.cid.bytes))
    case FrameKind.End:
      return withKind(frame.kind, prefixed(frame.root.bytes))
  }
}

/** Encodes a frame with its varint length prefix, ready for a byte stream. */
export function encodeLengthPrefixed(frame: Frame): Uint8Array {
  if (frame.kind === FrameKind.Block) {
    const [head, bytes] = blockFrameParts(frame.cid, frame.bytes)
    const out = new Uint8Array(head.byteLength + bytes.byteLength)
    out.set(head, 0)
    out.set(bytes, head.byteLength)
    return out
  }
  const body = encodeFrame(frame)
  const head = varint.encodeTo(body.byteLength, new Uint8Array(varint.encodingLength(body.byteLength)))
  const out = new Uint8Array(head.byteLength + body.byteLength)
  out.set(head, 0)
  out.set(body, head.byteLength)
  return out
}

/**
 * A length-prefixed Block frame as two pieces — everything before the block bytes, then the bytes
 * themselves, uncopied — for writers that send a block without concatenating it.
 */
export function blockFrameParts(cid: CID, bytes: Uint8Array): [Uint8Array, Uint8Array] {
  const cidLength = varint.encodingLength(cid.bytes.byteLength)
  const bodyLength = 1 + cidLength + cid.bytes.byteLength + bytes.byteLength
  const lengthLength = varint.encodingLength(bodyLength)
  const head = new Uint8Array(lengthLength + 1 + cidLength + cid.bytes.byteLength)
  varint.encodeTo(bodyLength, head, 0)
  head[lengthLength] = FrameKind.Block
  varint.encodeTo(cid.bytes.byteLength, head, lengthLength + 1)
  head.set(cid.bytes, lengthLength + 1 + cidLength)
  return [head, bytes]
}

function readCid(bytes: Uint8Array, at: number): [CID, number] {
  let length: number
  let used: number
  try {
    ;[length, used] = varint.decode(bytes, at)
  } catch {
    throw new InvalidMessageError({ reason: 'bad CID length' })
  }
  const start = at + used
  if (length > 128 || start + length > bytes.byteLength) throw new InvalidMessageError({ reason: 'CID runs past the frame' })
  try {
    return [CID.decode(bytes.subarray(start, start + length)), start + length]
  } catch {
    throw new InvalidCidError({ cid: `<${length} bytes>` })
  }
}

function readJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(untext.decode(bytes))
  } catch {
    throw new InvalidMessageError({ reason: 'payload is not JSON' })
  }
}

/** Decodes one frame body; throws a named error on anything malformed. */
export function decodeFrame(body: Uint8Array): Frame {
  if (body.byteLength > MAX_MESSAGE_SIZE) throw new MessageTooLargeError({ size: body.byteLength, max: MAX_MESSAGE_SIZE })
  const kind = body[0]
  const rest = body.subarray(1)
  switch (kind) {
    case FrameKind.Hello:
    case FrameKind.Receipt:
      return { kind, json: readJson(rest) }
    case FrameKind.Error: {
      const e = readJson(rest) as { name?: unknown; message?: unknown }
      return { kind, error: { name: String(e?.name ?? 'RemoteError'), message: String(e?.message ?? '') } }
    }
    case FrameKind.Want:
    case FrameKind.Cancel: {
      const cids: CID[] = []
      let at = 0
      while (at < rest.byteLength) {
        if (cids.length >= MAX_WANTLIST_SIZE) throw new WantListTooLargeError({ size: cids.length + 1, max: MAX_WANTLIST_SIZE })
        const [cid, next] = readCid(rest, at)
        cids.push(cid)
        at = next
      }
      return { kind, cids }
    }
    case FrameKind.Block: {
      const [cid, at] = readCid(rest, 0)
      return { kind, cid, bytes: rest.subarray(at) }
    }
    case FrameKind.DontHave: {
      const [cid] = readCid(rest, 0)
      return { kind, cid }
    }
    case FrameKind.End: {
      const [root] = readCid(rest, 0)
      return { kind, root }
    }
    default:
      throw new InvalidMessageError({ reason: `unknown frame kind ${kind}` })
  }
}

/**
 * Incremental decoder for a byte stream of length-prefixed frames (an HTTP upload body).
 * Refuses a length over `maxSize` before buffering it.
 */
export class FrameReader {
  private chunks: Uint8Array[] = []
  private buffered = 0
  private readonly maxSize: number
  constructor(maxSize: number = MAX_MESSAGE_SIZE) {
    this.maxSize = maxSize
  }

  /** Adds bytes and returns every frame body now complete. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.chunks.push(chunk)
    this.buffered += chunk.byteLength
    const out: Uint8Array[] = []
    for (;;) {
      const head = this.peek(10)
      if (head.byteLength === 0) break
      let length: number
      let used: number
      try {
        ;[length, used] = varint.decode(head)
      } catch {
        if (head.byteLength >= 10) throw new InvalidMessageError({ reason: 'bad frame length' })
        break
      }
      if (length > this.maxSize) throw new MessageTooLargeError({ size: length, max: this.maxSize })
      if (length === 0) throw new InvalidMessageError({ reason: 'empty frame' })
      if (this.buffered < used + length) break
      const all = this.take(used + length)
      out.push(all.subarray(used))
    }
    return out
  }

  /** True when no partial frame is pending. */
  get empty(): boolean {
    return this.buffered === 0
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0]
    if (first === undefined) return new Uint8Array(0)
    if (first.byteLength >= n || this.chunks.length === 1) return first.subarray(0, n)
    return this.concat(Math.min(n, this.buffered), false)
  }

  private take(n: number): Uint8Array {
    return this.concat(n, true)
  }

  private concat(n: number, consume: boolean): Uint8Array {
    const first = this.chunks[0]
    if (consume && first !== undefined && first.byteLength >= n) {
      const out = first.subarray(0, n)
      if (first.byteLength === n) this.chunks.shift()
      else this.chunks[0] = first.subarray(n)
      this.buffered -= n
      return out
    }
    const out = new Uint8Array(n)
    let at = 0
    let i = 0
    while (at < n) {
      const c = this.chunks[i] as Uint8Array
      const take = Math.min(c.byteLength, n - at)
      out.set(c.subarray(0, take), at)
      at += take
      if (consume) {
        if (take === c.byteLength) this.chunks.shift()
        else this.chunks[0] = c.subarray(take)
      } else i++
    }
    if (consume) this.buffered -= n
    return out
  }
}
