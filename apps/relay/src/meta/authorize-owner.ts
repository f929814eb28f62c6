import { InvalidRequestError, type SignedOwnerRequest, SignatureInvalidError } from '@konbini/protocol'
import type { MetaContext } from './context.ts'
import { recoverOwnerRequestSigner } from './verify-signatures.ts'

/**
 * The owner a request acts for: signed by the owner itself, or by a session key the owner (a
 * wallet) authorized with a grant still valid (a browser acting for its wallet holds no wallet
 * key). Checks the action and the expiry, not the nonce (see `authorize`).
 */
export async function ownerOf(ctx: MetaContext, { request, signature }: SignedOwnerRequest, action: SignedOwnerRequest['request']['action']): Promise<string> {
  if (request.action !== action) throw new InvalidRequestError({ reason: `this route takes an "${action}" request` })
  const now = ctx.now()
  const owner = request.owner.toLowerCase()
  const signer = (await recoverOwnerRequestSigner(request, signature, ctx.config.chainId, now)).toLowerCase()
  if (signer !== owner) {
    const [granted] = await ctx.pot.grantsOf([signer], now)
    if (granted?.grant.wallet.toLowerCase() !== owner) throw new SignatureInvalidError()
  }
  return owner
}

/** `ownerOf`, and the request's nonce spent: a replayed request is refused (SignatureInvalidError). */
export async function authorize(ctx: MetaContext, signed: SignedOwnerRequest, action: SignedOwnerRequest['request']['action']): Promise<string> {
  const owner = await ownerOf(ctx, signed, action)
  await spendNonce(ctx, owner, signed)
  return owner
}

/** Spends a verified request's nonce; throws SignatureInvalidError when it was spent before. */
export async function spendNonce(ctx: MetaContext, owner: string, { request }: SignedOwnerRequest): Promise<void> {
  if (!(await ctx.store.useNonce(owner, request.nonce, request.expiresAt, ctx.now()))) throw new SignatureInvalidError()
}
