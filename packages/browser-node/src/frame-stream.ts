import { blockFrameParts, decodeFrame, encodeLengthPrefixed, type Frame, FrameKind, FrameReader } from '@konbini/protocol'
import type { Stream } from '@libp2p/interface'

/**
 * Sends one frame on a libp2p stream, waiting for the send buffer to drain (backpressure).
 * A Block frame goes as two pieces so its bytes are never copied.
 */
export async function sendFrame(stream: Stream, frame: Frame, signal?: AbortSignal): Promise<void> {
  let room: boolean
  if (frame.kind === FrameKind.Block) {
    const [head, bytes] = blockFrameParts(frame.cid, frame.bytes)
    stream.send(head)
    room = stream.send(bytes)
  } else room = stream.send(encodeLengthPrefixed(frame))
  if (!room) await stream.onDrain(signal ? { signal } : undefined)
}

/** Yields the frames arriving on a libp2p stream; throws a named error on a malformed or oversize one. */
export async function* readFrames(stream: Stream): AsyncGenerator<Frame> {
  const reader = new FrameReader()
  for await (const chunk of stream) {
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
    for (const body of reader.push(bytes)) yield decodeFrame(body)
  }
}
