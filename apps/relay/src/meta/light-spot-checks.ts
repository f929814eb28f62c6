import { randomBytes, randomInt } from 'node:crypto'
import { decode as decodePb } from '@ipld/dag-pb'
import { DAG_PB_CODEC, type HoldingChallenge, type HoldingProof, holdingProofDigest, verifyBlock } from '@konbini/protocol'
import { CID } from 'multiformats/cid'
import type { MetaContext } from './context.ts'

/** Spot checks sent with one heartbeat answer (each costs this meta node a walk through a full holder's gateway). */
const CHECKS_PER_HEARTBEAT = 2
/** A spot check unanswered this long is replaced by a new one. */
const CHECK_SECONDS = 60
/** Deepest path a spot check walks. */
const MAX_DEPTH = 16

/**
 * Takes a light peer's answers to its last spot checks: a right digest proves the holding (the
 * peer is ranked as a provider of that root from now on); a wrong one is a false claim — the
 * holding is dropped and counted against the peer as a failed audit. Answers to checks this meta
 * node no longer has open are ignored.
 */
export async function takeProofs(ctx: MetaContext, peerId: string, proofs: readonly HoldingProof[]): Promise<void> {
  const now = ctx.now()
  for (const proof of proofs) {
    const open = await ctx.store.spotCheckOf(proof.root, peerId)
    if (open === undefined || open.cid !== proof.cid || open.nonce !== proof.nonce) continue
    if (proof.digest === open.expected) {
      await ctx.store.markHoldingProven(proof.root, peerId, now)
      ctx.metrics.inc('konbini_spot_checks_total', 1, { outcome: 'passed' })
    } else {
      await ctx.store.recordAudit({ root: proof.root, peerId, passed: false, dropReplica: true, now })
      ctx.metrics.inc('konbini_spot_checks_total', 1, { outcome: 'failed' })
    }
  }
}

/**
 * New spot checks for a light peer's unproven holdings: for each, a random block of the root
 * (a random path from the root, read from a live full holder's gateway and checked against its
 * CID) and a fresh nonce; the expected digest is kept until the peer answers.
 */
export async function issueSpotChecks(ctx: MetaContext, peerId: string): Promise<HoldingChallenge[]> {
  const now = ctx.now()
  const roots = await ctx.store.unprovenHoldings(peerId, now - CHECK_SECONDS, CHECKS_PER_HEARTBEAT)
  if (roots.length === 0) return []
  const nodes = await ctx.store.listNodes()
  const checks: HoldingChallenge[] = []
  for (const root of roots) {
    const holders = new Set(await ctx.store.holdersOf(root))
    const gateways = nodes
      .filter((n) => n.kind === 'full' && n.httpUrl !== undefined && holders.has(n.peerId) && now - n.lastSeen <= ctx.config.liveSeconds)
      .map((n) => n.httpUrl as string)
    const block = await randomBlock(root, gateways).catch(() => undefined)
    if (block === undefined) continue
    const nonce = randomBytes(16).toString('hex')
    await ctx.store.setSpotCheck(root, peerId, { cid: block.cid, nonce, expected: await holdingProofDigest(nonce, block.bytes), issuedAt: now })
    checks.push({ root, cid: block.cid, nonce })
  }
  return checks
}

/** A random block of a root's DAG, walked through full holders' trustless gateways, every block checked against its CID. */
async function randomBlock(root: string, gateways: readonly string[]): Promise<{ cid: string; bytes: Uint8Array }> {
  let cid = CID.parse(root)
  for (let depth = 0; ; depth++) {
    const bytes = await fetchBlock(cid, gateways)
    const links = cid.code === DAG_PB_CODEC ? decodePb(bytes).Links : []
    if (links.length === 0 || depth >= MAX_DEPTH || randomInt(4) === 0) return { cid: cid.toString(), bytes }
    cid = (links[randomInt(links.length)] as { Hash: CID }).Hash
  }
}

async function fetchBlock(cid: CID, gateways: readonly string[]): Promise<Uint8Array> {
  for (const url of gateways) {
    const res = await fetch(new URL(`/ipfs/${cid}?format=raw`, url), { signal: AbortSignal.timeout(10_000) }).catch(() => undefined)
    if (!res?.ok) continue
    const bytes = new Uint8Array(await res.arrayBuffer())
    if (
      await verifyBlock(cid, bytes).then(
        () => true,
        () => false,
      )
    )
      return bytes
  }
  throw new Error(`no full holder served ${cid}`)
}
