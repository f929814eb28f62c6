import { randomBytes } from 'node:crypto'
import { IDENTITY_PATH, identityChallengeMessage, identityResponse, NodeUrlUnverifiedError } from '@konbini/protocol'
import { peerIdFromString } from '@libp2p/peer-id'

/** How long the meta node waits for a node's identity answer. */
const IDENTITY_TIMEOUT_MS = 3000
/** The most of an identity answer read. */
const MAX_IDENTITY_BYTES = 4096

/**
 * Challenges `httpUrl` to sign a fresh random value with `peerId`'s key (`GET /v1/identity`):
 * a heartbeat may name only a URL served by the node itself. No redirects are followed and the
 * answer is bounded in time and size. Throws NodeUrlUnverifiedError.
 */
export async function verifyNodeUrl(httpUrl: string, peerId: string): Promise<void> {
  const refuse = (reason: string) => new NodeUrlUnverifiedError({ url: httpUrl, reason })
  const challenge = `0x${randomBytes(32).toString('hex')}`
  const url = new URL(IDENTITY_PATH, httpUrl)
  url.searchParams.set('challenge', challenge)
  let text: string
  try {
    const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(IDENTITY_TIMEOUT_MS) })
    if (!res.ok) throw refuse(`it answered ${res.status}`)
    text = await readBounded(res)
  } catch (err) {
    if ((err as Error).name === 'NodeUrlUnverifiedError') throw err
    throw refuse(`it could not be reached (${(err as Error).name})`)
  }
  let answer: ReturnType<typeof identityResponse.parse>
  try {
    answer = identityResponse.parse(JSON.parse(text))
  } catch {
    throw refuse('its answer is not an identity')
  }
  if (answer.peerId !== peerId) throw refuse(`it is served by ${answer.peerId}, not ${peerId}`)
  const key = peerIdFromString(peerId).publicKey
  const valid =
    key !== undefined && (await Promise.resolve(key.verify(identityChallengeMessage(challenge), Buffer.from(answer.signature, 'base64url'))).catch(() => false))
  if (!valid) throw refuse("its signature is not the node's")
}

async function readBounded(res: Response): Promise<string> {
  const reader = res.body?.getReader()
  if (reader === undefined) return ''
  const parts: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_IDENTITY_BYTES) {
      await reader.cancel()
      throw new RangeError('identity answer too large')
    }
    parts.push(value)
  }
  return Buffer.concat(parts).toString('utf8')
}
