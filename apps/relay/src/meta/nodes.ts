import { type NodeInfo, SignatureInvalidError, type SignedHeartbeat, UntrustedMetaError } from '@konbini/protocol'
import type { MetaContext } from './context.ts'
import { toNodeInfo } from './ranking.ts'
import { recoverStatementSigner, verifyNodeBinding } from './verify-signatures.ts'

/** Registers or refreshes a node: its operator signed the heartbeat and its peer key signed the binding. */
export async function acceptHeartbeat(ctx: MetaContext, { body, signature }: SignedHeartbeat): Promise<{ ok: true }> {
  const signer = await recoverStatementSigner('heartbeat', body.peerId, body, signature, ctx.config.chainId)
  if (signer.toLowerCase() !== body.operator.toLowerCase()) throw new SignatureInvalidError()
  if (!(await verifyNodeBinding(body.peerId, body.operator, body.binding))) throw new SignatureInvalidError()
  // a node that would refuse this meta's tickets must not be placed on by it
  if (!body.trustedMetas.some((a) => a.toLowerCase() === ctx.issuer.address.toLowerCase())) throw new UntrustedMetaError({ meta: ctx.issuer.address })
  const { issuedAt: _issuedAt, binding: _binding, trustedMetas: _trusted, ...node } = body
  await ctx.store.upsertNode({ ...node, operator: body.operator.toLowerCase() }, ctx.now())
  return { ok: true }
}

export async function listNodes(ctx: MetaContext): Promise<{ nodes: NodeInfo[] }> {
  const now = ctx.now()
  const nodes = (await ctx.store.listNodes()).map((r) => toNodeInfo(r, now, ctx.config.liveSeconds))
  return { nodes: nodes.sort((a, b) => Number(b.live) - Number(a.live) || b.score - a.score) }
}
