import {
  CHALLENGE_SKEW_SECONDS,
  canonicalDigest,
  encodeLengthPrefixed,
  FrameKind,
  InvalidRequestError,
  nodeStatementTypedData,
  parseCid,
  SignatureInvalidError,
  signedStorageChallenge,
  UntrustedMetaError,
} from '@konbini/protocol'
import type { ByteRateLimiter, TicketPolicy } from '@konbini/browser-node'
import { recoverTypedDataSigner } from '../pot/recover-typed-data.ts'
import { readJson } from '../http/respond.ts'
import type { Handler } from '../http/router.ts'
import type { DurableBlockstore } from './durable-blockstore.ts'

/** Nonces of challenges answered recently (a replayed challenge is refused); pruned past the skew. */
const MAX_REMEMBERED = 100_000

/**
 * `POST /v1/challenge` (meta → node, proof of storage): a trusted meta node's signed challenge
 * for some blocks of this node's store, answered at once as Block frames (DontHave for a block not
 * here). Only a trusted meta node's fresh, unreplayed challenge for this node is answered: blocks
 * of private roots are read this way.
 */
export function challengeHandler(init: { blockstore: DurableBlockstore; policy: TicketPolicy; egress: ByteRateLimiter }): Handler {
  const seen = new Map<string, number>()
  return async (req, res, url) => {
    if (url.pathname !== '/v1/challenge') return false
    if (req.method !== 'POST') throw new InvalidRequestError({ reason: 'challenges are POSTed' })
    const { challenge, signature } = await readJson(req, signedStorageChallenge)
    const { policy } = init
    const now = Math.floor(Date.now() / 1000)
    if (challenge.peerId !== policy.peerId) throw new InvalidRequestError({ reason: 'the challenge is for another node' })
    if (Math.abs(now - challenge.issuedAt) > CHALLENGE_SKEW_SECONDS) throw new InvalidRequestError({ reason: 'the challenge is not fresh' })
    const digest = canonicalDigest(challenge)
    const signer = recoverTypedDataSigner(nodeStatementTypedData({ kind: 'challenge', peerId: policy.peerId, digest }, policy.chainId), signature)
    if (signer === undefined) throw new SignatureInvalidError()
    if (!policy.trustedMetas.includes(signer)) throw new UntrustedMetaError({ meta: signer })
    remember(seen, challenge.nonce, now)
    res.writeHead(200, { 'content-type': 'application/vnd.konbini.frames', 'cache-control': 'no-store' })
    for (const text of challenge.cids) {
      const cid = parseCid(text)
      const bytes = await init.blockstore.getBytes(cid).catch(() => undefined)
      if (bytes === undefined) {
        res.write(encodeLengthPrefixed({ kind: FrameKind.DontHave, cid }))
        continue
      }
      await init.egress.take(bytes.byteLength)
      res.write(encodeLengthPrefixed({ kind: FrameKind.Block, cid, bytes }))
    }
    res.end()
    return true
  }
}

function remember(seen: Map<string, number>, nonce: string, now: number): void {
  if (seen.has(nonce)) throw new SignatureInvalidError()
  if (seen.size >= MAX_REMEMBERED) for (const [n, at] of seen) if (now - at > 2 * CHALLENGE_SKEW_SECONDS) seen.delete(n)
  seen.set(nonce, now)
}
