import {
  AccessDeniedError,
  accessGrantTypedData,
  InvalidRequestError,
  type ProvidersRequest,
  SignatureInvalidError,
  type SignedAccessGrant,
} from '@konbini/protocol'
import { recoverTypedDataAddress, zeroAddress } from 'viem'
import { authorize } from './authorize-owner.ts'
import type { MetaContext } from './context.ts'

/**
 * Throws unless the caller may read a root that is not public: its `auth` is the consumer's own
 * signed `read` request for this root (so nobody reads by naming someone else as consumer), and
 * the consumer pins the root itself, is a session key of a wallet that pins it, or holds an
 * owner's access grant for it.
 */
export async function assertMayRead(ctx: MetaContext, request: ProvidersRequest): Promise<void> {
  const consumer = request.consumer.toLowerCase()
  const denied = new AccessDeniedError({ cid: request.root, account: consumer })
  const { auth } = request
  if (auth === undefined) throw denied
  if (auth.request.target !== request.root || auth.request.owner.toLowerCase() !== consumer)
    throw new InvalidRequestError({ reason: 'the read request must name this root, for the consumer' })
  await authorize(ctx, auth, 'read')
  if ((await ctx.store.getFile(consumer, request.root)) !== undefined) return
  // a session key (a tab's) reads what the wallet that granted it pins
  const [session] = await ctx.pot.grantsOf([consumer], ctx.now())
  if (session !== undefined && (await ctx.store.getFile(session.grant.wallet.toLowerCase(), request.root)) !== undefined) return
  if (request.grant === undefined || !(await grantAllows(ctx, request.grant, request.root, consumer))) throw denied
}

/** Whether an access grant lets `consumer` read `root`: signed by (a session key of) an owner who pins it, unexpired, for this consumer or for anyone. */
async function grantAllows(ctx: MetaContext, { grant, signature }: SignedAccessGrant, root: string, consumer: string): Promise<boolean> {
  const now = ctx.now()
  if (grant.root !== root || grant.expiresAt <= now) return false
  const grantee = grant.grantee.toLowerCase()
  if (grantee !== consumer && grantee !== zeroAddress) return false
  const owner = grant.owner.toLowerCase()
  const signer = await recoverTypedDataAddress({ ...accessGrantTypedData(grant, ctx.config.chainId), signature: signature as `0x${string}` }).catch(() => {
    throw new SignatureInvalidError()
  })
  if (signer.toLowerCase() !== owner) {
    const [session] = await ctx.pot.grantsOf([signer.toLowerCase()], now)
    if (session?.grant.wallet.toLowerCase() !== owner) throw new SignatureInvalidError()
  }
  return (await ctx.store.getFile(owner, root)) !== undefined
}
