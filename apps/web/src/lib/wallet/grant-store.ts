import { type SignedSessionGrant, signedSessionGrant } from '@konbini/protocol'

/** How long a tab's grant lasts: the wallet is asked again after that. */
export const GRANT_SECONDS = 30 * 24 * 3600

const keyOf = (sessionKey: string) => `konbini:grant:${sessionKey.toLowerCase()}`

/**
 * The grant this tab's session key holds for `wallet`, if one is remembered and still valid at
 * `now` (unix seconds): the wallet is asked once, and the grant is kept in localStorage per key.
 */
export function rememberedGrant(storage: Storage, sessionKey: string, wallet: string, now: number): SignedSessionGrant | undefined {
  let json: unknown
  try {
    json = JSON.parse(storage.getItem(keyOf(sessionKey)) ?? 'null')
  } catch {
    return undefined
  }
  const parsed = signedSessionGrant.safeParse(json)
  if (!parsed.success) return undefined
  const { grant } = parsed.data
  if (grant.wallet.toLowerCase() !== wallet.toLowerCase() || grant.sessionKey.toLowerCase() !== sessionKey.toLowerCase()) return undefined
  // a grant about to lapse is asked for again rather than used for a last minute
  return grant.expiresAt > now + 60 ? parsed.data : undefined
}

/** Keeps a grant the meta node accepted (one per session key: a new wallet's replaces the last). */
export function rememberGrant(storage: Storage, signed: SignedSessionGrant): void {
  storage.setItem(keyOf(signed.grant.sessionKey), JSON.stringify(signed))
}
