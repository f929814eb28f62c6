import { z } from 'zod'
import { konbiniDomain } from './eip712.ts'
import { address, cidString, hex32, signature } from './schemas/common.ts'

type Hex = `0x${string}`

/**
 * An owner's signed permission to read one of its non-public roots: the primitive share links
 * build on. `grantee` is the one account it is for, or the zero address for whoever holds the
 * grant (a link). A meta node issues a download ticket for a private root only to its owner or to
 * a grant's holder; the grant's `id` names it (for revoking it later).
 */
export const accessGrantTypes = {
  AccessGrant: [
    { name: 'id', type: 'bytes32' },
    { name: 'owner', type: 'address' },
    { name: 'root', type: 'string' },
    { name: 'grantee', type: 'address' },
    { name: 'expiresAt', type: 'uint64' },
  ],
} as const

export const accessGrant = z.object({
  id: hex32,
  owner: address,
  root: cidString,
  /** The account allowed to read, or the zero address: anyone holding the grant. */
  grantee: address,
  expiresAt: z.number().int().positive(),
})
export type AccessGrant = z.infer<typeof accessGrant>
export const signedAccessGrant = z.object({ grant: accessGrant, signature })
export type SignedAccessGrant = z.infer<typeof signedAccessGrant>

/** Typed-data arguments for signing or verifying an access grant with viem. */
export function accessGrantTypedData(g: AccessGrant, chainId?: number) {
  return {
    domain: konbiniDomain(chainId),
    types: accessGrantTypes,
    primaryType: 'AccessGrant',
    message: { ...g, id: g.id as Hex, owner: g.owner as Hex, grantee: g.grantee as Hex, expiresAt: BigInt(g.expiresAt) },
  } as const
}
