import { InvalidRequestError, SignatureInvalidError, type SignedSessionGrant, sessionGrantTypedData } from '@konbini/protocol'
import { recoverTypedDataAddress } from 'viem'
import type { MetaContext } from './context.ts'

/** Longest a grant may last. */
const MAX_GRANT_SECONDS = 366 * 24 * 3600

/**
 * `POST /v1/grants`: a wallet's EIP-712 grant to a session key (a donor tab's operator key, a
 * client's key). From then on, until it expires, what that key's nodes earn goes to the wallet
 * and its downloads are paid from the wallet's credit. Only the wallet's own signature counts.
 */
export async function acceptGrant(ctx: MetaContext, signed: SignedSessionGrant): Promise<{ ok: true }> {
  const { grant, signature } = signed
  const now = ctx.now()
  if (grant.expiresAt <= now) throw new InvalidRequestError({ reason: 'the grant has expired' })
  if (grant.expiresAt > now + MAX_GRANT_SECONDS) throw new InvalidRequestError({ reason: 'a grant lasts at most a year' })
  if (grant.wallet.toLowerCase() === grant.sessionKey.toLowerCase()) throw new InvalidRequestError({ reason: 'a wallet needs no grant to itself' })
  const signer = await recoverTypedDataAddress({ ...sessionGrantTypedData(grant, ctx.config.chainId), signature: signature as `0x${string}` }).catch(
    () => undefined,
  )
  if (signer?.toLowerCase() !== grant.wallet.toLowerCase()) throw new SignatureInvalidError()
  await ctx.pot.putGrant(signed)
  ctx.metrics.inc('konbini_grants_accepted_total')
  return { ok: true }
}

/** `GET /v1/grants/{sessionKey}`: the grant valid now for that key, if any (public: grants ride in archives anyway). */
export async function grantOf(ctx: MetaContext, sessionKey: string): Promise<{ grant: SignedSessionGrant | null }> {
  const [grant] = await ctx.pot.grantsOf([sessionKey.toLowerCase()], ctx.now())
  return { grant: grant ?? null }
}
