import { IDENTITY_PATH, type IdentityResponse, identityChallengeMessage, InvalidRequestError } from '@konbini/protocol'
import type { PrivateKey } from '@libp2p/interface'
import { sendJson } from '../http/respond.ts'
import type { Handler } from '../http/router.ts'

/**
 * `GET /v1/identity?challenge=<32-byte hex>`: the node's peer id and its peer key's signature over
 * the challenge, so a meta node can tell that a URL a heartbeat names is served by that node.
 */
export function identityHandler({ peerId, peerKey }: { peerId: string; peerKey: PrivateKey }): Handler {
  return async (req, res, url) => {
    if (url.pathname !== IDENTITY_PATH) return false
    if (req.method !== 'GET') throw new InvalidRequestError({ reason: 'the identity is read with GET' })
    const challenge = url.searchParams.get('challenge') ?? ''
    if (!/^0x[0-9a-fA-F]{64}$/.test(challenge)) throw new InvalidRequestError({ reason: 'challenge must be 32 bytes of 0x-hex' })
    const signature = Buffer.from(await peerKey.sign(identityChallengeMessage(challenge))).toString('base64url')
    const answer: IdentityResponse = { peerId, signature }
    sendJson(res, 200, answer)
    return true
  }
}
