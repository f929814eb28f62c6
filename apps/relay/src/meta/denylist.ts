import { InvalidRequestError, NotAdminError, parseCid, type SignedOwnerRequest, SignatureInvalidError } from '@konbini/protocol'
import type { MetaContext } from './context.ts'
import { verifyOwnerRequest } from './verify-signatures.ts'

/** The roots light peers must not cache or serve. */
export async function getDenylist(ctx: MetaContext): Promise<{ roots: string[] }> {
  return { roots: await ctx.store.denylist() }
}

/**
 * Adds (`deny`) or removes (`allow`) a root on the denylist. The request is signed like an owner
 * request, by an address in `KONBINI_ADMINS`. Denying also forgets every light peer's copy.
 */
export async function changeDenylist(ctx: MetaContext, { request, signature }: SignedOwnerRequest): Promise<{ roots: string[] }> {
  if (request.action !== 'deny' && request.action !== 'allow') throw new InvalidRequestError({ reason: 'this route takes a "deny" or "allow" request' })
  const now = ctx.now()
  const signer = (await verifyOwnerRequest(request, signature, ctx.config.chainId, now)).toLowerCase()
  if (!ctx.config.admins.includes(signer)) throw new NotAdminError({ address: signer })
  if (!(await ctx.store.useNonce(signer, request.nonce, request.expiresAt, now))) throw new SignatureInvalidError()
  const root = parseCid(request.target).toString()
  if (request.action === 'deny') await ctx.store.deny(root, signer, now)
  else await ctx.store.allow(root)
  return getDenylist(ctx)
}
