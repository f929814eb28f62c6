import { z } from 'zod'
import { CID } from 'multiformats/cid'
import { MAX_NAME_BYTES } from '../ids.ts'

export const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an EVM address')
export const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'a 32-byte hex string')
export const signature = z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'a 65-byte signature')
export const peerId = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{40,80}$/, 'a base58 libp2p peer id')
/** A CID string that multiformats can parse. */
export const cidString = z
  .string()
  .max(200)
  .refine((value) => {
    try {
      CID.parse(value)
      return true
    } catch {
      return false
    }
  }, 'a CID')
export const unixSeconds = z.number().int().nonnegative()
export const byteCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
export const region = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z0-9-]+$/)
export const fileName = z
  .string()
  .min(1)
  .refine((v) => new TextEncoder().encode(v).byteLength <= MAX_NAME_BYTES, `at most ${MAX_NAME_BYTES} bytes`)

export const errorBody = z.object({ error: z.object({ name: z.string(), message: z.string() }) })
export type ErrorBody = z.infer<typeof errorBody>
