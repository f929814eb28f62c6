import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { equals } from 'multiformats/bytes'
import { BlockHashMismatchError, BlockTooLargeError, InvalidCidError, UnsupportedCidError } from './errors.ts'
import { MAX_BLOCK_SIZE } from './ids.ts'

export const RAW_CODEC = 0x55
export const DAG_PB_CODEC = 0x70

/** Parses a CID string and checks Konbini can store it (sha2-256, raw or dag-pb). */
export function parseCid(value: string): CID {
  let cid: CID
  try {
    cid = CID.parse(value.trim())
  } catch {
    throw new InvalidCidError({ cid: value })
  }
  assertSupportedCid(cid)
  return cid
}

export function assertSupportedCid(cid: CID): void {
  if (cid.multihash.code !== sha256.code) throw new UnsupportedCidError({ cid: cid.toString(), reason: 'only sha2-256 hashes are served' })
  if (cid.code !== RAW_CODEC && cid.code !== DAG_PB_CODEC)
    throw new UnsupportedCidError({ cid: cid.toString(), reason: 'only raw and dag-pb blocks are served' })
}

/** Verifies that `bytes` are the block `cid` names; throws a named error otherwise. */
export async function verifyBlock(cid: CID, bytes: Uint8Array): Promise<void> {
  if (bytes.byteLength > MAX_BLOCK_SIZE) throw new BlockTooLargeError({ size: bytes.byteLength, max: MAX_BLOCK_SIZE })
  assertSupportedCid(cid)
  const digest = await sha256.digest(bytes)
  if (!equals(digest.digest, cid.multihash.digest)) throw new BlockHashMismatchError({ cid: cid.toString() })
}
