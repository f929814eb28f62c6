import { randomBytes, randomInt } from 'node:crypto'
import { decode as decodePb } from '@ipld/dag-pb'
import { DAG_PB_CODEC, decodeFrame, type Frame, FrameKind, FrameReader, verifyBlock } from '@konbini/protocol'
import { CID } from 'multiformats/cid'
import type { TicketIssuer } from './tickets.ts'

/** Deepest path an audit walks (a UnixFS file of a few TiB is 4 levels deep). */
const MAX_DEPTH = 16
/** Longest a holder may take to answer one challenge. */
const CHALLENGE_TIMEOUT_MS = 10_000
/** Largest answer read for one block (a block is at most 2 MiB; frames add a few bytes). */
const MAX_ANSWER_BYTES = 2 * 1024 * 1024 + 1024

/** How a storage audit ended. `lost`: the node answered without the block or with other bytes. */
export type AuditOutcome = { passed: true } | { passed: false; lost: boolean; reason: string }

/**
 * Audits one holder of one root (proof of storage, as Storj's satellites audit): walks a random
 * path from the root to a leaf, challenging the holder for one block per step — each signed by
 * this meta node, answered at once, checked against its CID — and picking the next step among the
 * links of the block just proven. The holder cannot tell which blocks will be asked, so a node
 * that dropped any share of the DAG fails a matching share of audits.
 */
export async function auditHolder(issuer: TicketIssuer, holder: { peerId: string; httpUrl: string }, root: string, paths = 1): Promise<AuditOutcome> {
  for (let p = 0; p < paths; p++) {
    let cid = CID.parse(root)
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      const answer = await challengeBlock(issuer, holder, cid)
      if (!answer.passed) return answer
      if (cid.code !== DAG_PB_CODEC) break
      const links = decodePb(answer.bytes).Links
      if (links.length === 0) break
      cid = (links[randomInt(links.length)] as { Hash: CID }).Hash
    }
  }
  return { passed: true }
}

async function challengeBlock(
  issuer: TicketIssuer,
  holder: { peerId: string; httpUrl: string },
  cid: CID,
): Promise<{ passed: true; bytes: Uint8Array } | { passed: false; lost: boolean; reason: string }> {
  const signed = await issuer.challenge({
    peerId: holder.peerId,
    cids: [cid.toString()],
    issuedAt: Math.floor(Date.now() / 1000),
    nonce: randomBytes(16).toString('hex'),
  })
  let body: Uint8Array
  try {
    const res = await fetch(new URL('/v1/challenge', holder.httpUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(signed),
      signal: AbortSignal.timeout(CHALLENGE_TIMEOUT_MS),
    })
    if (!res.ok) return { passed: false, lost: false, reason: `the challenge was answered ${res.status}` }
    body = await readBounded(res)
  } catch (err) {
    return { passed: false, lost: false, reason: `no answer (${(err as Error).name})` }
  }
  let frame: Frame | undefined
  try {
    frame = new FrameReader().push(body).map((f) => decodeFrame(f))[0]
  } catch {
    return { passed: false, lost: true, reason: 'its answer is not block frames' }
  }
  if (frame?.kind === FrameKind.DontHave) return { passed: false, lost: true, reason: `it does not have block ${cid}` }
  if (frame?.kind !== FrameKind.Block || !frame.cid.equals(cid)) return { passed: false, lost: true, reason: `it sent no block ${cid}` }
  const valid = await verifyBlock(cid, frame.bytes).then(
    () => true,
    () => false,
  )
  if (!valid) return { passed: false, lost: true, reason: `its bytes for ${cid} do not hash to that CID` }
  return { passed: true, bytes: frame.bytes }
}

async function readBounded(res: Response): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let size = 0
  if (res.body === null) return new Uint8Array()
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength
    if (size > MAX_ANSWER_BYTES) throw new RangeError('the answer is too large')
    chunks.push(chunk)
  }
  return new Uint8Array(Buffer.concat(chunks))
}
